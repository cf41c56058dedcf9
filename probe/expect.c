/*
 * expect.c - the matcher's operators on JSON values (see match.h): a
 * scalar means equals; an object is a set of operators that must all hold
 * (equals, not, lt/le/gt/ge, exists, contains, regex, one_of, type,
 * length, any, all). Parsed once at load with errors naming the place;
 * judged with a reason that says what was found. Depends on libc, cJSON,
 * cfg.h and match.c only.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/cfg.h"
#include "../lib/match.h"
#include "../lib/util.h"

enum op_kind {
	OP_EQUALS,
	OP_NOT,
	OP_LT,
	OP_LE,
	OP_GT,
	OP_GE,
	OP_EXISTS,
	OP_CONTAINS,
	OP_REGEX,
	OP_ONE_OF,
	OP_TYPE,
	OP_LENGTH,
	OP_ANY,
	OP_ALL,
};

static const char *const op_names[] = {
	[OP_EQUALS] = "equals", [OP_NOT] = "not",
	[OP_LT] = "lt",		[OP_LE] = "le",
	[OP_GT] = "gt",		[OP_GE] = "ge",
	[OP_EXISTS] = "exists", [OP_CONTAINS] = "contains",
	[OP_REGEX] = "regex",	[OP_ONE_OF] = "one_of",
	[OP_TYPE] = "type",	[OP_LENGTH] = "length",
	[OP_ANY] = "any",	[OP_ALL] = "all",
};

static const char *const op_signs[] = {
	[OP_LT] = "<",
	[OP_LE] = "<=",
	[OP_GT] = ">",
	[OP_GE] = ">=",
};

struct op {
	enum op_kind kind;
	cJSON *value;	       /* equals, not, contains, one_of, exists, type */
	double num;	       /* lt, le, gt, ge */
	struct vd_regex *re;   /* regex */
	struct vd_expect *sub; /* length, any, all */
};

struct vd_expect {
	struct op *ops;
	size_t nops;
};

#define EXPECT_MAX_DEPTH 8 /* nesting of length/any/all */

static const char *const type_names[] = {"string", "number", "boolean",
					 "null",   "array",  "object"};

static const char *
type_of(const cJSON *v)
{
	if (cJSON_IsString(v))
		return "string";
	if (cJSON_IsNumber(v))
		return "number";
	if (cJSON_IsBool(v))
		return "boolean";
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsArray(v))
		return "array";
	return "object";
}

/* "a string", "an array" */
static const char *
article(const char *type)
{
	return (type[0] == 'a' || type[0] == 'o') ? "an" : "a";
}

/* A number, or a string holding a number, a duration or a size. */
static bool
as_number(const cJSON *v, double *out)
{
	const char *s;
	char *end;
	size_t sz;

	if (cJSON_IsNumber(v)) {
		*out = v->valuedouble;
		return true;
	}
	if (!cJSON_IsString(v))
		return false;
	s = v->valuestring;
	*out = strtod(s, &end);
	if (end != s && *end == '\0' && isfinite(*out))
		return true;
	if (vd_parse_duration(s, out) == 0)
		return true;
	if (vd_parse_size(s, &sz) == 0) {
		*out = (double)sz;
		return true;
	}
	return false;
}

bool
vd_json_equal(const cJSON *a, const cJSON *b)
{
	if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
		return a->valuedouble == b->valuedouble;
	return cJSON_Compare(a, b, true);
}

char *
vd_json_brief(const cJSON *v)
{
	char *s = cJSON_PrintUnformatted(v), *out;
	if (s == NULL)
		return vd_xstrdup("?");
	/* masked, then cut: cutting first could leave a secret's start */
	out = vd_mask_brief(s, 60);
	vd_free_secret(s);
	return out;
}

void
vd_expect_free(struct vd_expect *e)
{
	size_t i;
	if (e == NULL)
		return;
	for (i = 0; i < e->nops; i++) {
		cJSON_Delete(e->ops[i].value);
		vd_regex_free(e->ops[i].re);
		vd_expect_free(e->ops[i].sub);
	}
	free(e->ops);
	free(e);
}

