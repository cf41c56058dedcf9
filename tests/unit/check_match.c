/* check_match.c - the matcher (lib/match.c): compile errors that name
 * the offset, searches on bytes, the limits that end a costly search, the
 * first-group capture, and the text expectations shared by every check
 * type (forms accepted, errors naming the place, reasons). */
#include <stdlib.h>
#include <string.h>

#include "../../lib/cfg.h"
#include "../../probe/checks/checks.h"
#include "../../lib/match.h"
#include "../../lib/util.h"
#include "unit.h"

static struct vd_regex *
compile(const char *src)
{
	char err[200];
	struct vd_regex *re = vd_regex_new(src, 0, err, sizeof(err));
	ck_assert_msg(re != NULL, "%s: %s", src, err);
	return re;
}

static enum vd_match
search(const char *src, const char *s)
{
	struct vd_regex *re = compile(src);
	enum vd_match m = vd_regex_search(re, s, strlen(s), NULL);
	vd_regex_free(re);
	return m;
}

START_TEST(test_compile_errors)
{
	static const struct {
		const char *src;
		const char *err;
	} bad[] = {
		{"(", "missing closing parenthesis at offset 1"},
		{"[a-", "missing terminating ] for character class at "
			"offset 3"},
		/* glibc's regcomp took 15 s and 3 GB on this */
		{"a++++++++++++++++++++++",
		 "quantifier does not follow a repeatable item at offset 3"},
		/* and seconds and a gigabyte on this */
		{"((a{1,100}){1,100}){1,100}", "regular expression is too "
					       "large"},
		{"(*UTF)a", "using UTF is disabled by the application"},
	};
	char err[200], big[VD_REGEX_MAX_PATTERN + 2];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_ptr_null(
			vd_regex_new(bad[i].src, 0, err, sizeof(err)));
		ck_assert_msg(strstr(err, bad[i].err) != NULL,
			      "%s: got \"%s\", want \"%s\"", bad[i].src, err,
			      bad[i].err);
	}
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_ptr_null(vd_regex_new(big, 0, err, sizeof(err)));
	ck_assert_str_eq(err, "longer than 4096 bytes");
}
END_TEST

START_TEST(test_search_bytes)
{
	struct vd_regex *re;
	const char nul[] = "a\0b";
	const char bad_utf8[] = "\xff\xfe ok \xc3";

	ck_assert_int_eq(search("^\\{", "{\"a\":1}"), VD_MATCH_YES);
	ck_assert_int_eq(search("^\\{", " {"), VD_MATCH_NO);
	ck_assert_int_eq(search("[0-9]{3}$", "abc123"), VD_MATCH_YES);
	ck_assert_int_eq(search("", ""), VD_MATCH_YES);
	/* a NUL in the subject does not end it */
	re = compile("b");
	ck_assert_int_eq(vd_regex_search(re, nul, 3, NULL), VD_MATCH_YES);
	ck_assert_int_eq(vd_regex_search(re, nul, 1, NULL), VD_MATCH_NO);
	ck_assert_int_eq(vd_regex_search(re, NULL, 0, NULL), VD_MATCH_NO);
	vd_regex_free(re);
	/* invalid UTF-8 is just bytes */
	re = compile(" ok ");
	ck_assert_int_eq(vd_regex_search(re, bad_utf8, strlen(bad_utf8), NULL),
			 VD_MATCH_YES);
	vd_regex_free(re);
}
END_TEST

START_TEST(test_multiline)
{
	char err[200];
	struct vd_regex *re =
		vd_regex_new("^ready$", VD_REGEX_MULTILINE, err, sizeof(err));
	const char *out = "starting\nready\ndone\n";
	ck_assert_ptr_nonnull(re);
	ck_assert_int_eq(vd_regex_search(re, out, strlen(out), NULL),
			 VD_MATCH_YES);
	vd_regex_free(re);
	ck_assert_int_eq(search("^ready$", out), VD_MATCH_NO);
	/* "." crosses lines, as POSIX matching did, except in multiline */
	ck_assert_int_eq(search("200 .*hello", "200 OK\r\n\r\nhello"),
			 VD_MATCH_YES);
	re = vd_regex_new("a.b", VD_REGEX_MULTILINE, err, sizeof(err));
	ck_assert_int_eq(vd_regex_search(re, "a\nb", 3, NULL), VD_MATCH_NO);
	vd_regex_free(re);
}
END_TEST

