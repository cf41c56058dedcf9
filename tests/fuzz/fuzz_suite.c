/*
 * fuzz_suite.c - libFuzzer target: the suite loader (vd_suite_parse) on
 * arbitrary bytes. Every input must end in a suite or in an error that
 * names the file; never a crash, a leak, or an abort. Built by `make fuzz`
 * only; depends on suites/ and probe/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/util.h"
#include "../../suites/suite.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* the seed corpus and the dictionary refer to these */
	setenv("FUZZ_URL", "http://127.0.0.1:9", 1);
	setenv("FUZZ_TOKEN", "fuzz-token-value", 1);
	setenv("FUZZ_PASSWORD", "fuzz-password", 1);
	setenv("FUZZ_EMPTY", "", 1);
	unsetenv("FUZZ_UNSET");
	return 0;
}

static void
check_suite(const struct vd_suite *s)
{
	size_t i, j;

	if (s->name == NULL || s->root == NULL)
		abort();
	for (i = 0; i < s->nchecks; i++) {
		const struct vd_check *c = s->checks[i];
		if (c->name == NULL || c->type == NULL || c->stage == NULL ||
		    c->target == NULL || c->stage_index >= s->nstages ||
		    strcmp(s->stages[c->stage_index], c->stage) != 0 ||
		    c->timeout <= 0 || c->retries < 0)
			abort();
		for (j = 0; j < i; j++)
			if (strcmp(s->checks[j]->name, c->name) == 0)
				abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const extra[] = {"serve", NULL};
	struct vd_suite_load_opts opts = {.extra_keys = extra};
	struct vd_suite *s = NULL;
	char err[1200];
	int r;

	r = vd_suite_parse((const char *)data, size, "fuzz.json", &opts, &s,
			   err, sizeof(err));
	if (r == 0) {
		if (s == NULL)
			abort();
		check_suite(s);
		vd_suite_free(s);
	} else if (r != VD_ERR_CONFIG || s != NULL ||
		   strncmp(err, "fuzz.json: ", 11) != 0) {
		fprintf(stderr, "bad error: %d %s\n", r, err);
		abort();
	}
	/* interpolation and URLs register secrets process-wide */
	vd_secret_clear();
	return 0;
}