static int parse(struct vd_cfg *c, const char *key, const cJSON *v, int depth,
		 struct vd_expect **out);

static int
parse_op(struct vd_cfg *c, const char *key, const cJSON *v, int depth,
	 struct op *op)
{
	char sub[400], err[200];
	size_t k;

	snprintf(sub, sizeof(sub), "%s.%s", key, v->string);
	for (k = 0; k < sizeof(op_names) / sizeof(op_names[0]); k++)
		if (strcmp(v->string, op_names[k]) == 0)
			break;
	if (k == sizeof(op_names) / sizeof(op_names[0]))
		return vd_cfg_error(c, sub,
				    "unknown operator (expected equals, not, "
				    "lt, le, gt, ge, exists, contains, regex, "
				    "one_of, type, length, any or all)");
	op->kind = (enum op_kind)k;
	switch (op->kind) {
	case OP_EQUALS:
	case OP_NOT:
	case OP_CONTAINS:
		op->value = cJSON_Duplicate(v, 1);
		return 0;
	case OP_LT:
	case OP_LE:
	case OP_GT:
	case OP_GE:
		if (!as_number(v, &op->num))
			return vd_cfg_error(c, sub,
					    "expected a number, a duration "
					    "(\"250ms\") or a size (\"1MiB\")");
		return 0;
	case OP_EXISTS:
		if (!cJSON_IsBool(v))
			return vd_cfg_error(c, sub, "expected true or false");
		op->value = cJSON_Duplicate(v, 1);
		return 0;
	case OP_REGEX:
		if (!cJSON_IsString(v))
			return vd_cfg_error(c, sub, "expected a string");
		op->re = vd_regex_new(v->valuestring, 0, err, sizeof(err));
		if (op->re == NULL)
			return vd_cfg_error(
				c, sub, "invalid regular expression: %s", err);
		return 0;
	case OP_ONE_OF:
		if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
			return vd_cfg_error(
				c, sub, "expected a non-empty list of values");
		op->value = cJSON_Duplicate(v, 1);
		return 0;
	case OP_TYPE:
		for (k = 0; cJSON_IsString(v) &&
			    k < sizeof(type_names) / sizeof(type_names[0]);
		     k++)
			if (strcmp(v->valuestring, type_names[k]) == 0)
				break;
		if (!cJSON_IsString(v) ||
		    k == sizeof(type_names) / sizeof(type_names[0]))
			return vd_cfg_error(c, sub,
					    "expected one of string, number, "
					    "boolean, null, array, object");
		op->value = cJSON_Duplicate(v, 1);
		return 0;
	case OP_LENGTH:
		if (cJSON_IsNumber(v) &&
		    (v->valuedouble < 0 ||
		     v->valuedouble != floor(v->valuedouble)))
			return vd_cfg_error(c, sub,
					    "expected a whole number or an "
					    "operator object");
		/* fall through */
	case OP_ANY:
	case OP_ALL:
		if (op->kind != OP_LENGTH && !cJSON_IsObject(v))
			return vd_cfg_error(c, sub,
					    "expected an operator object "
					    "({\"gt\": 0}, ...)");
		if (depth >= EXPECT_MAX_DEPTH)
			return vd_cfg_error(c, sub, "nested too deeply");
		return parse(c, sub, v, depth + 1, &op->sub);
	}
	return 0;
}

static int
parse(struct vd_cfg *c, const char *key, const cJSON *v, int depth,
      struct vd_expect **out)
{
	struct vd_expect *e = vd_xcalloc(1, sizeof(*e));
	const cJSON *el;
	int r = 0;

	*out = e;
	if (!cJSON_IsObject(v)) {
		/* a scalar (or a list) means equals */
		e->ops = vd_xcalloc(1, sizeof(*e->ops));
		e->nops = 1;
		e->ops[0].kind = OP_EQUALS;
		e->ops[0].value = cJSON_Duplicate(v, 1);
		return 0;
	}
	if (cJSON_GetArraySize(v) == 0)
		return vd_cfg_error(c, key, "expected at least one operator");
	e->ops = vd_xcalloc((size_t)cJSON_GetArraySize(v), sizeof(*e->ops));
	cJSON_ArrayForEach(el, v) {
		r = parse_op(c, key, el, depth, &e->ops[e->nops]);
		e->nops++;
		if (r < 0)
			return r;
	}
	return 0;
}