/* 1 KiB of "[" then "zx": the x the pattern needs is there, but no
 * backtracking reaches it. */
static char *
brackets(size_t n)
{
	char *s = vd_xmalloc(n + 3);
	memset(s, '[', n);
	memcpy(s + n, "zx", 3);
	return s;
}

START_TEST(test_limits_end_a_search)
{
	static const char *const evil[] = {
		"^(\\[*)*\\1\\1\\1x",
		"^(\\[|\\[)*x",
		"^(\\[+\\[+)+x",
	};
	char *s = brackets(1024);
	size_t i;

	for (i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
		struct vd_regex *re = compile(evil[i]);
		const char *limit = NULL;
		ck_assert_int_eq(vd_regex_search(re, s, strlen(s), &limit),
				 VD_MATCH_LIMIT);
		ck_assert_ptr_nonnull(limit);
		ck_assert_msg(strstr(limit, "limit") != NULL, "%s", limit);
		vd_regex_free(re);
	}
	free(s);
}
END_TEST

START_TEST(test_capture)
{
	struct vd_regex *re = compile("token=([a-z0-9]+)");
	const char *body = "x token=abc123; y";
	char *got = NULL;

	ck_assert_int_eq(vd_regex_capture(re, body, strlen(body), &got, NULL),
			 VD_MATCH_YES);
	ck_assert_str_eq(got, "abc123");
	free(got);
	ck_assert_int_eq(vd_regex_capture(re, "none", 4, &got, NULL),
			 VD_MATCH_NO);
	ck_assert_ptr_null(got);
	vd_regex_free(re);
	/* no group: the whole match */
	re = compile("[0-9]+");
	ck_assert_int_eq(vd_regex_capture(re, "ab 42 c", 7, &got, NULL),
			 VD_MATCH_YES);
	ck_assert_str_eq(got, "42");
	free(got);
	vd_regex_free(re);
}
END_TEST

START_TEST(test_refs)
{
	struct vd_regex *re = compile("a");
	struct vd_regex *r2 = vd_regex_ref(re);
	vd_regex_free(re);
	/* still alive through the second reference (ASan would tell) */
	ck_assert_str_eq(vd_regex_source(r2), "a");
	ck_assert_int_eq(vd_regex_search(r2, "cat", 3, NULL), VD_MATCH_YES);
	vd_regex_free(r2);
	vd_regex_free(NULL);
}
END_TEST

/* Parses {"k": <json>} with the given allowances; returns the error
 * message ("" when none) and leaves the match in *m. */
static const char *
parse(const char *json, unsigned allow, struct vd_text_match *m)
{
	static struct vd_cfg_err err;
	cJSON *root = cJSON_Parse(json);
	struct vd_cfg c;

	ck_assert_ptr_nonnull(root);
	memset(&err, 0, sizeof(err));
	vd_cfg_init(&c, root, "f.json", "checks[0].expect", &err);
	(void)vd_text_match_parse(&c, "k", vd_cfg_take(&c, "k"), allow, m);
	vd_cfg_release(&c);
	cJSON_Delete(root);
	return err.set ? err.msg : "";
}

