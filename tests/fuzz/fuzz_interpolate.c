/*
 * fuzz_interpolate.c - libFuzzer target: ${VAR} / ${VAR:-default} / $$
 * interpolation (vd_interpolate) and the comment stripper on arbitrary
 * strings. Built by `make fuzz` only; depends on suites/ and lib/util.
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
	setenv("FUZZ_A", "alpha", 1);
	setenv("FUZZ_TOKEN", "fuzz-token-value", 1);
	setenv("FUZZ_EMPTY", "", 1);
	setenv("FUZZ_DOLLAR", "${FUZZ_A}$$", 1); /* never re-interpolated */
	unsetenv("FUZZ_UNSET");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = vd_xmalloc(size + 1), *out, *copy;
	char why[200];

	memcpy(s, data, size);
	s[size] = '\0';
	why[0] = '\0';
	out = vd_interpolate(s, why, sizeof(why));
	if (out == NULL) {
		if (why[0] == '\0')
			abort();
	} else {
		/* without '$' the text is unchanged */
		if (strchr(s, '$') == NULL && strcmp(out, s) != 0)
			abort();
		free(out);
	}

	/* comments become spaces: the length and every newline stay */
	copy = vd_xstrdup(s);
	if (vd_json_strip_comments(copy, strlen(copy)) == 0) {
		size_t i, n = strlen(s);
		if (strlen(copy) != n)
			abort();
		for (i = 0; i < n; i++)
			if ((s[i] == '\n') != (copy[i] == '\n'))
				abort();
	}
	free(copy);
	free(s);
	vd_secret_clear();
	return 0;
}
