/*
 * json_file.c - the "json_file" check: a local JSON file (a deployment
 * manifest) parses, holds the required dotted paths and, optionally, the
 * expected values. Reads through env_file.c's small-file reader; knows
 * nothing of suites, reports or exporters.
 */
#include <stdlib.h>
#include <string.h>

#include "../../lib/cfg.h"
#include "../../lib/util.h"
#include "checks.h"

struct json_equals {
	char *path;
	cJSON *value;	     /* a literal: equal by value */
	struct vd_expect *e; /* or an operator object (value NULL) */
};

struct json_conf {
	char *path;
	char **require; /* dotted paths: "images.backend", "services.0.name" */
	size_t nrequire;
	struct json_equals *equals;
	size_t nequals;
};

static void
json_conf_free(void *p)
{
	struct json_conf *jc = p;
	size_t i;
	if (jc == NULL)
		return;
	free(jc->path);
	vd_strlist_free(jc->require, jc->nrequire);
	for (i = 0; i < jc->nequals; i++) {
		free(jc->equals[i].path);
		cJSON_Delete(jc->equals[i].value);
		vd_expect_free(jc->equals[i].e);
	}
	free(jc->equals);
	free(jc);
}

static void
pos_of(const char *text, size_t len, const char *at, int *line, int *col)
{
	const char *p;
	*line = 1;
	*col = 1;
	if (at == NULL || at < text || at > text + len)
		at = text + len;
	for (p = text; p < at; p++) {
		if (*p == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static void
add_finding(struct vd_buf *b, size_t *n, const char *s)
{
	if ((*n)++ < VD_CHECK_MAX_FINDINGS) {
		if (b->len)
			vd_buf_puts(b, "; ");
		vd_buf_puts(b, s);
	}
}

static void
json_start(struct vd_attempt *att)
{
	const struct vd_check *chk = att->check;
	const struct json_conf *jc = chk->conf;
	const char *end = NULL;
	struct vd_buf f;
	cJSON *root;
	size_t i, len = 0, nf = 0;
	char *text = NULL;

	if (!vd_check_file_read(att, jc->path, chk->max_body, &text, &len))
		return;
	if (len == 0 || strspn(text, " \t\r\n") == len) {
		vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_PROTOCOL,
				  "%s: empty file, expected JSON", jc->path);
		vd_check_file_free(text, len);
		return;
	}
	root = cJSON_ParseWithLengthOpts(text, len, &end, false);
	if (root != NULL && end != NULL) {
		/* only blanks may follow the document */
		size_t rest = (size_t)(text + len - end);
		size_t blanks = strspn(end, " \t\r\n");
		if (blanks < rest) {
			cJSON_Delete(root);
			root = NULL;
			end += blanks; /* where the trailing garbage starts */
		}
	}
	if (root == NULL) {
		int line, col;
		pos_of(text, len, end ? end : cJSON_GetErrorPtr(), &line, &col);
		vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_PROTOCOL,
				  "%s: not valid JSON: line %d, column %d",
				  jc->path, line, col);
		vd_check_file_free(text, len);
		return;
	}
	vd_check_file_free(text, len);

	vd_buf_init(&f, 0);
	for (i = 0; i < jc->nrequire; i++) {
		const cJSON *v = vd_json_at(root, jc->require[i]);
		if (v == NULL || cJSON_IsNull(v) ||
		    (cJSON_IsString(v) && *v->valuestring == '\0')) {
			char *s = vd_xasprintf("%s %s", jc->require[i],
					       v == NULL ? "missing" : "empty");
			add_finding(&f, &nf, s);
			free(s);
		}
	}
	for (i = 0; i < jc->nequals; i++) {
		const cJSON *v = vd_json_at(root, jc->equals[i].path);
		char *s, *w, *g;
		if (jc->equals[i].e) {
			char why[500];
			enum vd_match m = vd_json_expect(
				root, jc->equals[i].path, jc->equals[i].e, why,
				sizeof(why));
			if (m != VD_MATCH_YES)
				add_finding(&f, &nf, why);
			continue;
		}
		if (v != NULL && vd_json_equal(v, jc->equals[i].value))
			continue;
		w = vd_json_brief(jc->equals[i].value);
		if (v == NULL) {
			s = vd_xasprintf("%s missing, expected %s",
					 jc->equals[i].path, w);
		} else {
			g = vd_json_brief(v);
			s = vd_xasprintf("%s is %s, expected %s",
					 jc->equals[i].path, g, w);
			free(g);
		}
		add_finding(&f, &nf, s);
		free(s);
		free(w);
	}
	cJSON_Delete(root);
	vd_check_findings_finish(att, &f, nf,
				 "valid JSON, %zu paths present, %zu values "
				 "as expected",
				 jc->nrequire, jc->nequals);
	vd_buf_free(&f);
}

static void
json_cancel(struct vd_attempt *att)
{
	(void)att; /* everything happens inside start */
}

static int
parse_equals(struct vd_cfg *c, struct json_conf *jc)
{
	const cJSON *it = vd_cfg_take(c, "equals"), *el;
	size_t i = 0;

	if (it == NULL)
		return 0;
	if (!cJSON_IsObject(it))
		return vd_cfg_error(c, "equals",
				    "expected an object of dotted paths to "
				    "expected values");
	jc->equals = vd_xcalloc((size_t)cJSON_GetArraySize(it) + 1,
				sizeof(*jc->equals));
	cJSON_ArrayForEach(el, it) {
		if (!vd_json_path_ok(el->string)) {
			char key[300];
			snprintf(key, sizeof(key), "equals.%s", el->string);
			return vd_cfg_error(c, key, "invalid dotted path");
		}
		jc->equals[i].path = vd_xstrdup(el->string);
		jc->nequals = i + 1;
		if (vd_expect_is_ops(el)) {
			char key[300];
			snprintf(key, sizeof(key), "equals.%s", el->string);
			if (vd_expect_parse(c, key, el, &jc->equals[i].e) < 0)
				return VD_ERR_CONFIG;
			i++;
			continue;
		}
		jc->equals[i].value = cJSON_Duplicate(el, 1);
		if (jc->equals[i].value == NULL)
			abort();
		i++;
	}
	return 0;
}

static int
json_parse_conf(struct vd_check *chk, struct vd_cfg *c)
{
	struct json_conf *jc = vd_xcalloc(1, sizeof(*jc));
	size_t i;
	int r;

	chk->conf = jc;
	r = vd_check_file_path(c, &jc->path);
	if (!r)
		r = vd_cfg_strlist(c, "require", &jc->require, &jc->nrequire);
	for (i = 0; !r && i < jc->nrequire; i++)
		if (!vd_json_path_ok(jc->require[i]))
			r = vd_cfg_error(c, "require",
					 "\"%s\" is not a dotted path like "
					 "\"images.backend\"",
					 jc->require[i]);
	if (!r)
		r = parse_equals(c, jc);
	if (!r) {
		free(chk->target);
		chk->target = vd_mask(jc->path);
	}
	return r;
}

static const struct vd_check_key json_file_keys[] = {
	{"path", VD_KEY_REQUIRED}, {"require", 0}, {"equals", 0},
	{"max_body", 0},	   {NULL, 0},
};

const struct vd_check_type vd_check_json_file = {
	.name = "json_file",
	.parse = json_parse_conf,
	.start = json_start,
	.cancel = json_cancel,
	.free = json_conf_free,
	.keys = json_file_keys,
};
