/*
 * json_path.c - dotted-path lookup ("checks.db", "items.0.id"), comparison
 * and short rendering of cJSON values, shared by the http and json_file
 * checks. Knows nothing of attempts, suites or reports.
 */
#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "../../lib/match.h"
#include "../../lib/util.h"
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

static size_t
select_at(const cJSON *cur, char **parts, size_t nparts, size_t i, char *path,
	  size_t plen, size_t pcap, vd_json_visit *fn, void *arg, bool *stop)
{
	const cJSON *el;
	size_t n = 0, k = 0;
	int w;

	if (*stop || cur == NULL)
		return 0;
	if (i == nparts) {
		path[plen] = '\0';
		if (!fn(cur, path, arg))
			*stop = true;
		return 1;
	}
	if (strcmp(parts[i], "*") != 0) {
		const cJSON *next = NULL;
		if (cJSON_IsArray(cur)) {
			char *end;
			long idx = strtol(parts[i], &end, 10);
			if (*end == '\0' && end != parts[i] && idx >= 0 &&
			    idx <= 0x7fffffff)
				next = cJSON_GetArrayItem(cur, (int)idx);
		} else if (cJSON_IsObject(cur)) {
			next = cJSON_GetObjectItemCaseSensitive(cur, parts[i]);
		}
		w = snprintf(path + plen, pcap - plen, "%s%s", plen ? "." : "",
			     parts[i]);
		if (w < 0 || (size_t)w >= pcap - plen)
			return 0;
		return select_at(next, parts, nparts, i + 1, path,
				 plen + (size_t)w, pcap, fn, arg, stop);
	}
	if (!cJSON_IsArray(cur) && !cJSON_IsObject(cur))
		return 0;
	cJSON_ArrayForEach(el, cur) {
		if (cJSON_IsArray(cur))
			w = snprintf(path + plen, pcap - plen, "%s%zu",
				     plen ? "." : "", k++);
		else
			w = snprintf(path + plen, pcap - plen, "%s%s",
				     plen ? "." : "", el->string);
		if (w < 0 || (size_t)w >= pcap - plen)
			continue;
		n += select_at(el, parts, nparts, i + 1, path, plen + (size_t)w,
			       pcap, fn, arg, stop);
	}
	return n;
}

size_t
vd_json_select(const cJSON *root, const char *path, vd_json_visit *fn,
	       void *arg)
{
	char *copy = vd_xstrdup(path), *save = NULL, *part, **parts = NULL;
	char where[512];
	size_t nparts = 0, n;
	bool stop = false;

	for (part = strtok_r(copy, ".", &save); part;
	     part = strtok_r(NULL, ".", &save)) {
		parts = vd_xreallocarray(parts, nparts + 1, sizeof(*parts));
		parts[nparts++] = part;
	}
	n = select_at(root, parts, nparts, 0, where, 0, sizeof(where), fn, arg,
		      &stop);
	free(parts);
	free(copy);
	return n;
}

bool
vd_json_path_wild(const char *path)
{
	const char *p = path;
	for (p = strchr(p, '*'); p; p = strchr(p + 1, '*'))
		if ((p == path || p[-1] == '.') &&
		    (p[1] == '\0' || p[1] == '.'))
			return true;
	return false;
}

struct judging {
	const struct vd_expect *e;
	enum vd_match m;
	char *why;
	size_t len;
};

static bool
judge_one(const cJSON *v, const char *path, void *arg)
{
	struct judging *j = arg;
	char why[400];
	j->m = vd_expect_judge(j->e, v, why, sizeof(why));
	if (j->m == VD_MATCH_YES)
		return true;
	snprintf(j->why, j->len, "%s: %s", path, why);
	return false;
}

enum vd_match
vd_json_expect(const cJSON *root, const char *path, const struct vd_expect *e,
	       char *why, size_t len)
{
	struct judging j = {e, VD_MATCH_YES, why, len};
	char w[400];

	if (!vd_json_path_wild(path)) {
		j.m = vd_expect_judge(e, vd_json_at(root, path), w, sizeof(w));
		if (j.m != VD_MATCH_YES)
			snprintf(why, len, "%s: %s", path, w);
		return j.m;
	}
	/* every value at a "*" path must hold; none at all is "missing" */
	if (vd_json_select(root, path, judge_one, &j) == 0 &&
	    !vd_expect_wants_absent(e)) {
		snprintf(why, len, "%s: missing (no values)", path);
		return VD_MATCH_NO;
	}
	return j.m;
}

bool
vd_json_path_ok(const char *s)
{
	return *s != '\0' && s[0] != '.' && s[strlen(s) - 1] != '.' &&
	       strstr(s, "..") == NULL;
}
