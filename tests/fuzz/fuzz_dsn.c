/*
 * fuzz_dsn.c - libFuzzer target: a postgres check's DSN (URL or key=value,
 * as a suite or an environment variable hands it over) through the suite
 * loader: libpq's parser, the check's rewriting of it (host, port,
 * options, the target shown to people) and its error messages. Whenever
 * libpq finds a password in the DSN, neither the target nor an error may
 * show it. Built by `make fuzz` only; depends on suites/, probe/, libpq.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "../../lib/util.h"
#include "../../suites/suite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
absent(const char *text, const char *pw)
{
	if (text && pw && strlen(pw) >= VD_SECRET_MIN && !strchr(pw, '*') &&
	    strstr(text, pw)) {
		fprintf(stderr, "password \"%s\" shows in \"%s\"\n", pw, text);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *dsn = strndup((const char *)data, size), *text, *perr = NULL;
	char err[1200];
	cJSON *root = cJSON_CreateObject(), *checks, *chk;
	struct vd_suite *s = NULL;
	PQconninfoOption *opts, *o;
	const char *pw = NULL;

	checks = cJSON_AddArrayToObject(root, "checks");
	chk = cJSON_CreateObject();
	cJSON_AddStringToObject(chk, "name", "db");
	cJSON_AddStringToObject(chk, "type", "postgres");
	cJSON_AddStringToObject(chk, "dsn", dsn);
	cJSON_AddItemToArray(checks, chk);
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (text == NULL)
		abort();
	err[0] = '\0';
	(void)vd_suite_parse(text, strlen(text), "fuzz.json", NULL, &s, err,
			     sizeof(err));
	opts = PQconninfoParse(dsn, &perr);
	for (o = opts; o && o->keyword; o++)
		if (strcmp(o->keyword, "password") == 0)
			pw = o->val;
	absent(err, pw);
	if (s && s->nchecks == 1)
		absent(s->checks[0]->target, pw);
	PQconninfoFree(opts);
	PQfreemem(perr);
	vd_suite_free(s);
	vd_secret_clear();
	free(text);
	free(dsn);
	return 0;
}
