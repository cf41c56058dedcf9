/*
 * fuzz_files.c - libFuzzer target: the env_file and json_file checks on
 * arbitrary file contents (through a memfd, run by the engine on a loop of
 * its own). Every input must end in exactly one result, pass or fail with
 * a one-line reason, and an env_file reason must never hold a value: each
 * value is compared with the reason. Built by `make fuzz` only.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../probe/probe.h"
#include "../../suites/suite.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ev_loop *loop;
static struct vd_prober *prober;
static struct vd_suite *suite;
static int fd = -1;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char json[1024], err[512];
	(void)argc;
	(void)argv;

	fd = memfd_create("fuzz-files", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	snprintf(json, sizeof(json),
		 "{\"checks\": ["
		 "{\"name\": \"env\", \"type\": \"env_file\", "
		 "\"path\": \"/proc/self/fd/%d\", \"max_body\": \"64KiB\", "
		 "\"require\": [\"SECRET_KEY\", \"DATABASE_URL\"], "
		 "\"forbid\": [\"DEBUG\"], \"placeholders\": [\"dummy*\"]},"
		 "{\"name\": \"json\", \"type\": \"json_file\", "
		 "\"path\": \"/proc/self/fd/%d\", \"max_body\": \"64KiB\", "
		 "\"require\": [\"a.b\", \"c.0\"], "
		 "\"equals\": {\"v\": \"1.2\", \"n\": 3}}]}",
		 fd, fd);
	if (vd_suite_parse(json, strlen(json), "fuzz.json", NULL, &suite, err,
			   sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	loop = ev_loop_new(EVFLAG_AUTO);
	prober = vd_prober_new(loop, NULL);
	return 0;
}

struct outcome {
	int calls;
	enum vd_status status;
	char reason[4096];
};

static void
done(const struct vd_check *chk, const struct vd_result *res, void *udata)
{
	struct outcome *o = udata;
	(void)chk;
	o->calls++;
	o->status = res->status;
	snprintf(o->reason, sizeof(o->reason), "%s", res->reason);
}

/* Values of lines "KEY=VALUE" (bare: no quote, blank or '#') holding a
 * character no key name or phrase of a reason has, for the "never print a
 * value" property (other values could occur in a reason by chance: a key
 * name, "line 3"). */
static void
assert_no_value(const uint8_t *data, size_t size, const char *reason)
{
	char *copy = strndup((const char *)data, size), *save = NULL, *ln;
	for (ln = strtok_r(copy, "\n", &save); ln;
	     ln = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(ln, '=');
		size_t n;
		if (eq == NULL || strpbrk(eq, "\"'#\\<\r \t"))
			continue;
		n = strlen(eq + 1);
		if (n >= 3 && strpbrk(eq + 1, "/@+,%!~^&*") &&
		    strstr(reason, eq + 1))
			abort();
	}
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome o;
	size_t i;

	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	for (i = 0; i < suite->nchecks; i++) {
		memset(&o, 0, sizeof(o));
		vd_probe_start(prober, suite->checks[i], done, &o);
		ev_run(loop, 0);
		if (o.calls != 1 || strchr(o.reason, '\n') ||
		    (o.status != VD_STATUS_PASS && o.status != VD_STATUS_FAIL))
			abort();
		if (i == 0)
			assert_no_value(data, size, o.reason);
	}
	return 0;
}