START_TEST(test_text_forms)
{
	static const struct {
		const char *json;
		unsigned allow;
		enum vd_text_rule rule;
		const char *err; /* prefix; "" when valid */
	} t[] = {
		{"{\"k\": \"x\"}", VD_TEXT_ALLOW_STRING, VD_TEXT_EQUALS, ""},
		{"{\"k\": \"x\"}",
		 VD_TEXT_ALLOW_STRING | VD_TEXT_STRING_CONTAINS,
		 VD_TEXT_CONTAINS, ""},
		{"{\"k\": true}", VD_TEXT_ALLOW_BOOL, VD_TEXT_PRESENT, ""},
		{"{\"k\": false}", VD_TEXT_ALLOW_BOOL, VD_TEXT_ABSENT, ""},
		{"{\"k\": {\"equals\": \"x\"}}", 0, VD_TEXT_EQUALS, ""},
		{"{\"k\": {\"contains\": \"x\"}}", 0, VD_TEXT_CONTAINS, ""},
		{"{\"k\": {\"regex\": \"^x\"}}", 0, VD_TEXT_REGEX, ""},
		{"{\"k\": true}", VD_TEXT_ALLOW_STRING, 0,
		 "f.json: checks[0].expect.k: expected a string (equal), or "
		 "{\"equals\"|\"contains\"|\"regex\": string}"},
		{"{\"k\": \"x\"}", 0, 0,
		 "f.json: checks[0].expect.k: expected "
		 "{\"equals\"|\"contains\"|\"regex\": string}"},
		{"{\"k\": {\"like\": \"x\"}}", VD_TEXT_ALLOW_BOOL, 0,
		 "f.json: checks[0].expect.k: expected true (present), false "
		 "(absent), {"},
		{"{\"k\": {\"regex\": \"x\", \"contains\": \"y\"}}", 0, 0,
		 "f.json: checks[0].expect.k: expected"},
		{"{\"k\": {\"regex\": 1}}", 0, 0,
		 "f.json: checks[0].expect.k: expected"},
		{"{\"k\": {\"regex\": \"(\"}}", 0, 0,
		 "f.json: checks[0].expect.k.regex: invalid regular "
		 "expression: missing closing parenthesis at offset 1"},
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct vd_text_match m;
		const char *err = parse(t[i].json, t[i].allow, &m);
		if (*t[i].err == '\0') {
			ck_assert_msg(*err == '\0', "%s: %s", t[i].json, err);
			ck_assert_int_eq(m.rule, t[i].rule);
		} else {
			ck_assert_msg(
				strncmp(err, t[i].err, strlen(t[i].err)) == 0,
				"%s:\n got: %s\nwant: %s", t[i].json, err,
				t[i].err);
		}
		vd_text_match_release(&m);
	}
}
END_TEST

START_TEST(test_text_judge)
{
	static const struct {
		const char *json;
		const char *subject; /* NULL: absent */
		enum vd_match want;
		const char *why;
	} t[] = {
		{"{\"k\": \"ok\"}", "ok", VD_MATCH_YES, ""},
		{"{\"k\": \"ok\"}", "okay", VD_MATCH_NO, "expected \"ok\""},
		{"{\"k\": \"ok\"}", NULL, VD_MATCH_NO, "missing"},
		{"{\"k\": true}", "", VD_MATCH_YES, ""},
		{"{\"k\": true}", NULL, VD_MATCH_NO, "missing"},
		{"{\"k\": false}", NULL, VD_MATCH_YES, ""},
		{"{\"k\": false}", "x", VD_MATCH_NO,
		 "present, expected absent"},
		{"{\"k\": {\"contains\": \"json\"}}", "application/json",
		 VD_MATCH_YES, ""},
		{"{\"k\": {\"contains\": \"json\"}}", "text/html", VD_MATCH_NO,
		 "expected it to contain \"json\""},
		{"{\"k\": {\"regex\": \"^max-age=[0-9]+\"}}",
		 "max-age=31536000", VD_MATCH_YES, ""},
		{"{\"k\": {\"regex\": \"^max-age=[0-9]+\"}}", "no-store",
		 VD_MATCH_NO, "expected a match for /^max-age=[0-9]+/"},
	};
	size_t i;
	char why[200];

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct vd_text_match m;
		const char *err =
			parse(t[i].json,
			      VD_TEXT_ALLOW_BOOL | VD_TEXT_ALLOW_STRING, &m);
		ck_assert_msg(*err == '\0', "%s", err);
		ck_assert_int_eq(
			vd_text_match_judge(&m, t[i].subject,
					    t[i].subject ? strlen(t[i].subject)
							 : 0,
					    why, sizeof(why)),
			t[i].want);
		ck_assert_str_eq(why, t[i].why);
		vd_text_match_release(&m);
	}
}
END_TEST