bool
vd_expect_is_ops(const cJSON *v)
{
	const cJSON *el;
	size_t k;
	if (!cJSON_IsObject(v) || v->child == NULL)
		return false;
	cJSON_ArrayForEach(el, v) {
		for (k = 0; k < sizeof(op_names) / sizeof(op_names[0]); k++)
			if (strcmp(el->string, op_names[k]) == 0)
				break;
		if (k == sizeof(op_names) / sizeof(op_names[0]))
			return false;
	}
	return true;
}

int
vd_expect_parse(struct vd_cfg *c, const char *key, const cJSON *v,
		struct vd_expect **out)
{
	int r = parse(c, key, v, 0, out);
	if (r < 0) {
		vd_expect_free(*out);
		*out = NULL;
	}
	return r;
}

bool
vd_expect_wants_absent(const struct vd_expect *e)
{
	size_t i;
	for (i = 0; i < e->nops; i++)
		if (e->ops[i].kind == OP_EXISTS &&
		    cJSON_IsFalse(e->ops[i].value))
			return true;
	return false;
}

static enum vd_match judge(const struct vd_expect *e, const cJSON *got,
			   char *why, size_t len);

static enum vd_match
judge_op(const struct op *op, const cJSON *got, char *why, size_t len)
{
	char *g, *w;
	double n;
	const cJSON *el;
	const char *limit = NULL;
	enum vd_match m;
	int i;

	switch (op->kind) {
	case OP_EXISTS:
		return VD_MATCH_YES; /* judged by the caller */
	case OP_EQUALS:
	case OP_NOT:
		if (vd_json_equal(got, op->value) == (op->kind == OP_EQUALS))
			return VD_MATCH_YES;
		g = vd_json_brief(got);
		w = vd_json_brief(op->value);
		if (op->kind == OP_EQUALS)
			snprintf(why, len, "got %s, expected %s", g, w);
		else
			snprintf(why, len, "got %s, expected anything else", g);
		free(g);
		free(w);
		return VD_MATCH_NO;
	case OP_LT:
	case OP_LE:
	case OP_GT:
	case OP_GE:
		g = vd_json_brief(got);
		if (!as_number(got, &n)) {
			snprintf(why, len, "%s is not a number", g);
			free(g);
			return VD_MATCH_NO;
		}
		if ((op->kind == OP_LT && n < op->num) ||
		    (op->kind == OP_LE && n <= op->num) ||
		    (op->kind == OP_GT && n > op->num) ||
		    (op->kind == OP_GE && n >= op->num)) {
			free(g);
			return VD_MATCH_YES;
		}
		snprintf(why, len, "%s is not %s %g", g, op_signs[op->kind],
			 op->num);
		free(g);
		return VD_MATCH_NO;
	case OP_CONTAINS:
		if (cJSON_IsString(got) && cJSON_IsString(op->value) &&
		    strstr(got->valuestring, op->value->valuestring))
			return VD_MATCH_YES;
		if (cJSON_IsArray(got))
			cJSON_ArrayForEach(el, got)
				if (vd_json_equal(el, op->value))
					return VD_MATCH_YES;
		g = vd_json_brief(got);
		w = vd_json_brief(op->value);
		snprintf(why, len, "%s does not contain %s", g, w);
		free(g);
		free(w);
		return VD_MATCH_NO;
	case OP_REGEX:
		if (!cJSON_IsString(got)) {
			snprintf(why, len,
				 "%s %s, expected a string matching /%.80s/",
				 article(type_of(got)), type_of(got),
				 vd_regex_source(op->re));
			return VD_MATCH_NO;
		}
		m = vd_regex_search(op->re, got->valuestring,
				    strlen(got->valuestring), &limit);
		g = vd_json_brief(got);
		if (m == VD_MATCH_NO)
			snprintf(why, len, "%s does not match /%.80s/", g,
				 vd_regex_source(op->re));
		else if (m == VD_MATCH_LIMIT)
			snprintf(why, len, "matching /%.80s/ hit the %s",
				 vd_regex_source(op->re), limit);
		free(g);
		return m;
	case OP_ONE_OF:
		cJSON_ArrayForEach(el, op->value)
			if (vd_json_equal(got, el))
				return VD_MATCH_YES;
		g = vd_json_brief(got);
		w = vd_json_brief(op->value);
		snprintf(why, len, "%s is not one of %s", g, w);
		free(g);
		free(w);
		return VD_MATCH_NO;
	case OP_TYPE:
		if (strcmp(type_of(got), op->value->valuestring) == 0)
			return VD_MATCH_YES;
		g = vd_json_brief(got);
		snprintf(why, len, "%s is %s %s, expected %s %s", g,
			 article(type_of(got)), type_of(got),
			 article(op->value->valuestring),
			 op->value->valuestring);
		free(g);
		return VD_MATCH_NO;
	case OP_LENGTH: {
		cJSON *num;
		char sub[300];
		if (!cJSON_IsString(got) && !cJSON_IsArray(got)) {
			snprintf(why, len, "%s %s has no length",
				 article(type_of(got)), type_of(got));
			return VD_MATCH_NO;
		}
		num = cJSON_CreateNumber(
			cJSON_IsString(got) ? (double)strlen(got->valuestring)
					    : (double)cJSON_GetArraySize(got));
		m = judge(op->sub, num, sub, sizeof(sub));
		if (m != VD_MATCH_YES)
			snprintf(why, len, "length: %s", sub);
		cJSON_Delete(num);
		return m;
	}
	case OP_ANY:
	case OP_ALL: {
		char sub[300];
		if (!cJSON_IsArray(got)) {
			snprintf(why, len, "%s %s, expected an array",
				 article(type_of(got)), type_of(got));
			return VD_MATCH_NO;
		}
		i = 0;
		cJSON_ArrayForEach(el, got) {
			m = judge(op->sub, el, sub, sizeof(sub));
			if (m == VD_MATCH_LIMIT ||
			    (op->kind == OP_ALL && m == VD_MATCH_NO)) {
				snprintf(why, len, "element %d: %s", i, sub);
				return m;
			}
			if (op->kind == OP_ANY && m == VD_MATCH_YES)
				return VD_MATCH_YES;
			i++;
		}
		if (op->kind == OP_ALL)
			return VD_MATCH_YES;
		snprintf(why, len, "no element of %d satisfies it (%s)", i,
			 i ? sub : "empty array");
		return VD_MATCH_NO;
	}
	}
	return VD_MATCH_NO;
}

static enum vd_match
judge(const struct vd_expect *e, const cJSON *got, char *why, size_t len)
{
	size_t i;
	enum vd_match m;

	if (len)
		why[0] = '\0';
	for (i = 0; i < e->nops; i++)
		if (e->ops[i].kind == OP_EXISTS) {
			bool want = cJSON_IsTrue(e->ops[i].value);
			if (want && got == NULL) {
				snprintf(why, len, "missing");
				return VD_MATCH_NO;
			}
			if (!want && got != NULL) {
				char *g = vd_json_brief(got);
				snprintf(why, len, "got %s, expected absent",
					 g);
				free(g);
				return VD_MATCH_NO;
			}
		}
	if (got == NULL) {
		if (vd_expect_wants_absent(e))
			return VD_MATCH_YES;
		snprintf(why, len, "missing");
		return VD_MATCH_NO;
	}
	for (i = 0; i < e->nops; i++) {
		m = judge_op(&e->ops[i], got, why, len);
		if (m != VD_MATCH_YES)
			return m;
	}
	return VD_MATCH_YES;
}

enum vd_match
vd_expect_judge(const struct vd_expect *e, const cJSON *got, char *why,
		size_t len)
{
	return judge(e, got, why, len);
}
