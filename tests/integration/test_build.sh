# test_build.sh - the Makefile on a machine that lacks build packages: a
# build whose pkg-config lookups fail stops before compiling anything,
# naming each missing module and its Debian package (pkg-config that
# finds no .pc files stands for a fresh Debian 12; tests/ship/fresh.sh
# runs the real thing). Builds nothing: every case must stop first.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
top=$(cd "$here/../.." && pwd)
mkdir -p "$T/nopc"

build() { # build [ENV=...] -- [MAKEVAR=...]: make of verdict into $T/b
	local envs=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	set +e
	env "${envs[@]}" make -C "$top" BUILD="$T/b" "$@" "$T/b/verdict" > "$T/out" 2> "$T/err"
	RC=$?
	set -e
}

# no .pc file anywhere: every library is missing
build PKG_CONFIG_LIBDIR="$T/nopc" PKG_CONFIG_PATH= --
assert_eq "no libraries: make fails" "$RC" 2
for m in "libcurl (Debian: libcurl4-openssl-dev)" "libpq (Debian: libpq-dev)" \
	"hiredis (Debian: libhiredis-dev)" "libpcre2-8 (Debian: libpcre2-dev)"; do
	assert_match "the message names $m" "$(cat "$T/err")" "$(printf '%s' "$m" | sed 's/[()]/\\&/g')"
done
assert_match "the message says how to install them" "$(cat "$T/err")" "make deps"
assert_eq "nothing was compiled" "$(find "$T/b" -name '*.o' 2> /dev/null | wc -l)" 0

# one module missing among present ones: only it is named
build -- PKGS="libcurl openssl no-such-module-xyz"
assert_eq "one module missing: make fails" "$RC" 2
assert_match "it is named" "$(cat "$T/err")" "not found by pkg-config: no-such-module-xyz \(Debian: see tests/deps.sh\)\."
assert_no_match "the present ones are not" "$(cat "$T/err")" "libcurl \("

# no pkg-config at all
build -- PKG_CONFIG=/nonexistent/pkg-config
assert_eq "no pkg-config: make fails" "$RC" 2
assert_match "pkg-config itself is named" "$(cat "$T/err")" "pkg-config \(Debian: pkg-config\)"
assert_eq "nothing compiled in any case" "$(find "$T/b" -name '*.o' 2> /dev/null | wc -l)" 0

# targets that compile nothing still work without the libraries
set +e
PKG_CONFIG_LIBDIR="$T/nopc" make -s -C "$top" -n clean > /dev/null 2>&1
RC=$?
set -e
assert_eq "make clean needs no library" "$RC" 0
finish
