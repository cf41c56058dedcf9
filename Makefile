# verdict - one hand-written Makefile.
#   make            build ./verdict
#   make check      install missing Debian packages, build with -Werror and
#                   ASan+UBSan, run unit and integration tests
#   make demo       run suites/demo.json against a local target
#   make bench      benchmarks (figures for people, never asserted)
#   make install    honours PREFIX and DESTDIR

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DESTDIR ?=
BUILD   ?= build
CC      ?= cc
PKG_CONFIG ?= pkg-config

PKGS     = libcurl openssl libpq hiredis libcjson libpcre2-8 zlib
WARNINGS = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wno-unused-parameter
OPT     ?= -O2 -g

ifneq ($(WERROR),)
WARNINGS += -Werror
endif
ifneq ($(SANITIZE),)
SANFLAGS = -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

# The flags are looked up once, when make reads this file; the targets that
# install packages first (check, demo, bench) run $(MAKE) again after
# `deps`, so that those lookups see what was just installed. A module
# pkg-config cannot find is named by the pkg-flags rule below, which every
# compile and link waits for: the build stops before the first compiler
# error instead of failing on a missing header.
pkg_missing = $(shell command -v $(PKG_CONFIG) >/dev/null 2>&1 || \
	{ echo pkg-config; exit 0; }; \
	for m in $(1); do $(PKG_CONFIG) --exists $$m || echo $$m; done)
PKG_MISSING   := $(call pkg_missing,$(PKGS))
CHECK_MISSING := $(call pkg_missing,check libxml-2.0)
# Debian's package for a pkg-config module (tests/deps.sh installs them)
DEB_pkg-config = pkg-config
DEB_libcurl = libcurl4-openssl-dev
DEB_openssl = libssl-dev
DEB_libpq = libpq-dev
DEB_hiredis = libhiredis-dev
DEB_libcjson = libcjson-dev
DEB_check = check
DEB_libxml-2.0 = libxml2-dev
DEB_libpcre2-8 = libpcre2-dev
DEB_zlib = zlib1g-dev
pkg_names = $(foreach m,$(1),$(m) (Debian: $(or $(DEB_$(m)),see tests/deps.sh)))
pkg_error = not found by pkg-config: $(call pkg_names,$(1)). As root, \
	`make deps` installs every package the build needs

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CHECK_CFLAGS := $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell $(PKG_CONFIG) --libs check 2>/dev/null)
# libxml2: the unit tests parse the JUnit report with a real XML parser
CHECK_CFLAGS += $(shell $(PKG_CONFIG) --cflags libxml-2.0 2>/dev/null)
CHECK_LIBS   += $(shell $(PKG_CONFIG) --libs libxml-2.0 2>/dev/null)

ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE $(OPT) $(WARNINGS) $(SANFLAGS) \
             $(PKG_CFLAGS) -MMD -MP $(CFLAGS)
ALL_LDFLAGS = $(SANFLAGS) $(LDFLAGS)
LIBS_ALL = $(PKG_LIBS) -lev -lm $(LIBS)
# libcrypt: crypt(3) password hashes for the exporter's basic auth
LIBS_ALL += -lcrypt

