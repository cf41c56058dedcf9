/*
 * fuzz_flow.c - libFuzzer target: the flow check's parser (a suite whose
 * flow's "steps" are the input), {{name}} scanning and filling, and the
 * captures from a body (JSON) and a cookie list (the input's lines).
 * Built by `make fuzz` only; depends on suites/, probe/checks and lib/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "../../lib/util.h"
#include "../../probe/checks/checks.h"
#include "../../suites/suite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {"token", "csrf", "a.b-c_d"};
static const char *const vals[] = {"v\"1\\", "", "{{token}}"};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = vd_xmalloc(size + 1), *suite, *f, *line, *save = NULL;
	struct vd_suite *st = NULL;
	struct curl_slist *l = NULL;
	char err[1200], why[200];
	int r;

	memcpy(s, data, size);
	s[size] = '\0';

	/* the parser: the input as a flow's steps */
	suite = vd_xasprintf("{\"checks\": [{\"name\": \"f\", \"type\": "
			     "\"flow\", \"steps\": %s}]}",
			     s);
	err[0] = '\0';
	r = vd_suite_parse(suite, strlen(suite), "fuzz.json", NULL, &st, err,
			   sizeof(err));
	if (r == 0)
		vd_suite_free(st);
	else if (err[0] == '\0' || st != NULL)
		abort(); /* a refusal always says why, and yields nothing */
	free(suite);

	/* templates: a scan that passes leaves nothing for fill to keep */
	why[0] = '\0';
	r = vd_flow_tmpl_scan(s, names, 3, why, sizeof(why));
	if (r < 0 && why[0] == '\0')
		abort();
	f = vd_flow_tmpl_fill(s, names, vals, 3, size % 2 == 0);
	if (strstr(s, "{{") == NULL && strcmp(f, s) != 0)
		abort();
	free(f);

	/* captures */
	f = vd_flow_capture_json(s, size, "token");
	free(f);
	f = vd_flow_capture_json(s, size, "items.0.id");
	free(f);
	for (line = strtok_r(s, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		l = curl_slist_append(l, line);
	f = vd_flow_cookie_pick(l, "sessionid", "app.test");
	free(f);
	curl_slist_free_all(l);
	vd_secret_clear();
	free(s);
	return 0;
}