START_TEST(test_text_judge_limit)
{
	struct vd_text_match m;
	char why[200], *s = brackets(1024);
	const char *err =
		parse("{\"k\": {\"regex\": \"^(\\\\[|\\\\[)*x\"}}", 0, &m);

	ck_assert_str_eq(err, "");
	ck_assert_int_eq(
		vd_text_match_judge(&m, s, strlen(s), why, sizeof(why)),
		VD_MATCH_LIMIT);
	ck_assert_msg(strstr(why, "hit the ") && strstr(why, " limit"), "%s",
		      why);
	vd_text_match_release(&m);
	free(s);
}
END_TEST

/* Parses {"k": <expect>} into an expectation; NULL with *err set on an
 * error. */
static struct vd_expect *
parse_expect(const char *json, const char **err)
{
	static struct vd_cfg_err e;
	cJSON *root = cJSON_Parse(json);
	struct vd_expect *x = NULL;
	struct vd_cfg c;

	ck_assert_msg(root != NULL, "bad test JSON: %s", json);
	memset(&e, 0, sizeof(e));
	vd_cfg_init(&c, root, "f.json", "checks[0].expect.json", &e);
	(void)vd_expect_parse(&c, "k", vd_cfg_take(&c, "k"), &x);
	vd_cfg_release(&c);
	cJSON_Delete(root);
	*err = e.set ? e.msg : "";
	return x;
}

