/*
 * fuzz_match.c - libFuzzer target: the matcher (lib/match.c). The input
 * is a pattern, a NUL byte, then a subject: the pattern is compiled (with
 * and without VD_REGEX_MULTILINE) and searched for, and its first group
 * captured. Every search must end within the matcher's limits; the
 * fuzzer's -timeout catches one that does not. Built by `make fuzz` only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/match.h"
#include "../../lib/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t plen = nul ? (size_t)(nul - data) : size;
	const char *subject = nul ? (const char *)nul + 1 : "";
	size_t slen = nul ? size - plen - 1 : 0;
	char *pattern = vd_xstrndup((const char *)data, plen);
	char err[200];
	unsigned flags;

	for (flags = 0; flags <= VD_REGEX_MULTILINE; flags++) {
		struct vd_regex *re =
			vd_regex_new(pattern, flags, err, sizeof(err));
		const char *limit = NULL;
		char *got = NULL;
		if (re == NULL) {
			if (err[0] == '\0')
				abort(); /* an error must say why */
			continue;
		}
		if (vd_regex_search(re, subject, slen, &limit) ==
			    VD_MATCH_LIMIT &&
		    limit == NULL)
			abort();
		if (vd_regex_capture(re, subject, slen, &got, &limit) ==
			    VD_MATCH_YES &&
		    got == NULL)
			abort();
		free(got);
		vd_regex_free(re);
	}
	free(pattern);
	return 0;
}
