/*
 * json_path.c - dotted-path lookup ("checks.db", "items.0.id"), comparison
 * and short rendering of cJSON values, shared by the http and json_file
 * checks. Knows nothing of attempts, suites or reports.
 */
#include <stdlib.h>
#include <string.h>

#include "../util.h"
#include "checks.h"

const cJSON *
vd_json_at(const cJSON *root, const char *path)
{
	char *copy = vd_xstrdup(path), *save = NULL, *part;
	const cJSON *cur = root;

	for (part = strtok_r(copy, ".", &save); part && cur;
	     part = strtok_r(NULL, ".", &save)) {
		if (cJSON_IsArray(cur)) {
			char *end;
			long idx = strtol(part, &end, 10);
			cur = *end == '\0' && idx >= 0 && idx <= 0x7fffffff
				      ? cJSON_GetArrayItem(cur, (int)idx)
				      : NULL;
		} else if (cJSON_IsObject(cur)) {
			cur = cJSON_GetObjectItemCaseSensitive(cur, part);
		} else {
			cur = NULL;
		}
	}
	free(copy);
	return cur;
}

bool
vd_json_path_ok(const char *s)
{
	return *s != '\0' && s[0] != '.' && s[strlen(s) - 1] != '.' &&
	       strstr(s, "..") == NULL;
}

bool
vd_json_equal(const cJSON *got, const cJSON *want)
{
	if (cJSON_IsNumber(want))
		return cJSON_IsNumber(got) &&
		       got->valuedouble == want->valuedouble;
	return cJSON_Compare(got, want, true);
}

char *
vd_json_brief(const cJSON *v)
{
	char *s = cJSON_PrintUnformatted(v), *out;
	if (s == NULL)
		return vd_xstrdup("?");
	if (strlen(s) > 60)
		out = vd_xasprintf("%.57s...", s);
	else
		out = vd_xstrdup(s);
	free(s);
	return out;
}