START_TEST(test_operators)
{
	static const struct {
		const char *expect; /* {"k": ...} */
		const char *got;    /* a JSON value; NULL: absent */
		enum vd_match want;
		const char *why;
	} t[] = {
		{"{\"k\": 1}", "1.0", VD_MATCH_YES, ""},
		{"{\"k\": \"ok\"}", "\"down\"", VD_MATCH_NO,
		 "got \"down\", expected \"ok\""},
		{"{\"k\": [1, 2]}", "[1, 2]", VD_MATCH_YES, ""},
		{"{\"k\": null}", NULL, VD_MATCH_NO, "missing"},
		{"{\"k\": {\"equals\": {\"a\": 1}}}", "{\"a\": 1}",
		 VD_MATCH_YES, ""},
		{"{\"k\": {\"not\": \"down\"}}", "\"down\"", VD_MATCH_NO,
		 "got \"down\", expected anything else"},
		{"{\"k\": {\"gt\": 0}}", "0", VD_MATCH_NO, "0 is not > 0"},
		{"{\"k\": {\"ge\": 0, \"lt\": 10}}", "9.5", VD_MATCH_YES, ""},
		{"{\"k\": {\"le\": 3}}", "4", VD_MATCH_NO, "4 is not <= 3"},
		{"{\"k\": {\"lt\": 3}}", "\"x\"", VD_MATCH_NO,
		 "\"x\" is not a number"},
		/* durations and sizes as strings compare as numbers */
		{"{\"k\": {\"lt\": \"1s\"}}", "\"250ms\"", VD_MATCH_YES, ""},
		{"{\"k\": {\"lt\": \"1s\"}}", "2", VD_MATCH_NO, "2 is not < 1"},
		{"{\"k\": {\"ge\": \"1KiB\"}}", "\"2KiB\"", VD_MATCH_YES, ""},
		{"{\"k\": {\"exists\": true}}", "null", VD_MATCH_YES, ""},
		{"{\"k\": {\"exists\": true}}", NULL, VD_MATCH_NO, "missing"},
		{"{\"k\": {\"exists\": false}}", NULL, VD_MATCH_YES, ""},
		{"{\"k\": {\"exists\": false}}", "1", VD_MATCH_NO,
		 "got 1, expected absent"},
		{"{\"k\": {\"contains\": \"test\"}}", "\"tester\"",
		 VD_MATCH_YES, ""},
		{"{\"k\": {\"contains\": \"tester\"}}",
		 "[\"admin\", \"tester\"]", VD_MATCH_YES, ""},
		{"{\"k\": {\"contains\": \"root\"}}", "[\"admin\"]",
		 VD_MATCH_NO, "[\"admin\"] does not contain \"root\""},
		{"{\"k\": {\"regex\": \"^1\\\\.[0-9]+\"}}", "\"1.42\"",
		 VD_MATCH_YES, ""},
		{"{\"k\": {\"regex\": \"^1\"}}", "\"2.0\"", VD_MATCH_NO,
		 "\"2.0\" does not match /^1/"},
		{"{\"k\": {\"regex\": \"^1\"}}", "1", VD_MATCH_NO,
		 "a number, expected a string matching /^1/"},
		{"{\"k\": {\"one_of\": [\"ok\", \"degraded\"]}}", "\"down\"",
		 VD_MATCH_NO, "\"down\" is not one of [\"ok\",\"degraded\"]"},
		{"{\"k\": {\"type\": \"array\"}}", "{}", VD_MATCH_NO,
		 "{} is an object, expected an array"},
		{"{\"k\": {\"type\": \"null\"}}", "null", VD_MATCH_YES, ""},
		{"{\"k\": {\"length\": 2}}", "[1, 2]", VD_MATCH_YES, ""},
		{"{\"k\": {\"length\": {\"ge\": 1}}}", "[]", VD_MATCH_NO,
		 "length: 0 is not >= 1"},
		{"{\"k\": {\"length\": {\"le\": 3}}}", "\"abcd\"", VD_MATCH_NO,
		 "length: 4 is not <= 3"},
		{"{\"k\": {\"length\": 1}}", "5", VD_MATCH_NO,
		 "a number has no length"},
		{"{\"k\": {\"any\": {\"gt\": 2}}}", "[1, 3]", VD_MATCH_YES, ""},
		{"{\"k\": {\"any\": {\"gt\": 5}}}", "[1, 3]", VD_MATCH_NO,
		 "no element of 2 satisfies it (3 is not > 5)"},
		{"{\"k\": {\"all\": {\"gt\": 0}}}", "[1, 0, 2]", VD_MATCH_NO,
		 "element 1: 0 is not > 0"},
		{"{\"k\": {\"all\": {\"type\": \"number\"}}}", "[]",
		 VD_MATCH_YES, ""},
		{"{\"k\": {\"any\": {\"gt\": 0}}}", "3", VD_MATCH_NO,
		 "a number, expected an array"},
	};
	size_t i;
	char why[300];

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *err;
		struct vd_expect *x = parse_expect(t[i].expect, &err);
		cJSON *got = t[i].got ? cJSON_Parse(t[i].got) : NULL;
		ck_assert_msg(x != NULL, "%s: %s", t[i].expect, err);
		ck_assert_msg(vd_expect_judge(x, got, why, sizeof(why)) ==
				      t[i].want,
			      "%s on %s: %s", t[i].expect, t[i].got, why);
		ck_assert_msg(strcmp(why, t[i].why) == 0,
			      "%s on %s:\n got: %s\nwant: %s", t[i].expect,
			      t[i].got, why, t[i].why);
		cJSON_Delete(got);
		vd_expect_free(x);
	}
}
END_TEST

