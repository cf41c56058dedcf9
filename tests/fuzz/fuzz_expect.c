/*
 * fuzz_expect.c - libFuzzer target: the operator parser and judge
 * (probe/expect.c) and the JSON path language (probe/checks/json_path.c).
 * Input: an expectation (JSON), a NUL, a document (JSON), a NUL, a dotted
 * path. A bad expectation must be refused with a message; a good one is
 * judged at the path. Built by `make fuzz` only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/cfg.h"
#include "../../probe/checks/checks.h"
#include "../../lib/match.h"
#include "../../lib/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = vd_xstrndup((const char *)data, size);
	size_t n = strlen(buf);
	const char *doc = n < size ? buf + n + 1 : "null";
	const char *path;
	cJSON *want, *root, *wrap;
	struct vd_cfg_err err;
	struct vd_expect *e = NULL;
	struct vd_cfg c;
	char why[500];

	/* vd_xstrndup stops at the first NUL: find the parts in data */
	if (n < size) {
		size_t m = strnlen((const char *)data + n + 1, size - n - 1);
		free(buf);
		buf = vd_xmalloc(size + 1);
		memcpy(buf, data, size);
		buf[size] = '\0';
		doc = buf + n + 1;
		path = n + 1 + m < size ? buf + n + 1 + m + 1 : "a";
	} else {
		path = "a";
	}
	want = cJSON_Parse(buf);
	root = cJSON_Parse(doc);
	wrap = cJSON_CreateObject();
	if (want != NULL)
		cJSON_AddItemToObject(wrap, "k", want);
	memset(&err, 0, sizeof(err));
	vd_cfg_init(&c, wrap, "f.json", "checks[0].expect.json", &err);
	if (want != NULL &&
	    vd_expect_parse(&c, "k", vd_cfg_take(&c, "k"), &e) < 0 &&
	    (!err.set || err.msg[0] == '\0'))
		abort(); /* a refusal must say why */
	vd_cfg_release(&c);
	if (e != NULL && *path && vd_json_path_ok(path)) {
		if (vd_json_expect(root, path, e, why, sizeof(why)) !=
			    VD_MATCH_YES &&
		    why[0] == '\0')
			abort(); /* a failure must say why */
	}
	vd_expect_free(e);
	cJSON_Delete(wrap);
	cJSON_Delete(root);
	free(buf);
	return 0;
}