LIB_SRCS = $(wildcard lib/*.c probe/*.c probe/checks/*.c probe/report/*.c \
                      suites/*.c exporter/*.c deployer/*.c)
LIB_OBJS = $(LIB_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS = $(wildcard tests/unit/*.c)
UNIT_OBJS = $(UNIT_SRCS:%.c=$(BUILD)/%.o)
TOOL_SRCS = $(wildcard tests/tools/*.c)
TOOLS = $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)

.PHONY: all check check-build deps unit integration demo bench install \
        uninstall clean lint check-deps fuzz check-fresh deb \
        check-deb check-image

all: verdict

verdict: $(BUILD)/verdict
	cp $< $@

$(BUILD)/verdict: $(BUILD)/verdict.o $(BUILD)/libverdict.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_ALL)

$(BUILD)/libverdict.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(OBJ_CFLAGS) -c -o $@ $<

# Check's and libxml2's flags only where the unit tests are compiled
$(UNIT_OBJS): OBJ_CFLAGS = $(CHECK_CFLAGS)

# Nothing is compiled or linked while a pkg-config lookup has failed.
.PHONY: pkg-flags pkg-flags-unit
pkg-flags:
	$(if $(PKG_MISSING),$(error $(call pkg_error,$(PKG_MISSING))))@:
pkg-flags-unit: pkg-flags
	$(if $(CHECK_MISSING),$(error $(call pkg_error,$(CHECK_MISSING))))@:
$(LIB_OBJS) $(BUILD)/verdict.o $(BUILD)/verdict $(TOOLS): | pkg-flags
$(UNIT_OBJS) $(BUILD)/check_unit: | pkg-flags-unit

$(BUILD)/check_unit: $(UNIT_OBJS) $(BUILD)/libverdict.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LIBS_ALL)

$(BUILD)/tools/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(ALL_LDFLAGS) $(LIBS_ALL)

# An LD_PRELOAD shim (tests/bench/mixed_bench.sh), not a program: in
# $(TOOLS) through the wildcard, built here without sanitizers.
$(BUILD)/tools/slowdns.so: tests/tools/slowdns.so.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE $(OPT) $(WARNINGS) -shared -fPIC -o $@ $< -ldl

# --- tests -------------------------------------------------------------
# `make check` is what CI runs (.ci/run). It installs what is missing
# (Debian packages, as root), builds a sanitized, -Werror tree in
# build/check, then runs the unit tests and the integration tests, which
# start their own servers on loopback.
CHECK_BUILD = build/check

CHECK_VARS = BUILD=$(CHECK_BUILD) WERROR=1 SANITIZE=address,undefined OPT="-O1 -g"

check: deps
	$(MAKE) check-build $(CHECK_VARS)
	$(MAKE) check-deps
	$(MAKE) lint
	$(MAKE) unit $(CHECK_VARS)
	$(MAKE) fuzz FUZZ_SECONDS=15
	$(MAKE) integration $(CHECK_VARS)

check-build: $(BUILD)/verdict $(BUILD)/check_unit $(TOOLS)

deps:
	@sh tests/deps.sh

unit: $(BUILD)/check_unit
	ASAN_OPTIONS=detect_leaks=1 $(BUILD)/check_unit

integration: $(BUILD)/verdict $(TOOLS)
	VERDICT=$(abspath $(BUILD)/verdict) TOOLS=$(abspath $(BUILD)/tools) \
		sh tests/integration/run.sh

# The prober must not include anything above it; suites/ sees only the
# prober; only verdict.c includes everything.
check-deps:
	@! grep -nE '#include *"(\.\./)*(probe|suites|exporter|deployer)/' lib/*.[ch] \
		|| { echo "check-deps: lib/ includes a module above it"; exit 1; }
	@! grep -nE '#include *"(\.\./)*(suites|exporter|deployer)/' probe/*.[ch] probe/*/*.[ch] \
		|| { echo "check-deps: probe/ includes a module above it"; exit 1; }
	@! grep -nE '#include *"(\.\./)*(exporter|deployer)/' suites/*.[ch] \
		|| { echo "check-deps: suites/ includes exporter/ or deployer/"; exit 1; }
	@echo "check-deps: ok"

# demo and bench install what is missing, then build in a new make that
# reads the pkg-config flags of the packages just installed.
demo: deps
	@$(MAKE) --no-print-directory verdict $(BUILD)/tools/faultd
	@BUILD=$(BUILD) sh tests/demo.sh

bench: deps
	$(MAKE) verdict $(TOOLS) $(BUILD)/match_bench
	VERDICT=$(abspath verdict) TOOLS=$(abspath $(BUILD)/tools) sh tests/bench/run.sh

# the matcher against glibc's regexec on a 1 MiB body (match_bench.sh)
$(BUILD)/match_bench: tests/bench/match_bench.c $(BUILD)/libverdict.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(LIBS_ALL)

# The README's first commands on a fresh Debian 12 chroot (root, network
# to Debian's mirror, 10-20 minutes): tests/ship/fresh.sh. Not in check.
check-fresh:
	sh tests/ship/fresh.sh

# `make fuzz`: every tests/fuzz/fuzz_*.c linked with clang's libFuzzer
# against a libverdict.a that clang builds with coverage, ASan and UBSan
# in build/fuzz; each runs FUZZ_SECONDS from its seed corpus
# (tests/fuzz/corpus/NAME; what it learns goes to build/fuzz/corpus/NAME).
# A crash, a timeout or an out-of-memory leaves build/fuzz/NAME-crash-*
# (or -timeout-*, -oom-*) and fails the target; every target runs, then
# `make fuzz` fails if any failed.
FUZZ_BUILD = build/fuzz
FUZZ_SECONDS ?= 20
FUZZ_TARGETS = $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

.PHONY: fuzz-build
fuzz:
	$(MAKE) fuzz-build BUILD=$(FUZZ_BUILD) CC=clang OPT="-O1 -g" \
		SANITIZE=fuzzer-no-link,address,undefined
	@failed=; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
		dict=; [ -f tests/fuzz/$$t.dict ] && dict=-dict=tests/fuzz/$$t.dict; \
		seeds=; [ -d tests/fuzz/corpus/$$t ] && seeds=tests/fuzz/corpus/$$t; \
		echo "fuzz: $$t for $(FUZZ_SECONDS)s (log: $(FUZZ_BUILD)/$$t.log)"; \
		if $(FUZZ_BUILD)/$$t -max_len=65536 -max_total_time=$(FUZZ_SECONDS) \
			-timeout=10 -rss_limit_mb=2048 $$dict \
			-artifact_prefix=$(FUZZ_BUILD)/$$t- \
			$(FUZZ_BUILD)/corpus/$$t $$seeds \
			>$(FUZZ_BUILD)/$$t.log 2>&1; then \
			grep -E '^Done [0-9]+ runs' $(FUZZ_BUILD)/$$t.log || true; \
		else \
			tail -n 60 $(FUZZ_BUILD)/$$t.log; failed="$$failed $$t"; \
		fi; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: failed:$$failed"; exit 1; fi

fuzz-build: $(FUZZ_TARGETS:%=$(BUILD)/%)

$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(BUILD)/libverdict.a
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(ALL_LDFLAGS) $(LIBS_ALL)

# clang-format, cppcheck and clang-tidy (.clang-tidy says which checks and
# why); each finding fails the build. LINT_JOBS clang-tidy processes.
LINT_JOBS ?= 2
TIDY_FLAGS = -std=gnu11 -D_GNU_SOURCE $(PKG_CFLAGS)
LINT_SRCS = verdict.c $(LIB_SRCS)
lint: | pkg-flags
	clang-format --dry-run --Werror $(LINT_SRCS) $(wildcard lib/*.h probe/*.h probe/*/*.h suites/*.h exporter/*.h deployer/*.h)
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--suppress=missingIncludeSystem -I. \
		--include=/usr/include/cjson/cJSON.h \
		--include=/usr/include/x86_64-linux-gnu/sys/queue.h \
		$(LINT_SRCS)
	printf '%s\n' $(LINT_SRCS) | xargs -P $(LINT_JOBS) -I{} \
		sh -c 'clang-tidy --quiet "$$1" -- $(TIDY_FLAGS) 2>/dev/null' sh {}

# The binary, the manuals, the shell completions, the documentation with
# the examples, and the suite schema. The package (make deb) uses it too.
MAN1 = docs/verdict.1 docs/verdict-serve.1 docs/verdict-deploy.1
MAN5 = docs/verdict-suite.5
DOCS = README.md CHANGELOG.md $(wildcard docs/*.md)
EXAMPLES = $(wildcard examples/*) suites/staging.json suites/demo.json
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
DOCDIR      ?= $(PREFIX)/share/doc/verdict
DATADIR     ?= $(PREFIX)/share/verdict

# VERDICT_BIN: the binary to install (the package gives its own build's)
VERDICT_BIN ?= verdict

install: $(VERDICT_BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR) \
		$(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DATADIR)
	install -m 0755 $(VERDICT_BIN) $(DESTDIR)$(BINDIR)/verdict
	install -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 completions/verdict.bash $(DESTDIR)$(BASHCOMPDIR)/verdict
	install -m 0644 completions/_verdict $(DESTDIR)$(ZSHCOMPDIR)/_verdict
	install -m 0644 completions/verdict.fish $(DESTDIR)$(FISHCOMPDIR)/verdict.fish
	install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	install -m 0644 $(EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/
	install -m 0644 suites/suite.schema.json $(DESTDIR)$(DATADIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/verdict \
		$(MAN1:docs/%=$(DESTDIR)$(MANDIR)/man1/%) \
		$(MAN5:docs/%=$(DESTDIR)$(MANDIR)/man5/%) \
		$(DESTDIR)$(BASHCOMPDIR)/verdict $(DESTDIR)$(ZSHCOMPDIR)/_verdict \
		$(DESTDIR)$(FISHCOMPDIR)/verdict.fish
	rm -rf $(DESTDIR)$(DOCDIR) $(DESTDIR)$(DATADIR)

# A Debian package of what install installs, plus a systemd unit:
# verdict_VERSION_amd64.deb in the top folder (packaging/deb/build.sh).
deb:
	sh packaging/deb/build.sh

# The package installed with apt-get into a fresh Debian 12 chroot and
# used there (root, Debian's mirror): tests/ship/deb.sh. Not in check.
check-deb:
	sh tests/ship/deb.sh

# The Dockerfile built with podman over a debootstrap base and run from
# its exported file system as its user (root, podman, Debian's mirror):
# tests/ship/image.sh. Not in check.
check-image:
	sh tests/ship/image.sh

clean:
	rm -rf build verdict verdict_*.deb

-include $(LIB_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(BUILD)/verdict.d