START_TEST(test_operator_errors)
{
	static const struct {
		const char *expect, *err;
	} t[] = {
		{"{\"k\": {\"gt\": true}}",
		 "f.json: checks[0].expect.json.k.gt: expected a number"},
		{"{\"k\": {\"exists\": 1}}",
		 "f.json: checks[0].expect.json.k.exists: expected true or "
		 "false"},
		{"{\"k\": {\"type\": \"int\"}}",
		 "f.json: checks[0].expect.json.k.type: expected one of "
		 "string"},
		{"{\"k\": {\"one_of\": []}}",
		 "f.json: checks[0].expect.json.k.one_of: expected a non-empty "
		 "list"},
		{"{\"k\": {\"length\": -1}}",
		 "f.json: checks[0].expect.json.k.length: expected a whole "
		 "number"},
		{"{\"k\": {\"any\": 1}}",
		 "f.json: checks[0].expect.json.k.any: expected an operator "
		 "object"},
		{"{\"k\": {\"all\": {\"all\": {\"all\": {\"all\": {\"all\": "
		 "{\"all\": {\"all\": {\"all\": {\"all\": {\"gt\": "
		 "0}}}}}}}}}}}",
		 "nested too deeply"},
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *err;
		struct vd_expect *x = parse_expect(t[i].expect, &err);
		ck_assert_ptr_null(x);
		ck_assert_msg(strstr(err, t[i].err) != NULL,
			      "%s:\n got: %s\nwant: %s", t[i].expect, err,
			      t[i].err);
	}
}
END_TEST

START_TEST(test_json_paths)
{
	static const struct {
		const char *path, *expect;
		enum vd_match want;
		const char *why;
	} t[] = {
		{"status", "{\"k\": \"ok\"}", VD_MATCH_YES, ""},
		{"checks.db", "{\"k\": true}", VD_MATCH_YES, ""},
		{"items.1.price", "{\"k\": {\"gt\": 1}}", VD_MATCH_YES, ""},
		{"items.*.price", "{\"k\": {\"gt\": 0}}", VD_MATCH_NO,
		 "items.2.price: 0 is not > 0"},
		{"items.*.id", "{\"k\": {\"type\": \"number\"}}", VD_MATCH_YES,
		 ""},
		{"items.*.missing", "{\"k\": 1}", VD_MATCH_NO,
		 "items.*.missing: missing (no values)"},
		{"items.*.missing", "{\"k\": {\"exists\": false}}",
		 VD_MATCH_YES, ""},
		{"checks.*", "{\"k\": {\"not\": false}}", VD_MATCH_YES, ""},
		{"nope.deeper", "{\"k\": 1}", VD_MATCH_NO,
		 "nope.deeper: missing"},
	};
	const char *doc = "{\"status\": \"ok\", \"checks\": {\"db\": true, "
			  "\"cache\": true}, \"items\": [{\"id\": 1, "
			  "\"price\": 2}, {\"id\": 2, \"price\": 3}, "
			  "{\"id\": 3, \"price\": 0}]}";
	cJSON *root = cJSON_Parse(doc);
	size_t i;
	char why[300];

	ck_assert_ptr_nonnull(root);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *err;
		struct vd_expect *x = parse_expect(t[i].expect, &err);
		ck_assert_msg(x != NULL, "%s", err);
		why[0] = '\0';
		ck_assert_msg(vd_json_expect(root, t[i].path, x, why,
					     sizeof(why)) == t[i].want,
			      "%s: %s", t[i].path, why);
		if (t[i].want != VD_MATCH_YES)
			ck_assert_str_eq(why, t[i].why);
		vd_expect_free(x);
	}
	cJSON_Delete(root);
}
END_TEST

Suite *
match_suite(void)
{
	Suite *s = suite_create("match");
	TCase *tc = tcase_create("match");

	tcase_add_test(tc, test_compile_errors);
	tcase_add_test(tc, test_search_bytes);
	tcase_add_test(tc, test_multiline);
	tcase_add_test(tc, test_limits_end_a_search);
	tcase_add_test(tc, test_capture);
	tcase_add_test(tc, test_refs);
	tcase_add_test(tc, test_text_forms);
	tcase_add_test(tc, test_text_judge);
	tcase_add_test(tc, test_text_judge_limit);
	tcase_add_test(tc, test_operators);
	tcase_add_test(tc, test_operator_errors);
	tcase_add_test(tc, test_json_paths);
	suite_add_tcase(s, tc);
	return s;
}
