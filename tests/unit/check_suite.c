/*
 * check_suite.c - the suite loader (suites/suite.c): comments, JSON syntax
 * errors with line and column, ${VAR} interpolation, defaults, stages,
 * validation of every level with errors naming the file and the place,
 * and secrets. Loads through vd_suite_parse/vd_suite_load only; relies on
 * the "http" check type being registered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/util.h"
#include "../../suites/suite.h"
#include "unit.h"

#define U "\"url\": \"http://127.0.0.1:9/\""
#define CHK(name, extra)                                                       \
	"{\"name\": \"" name "\", \"type\": \"http\", " U extra "}"
#define SUITE(checks) "{\"checks\": [" checks "]}"

static char err[1200];

static int
parse(const char *text, struct vd_suite **s)
{
	return vd_suite_parse(text, strlen(text), "f.json", NULL, s, err,
			      sizeof(err));
}

/* Parses text, which must load. */
static struct vd_suite *
load_ok(const char *text)
{
	struct vd_suite *s = NULL;
	int r = parse(text, &s);
	ck_assert_msg(r == 0, "refused: %s\n%s", err, text);
	ck_assert_ptr_nonnull(s);
	return s;
}

static void
env_setup(void)
{
	setenv("VD_T_HOST", "127.0.0.1:9", 1);
	setenv("VD_T_EMPTY", "", 1);
	setenv("VD_T_DOLLAR", "${VD_T_HOST}$$", 1);
	setenv("VD_T_TOKEN", "tok-abcdef-123", 1);
	unsetenv("VD_T_UNSET");
	vd_secret_clear();
}

static void
env_teardown(void)
{
	unsetenv("VD_T_HOST");
	unsetenv("VD_T_EMPTY");
	unsetenv("VD_T_DOLLAR");
	unsetenv("VD_T_TOKEN");
	vd_secret_clear();
}

/*
 * Bad suites: each must be refused with VD_ERR_CONFIG and a message that
 * starts with msg (the whole message where it is ours; a prefix where the
 * rest comes from libcurl or the regex library).
 */
static const struct {
	const char *json;
	const char *msg;
} bad[] = {
	/* the document */
	{"[]", "f.json: expected a JSON object at the top"},
	{"\"checks\"", "f.json: expected a JSON object at the top"},
	{"{}", "f.json: checks: required"},
	{"{\"checks\": []}", "f.json: checks: the list is empty"},
	{"{\"checks\": {}}", "f.json: checks: expected a list of checks"},
	{"{\"checks\": [5]}", "f.json: checks[0]: expected an object"},
	{"{\"chekcs\": [" CHK("a", "") "]}", "f.json: checks: required"},
	{"{\"bogus\": 1, \"checks\": [" CHK("a", "") "]}",
	 "f.json: bogus: unknown key"},
	{"{\"name\": 5, \"checks\": [" CHK("a", "") "]}",
	 "f.json: name: expected a string, got a number"},
	{"{\"concurrency\": 0, \"checks\": [" CHK("a", "") "]}",
	 "f.json: concurrency: must be between 1 and 1000000"},
	{"{\"concurrency\": \"eight\", \"checks\": [" CHK("a", "") "]}",
	 "f.json: concurrency: expected an integer, got \"eight\""},
	{"{\"concurrency\": true, \"checks\": [" CHK("a", "") "]}",
	 "f.json: concurrency: expected an integer, got a boolean"},
	{"{\"defaults\": [], \"checks\": [" CHK("a", "") "]}",
	 "f.json: defaults: expected an object"},
	{"/* never closed", "f.json: unterminated /* comment"},
	/* duplicates */
	{SUITE(CHK("a", "") "," CHK("b", "") "," CHK("a", "")),
	 "f.json: checks[2].name: duplicate check name \"a\" (also checks[0])"},
	{"{\"checks\": [" CHK("a", "") "], \"checks\": [" CHK("b", "") "]}",
	 "f.json: checks: duplicate key"},
	{SUITE(CHK("a", ", \"expect\": {\"status\": 200, \"status\": 201}")),
	 "f.json: checks[0].expect.status: duplicate key"},
	{SUITE("{\"name\": \"a\", \"name\": \"b\", \"type\": \"http\", " U "}"),
	 "f.json: checks[0].name: duplicate key"},
	/* unknown keys at every level */
	{SUITE(CHK("a", ", \"timout\": \"1s\"")),
	 "f.json: checks[0].timout: unknown key"},
	{SUITE(CHK("a", ", \"expect\": {\"stauts\": 200}")),
	 "f.json: checks[0].expect.stauts: unknown key"},
	{SUITE(CHK("a", ", \"tls\": {\"verfy\": false}")),
	 "f.json: checks[0].tls.verfy: unknown key"},
	{SUITE(CHK("a", ", \"auth\": {\"type\": \"bearer\", "
			"\"token_env\": \"VD_T_TOKEN\", \"x\": 1}")),
	 "f.json: checks[0].auth.x: unknown key"},
	{"{\"defaults\": {\"timeout\": \"1s\", \"retires\": 3}, \"checks\": "
	 "[" CHK("a", "") "]}",
	 "f.json: defaults.retires: not used by any check (unknown key?)"},
	{"{\"defaults\": {\"type\": \"http\"}, \"checks\": "
	 "[" CHK("a", "") "]}",
	 "f.json: defaults.type: each check states its type; not a default"},
	{"{\"defaults\": {\"name\": \"x\"}, \"checks\": "
	 "[" CHK("a", "") "]}",
	 "f.json: defaults.name: each check names itself; not a default"},
	/* wrong types */
	{SUITE("{\"name\": 5, \"type\": \"http\", " U "}"),
	 "f.json: checks[0].name: expected a string, got a number"},
	{SUITE(CHK("a", ", \"description\": 5")),
	 "f.json: checks[0].description: expected a string, got a number"},
	{SUITE("{\"name\": \"a\", " U "}"), "f.json: checks[0].type: required"},
	{SUITE("{\"name\": \"a\", \"type\": \"gopher\", " U "}"),
	 "f.json: checks[0].type: unknown check type \"gopher\" (known: http"},
	{SUITE("{\"type\": \"http\", " U "}"),
	 "f.json: checks[0].name: required"},
	{SUITE(CHK("", "")),
	 "f.json: checks[0].name: must be 1-200 characters without control "
	 "characters"},
	{SUITE(CHK("a\\nb", "")),
	 "f.json: checks[0].name: must be 1-200 characters without control "
	 "characters"},
	{SUITE(CHK("a", ", \"critical\": \"yes\"")),
	 "f.json: checks[0].critical: expected true or false, got a string"},
	{SUITE(CHK("a", ", \"tags\": [\"x\", 1]")),
	 "f.json: checks[0].tags[1]: expected a string, got a number"},
	{SUITE(CHK("a", ", \"stage\": 1")),
	 "f.json: checks[0].stage: expected a string, got a number"},
	{SUITE(CHK("a", ", \"stage\": \"\"")),
	 "f.json: checks[0].stage: invalid stage name"},
	{SUITE(CHK("a", ", \"tls\": {\"verify\": \"no\"}")),
	 "f.json: checks[0].tls.verify: expected true or false, got a string"},
	{SUITE(CHK("a", ", \"tls\": {\"key_file\": \"k.pem\"}")),
	 "f.json: checks[0].tls.key_file: needs cert_file as well"},
	{SUITE(CHK("a", ", \"expect\": []")),
	 "f.json: checks[0].expect: expected an object, got a list"},
	{SUITE(CHK("a", ", \"expect\": {\"status\": 600}")),
	 "f.json: checks[0].expect.status: expected an integer (100-599), a "
	 "class like \"2xx\", or a list of them"},
	{SUITE(CHK("a", ", \"expect\": {\"status\": \"abc\"}")),
	 "f.json: checks[0].expect.status: expected an integer (100-599)"},
	{SUITE(CHK("a", ", \"expect\": {\"status\": {}}")),
	 "f.json: checks[0].expect.status: expected an integer, a class like "
	 "\"2xx\", or a list of them"},
	/* operators name their own place */
	{SUITE(CHK("a", ", \"expect\": {\"json\": {\"a\": {\"gt\": "
			"\"x\"}}}")),
	 "f.json: checks[0].expect.json.a.gt: expected a number, a duration "
	 "(\"250ms\") or a size (\"1MiB\")"},
	{SUITE(CHK("a", ", \"expect\": {\"json\": {\"a\": {\"like\": "
			"1}}}")),
	 "f.json: checks[0].expect.json.a.like: unknown operator"},
	{SUITE(CHK("a", ", \"expect\": {\"json\": {\"a\": {\"all\": "
			"{\"regex\": \"(\"}}}}")),
	 "f.json: checks[0].expect.json.a.all.regex: invalid regular "
	 "expression: missing closing parenthesis"},
	{SUITE(CHK("a", ", \"expect\": {\"json\": {\"a\": {}}}")),
	 "f.json: checks[0].expect.json.a: expected at least one operator"},
	{SUITE(CHK("a", ", \"method\": \"get\"")),
	 "f.json: checks[0].method: expected an HTTP method in capitals"},
	{SUITE(CHK("a", ", \"headers\": {\"X-A\": 1}")),
	 "f.json: checks[0].headers.X-A: expected a string, got a number"},
	{SUITE(CHK("a", ", \"headers\": {\"X A\": \"1\"}")),
	 "f.json: checks[0].headers: header X A: names must not hold spaces"},
	{SUITE(CHK("a", ", \"body\": 5")),
	 "f.json: checks[0].body: expected a string, a JSON object/list, or "
	 "null"},
	/* durations, sizes and bounds */
	{SUITE(CHK("a", ", \"timeout\": \"5\"")),
	 "f.json: checks[0].timeout: invalid duration \"5\" (use e.g. "
	 "\"250ms\", \"5s\", \"1m\")"},
	{SUITE(CHK("a", ", \"timeout\": 5")),
	 "f.json: checks[0].timeout: expected a duration string like \"5s\" or "
	 "\"250ms\", got a number"},
	{SUITE(CHK("a", ", \"timeout\": \"0s\"")),
	 "f.json: checks[0].timeout: must be more than 0"},
	{SUITE(CHK("a", ", \"timeout\": \"400d\"")),
	 "f.json: checks[0].timeout: invalid duration \"400d\""},
	{SUITE(CHK("a", ", \"interval\": \"soon\"")),
	 "f.json: checks[0].interval: invalid duration \"soon\""},
	{SUITE(CHK("a", ", \"every\": \"10ms\"")),
	 "f.json: checks[0].every: must be at least 100ms"},
	{SUITE(CHK("a", ", \"expect\": {\"max_time\": \"fast\"}")),
	 "f.json: checks[0].expect.max_time: invalid duration \"fast\""},
	{SUITE(CHK("a", ", \"retry_on\": [\"timeout\", \"slowly\"]")),
	 "f.json: checks[0].retry_on: unknown \"slowly\" (expected a reason "
	 "kind such as timeout, refused, unavailable, tls, status, body; a "
	 "status class 4xx or 5xx; handshake; default; or any)"},
	{SUITE(CHK("a", ", \"retry_on\": []")),
	 "f.json: checks[0].retry_on: the list is empty (use retries: 0 for no "
	 "retries)"},
	{SUITE(CHK("a", ", \"retry_on\": [5]")),
	 "f.json: checks[0].retry_on[0]: expected a string, got a number"},
	{SUITE(CHK("a", ", \"retries\": -1")),
	 "f.json: checks[0].retries: must be between 0 and 10000"},
	{SUITE(CHK("a", ", \"retries\": 10001")),
	 "f.json: checks[0].retries: must be between 0 and 10000"},
	{SUITE(CHK("a", ", \"retries\": 1.5")),
	 "f.json: checks[0].retries: expected an integer, got 1.5"},
	{SUITE(CHK("a", ", \"retries\": \"3x\"")),
	 "f.json: checks[0].retries: expected an integer, got \"3x\""},
	{SUITE(CHK("a", ", \"retries\": \"20000\"")),
	 "f.json: checks[0].retries: must be between 0 and 10000"},
	{SUITE(CHK("a", ", \"max_redirects\": 101")),
	 "f.json: checks[0].max_redirects: must be between 0 and 100"},
	{SUITE(CHK("a", ", \"max_body\": \"lots\"")),
	 "f.json: checks[0].max_body: expected a size"},
	/* URLs */
	{SUITE("{\"name\": \"a\", \"type\": \"http\"}"),
	 "f.json: checks[0].url: required"},
	{SUITE("{\"name\": \"a\", \"type\": \"http\", \"url\": \"not a url\"}"),
	 "f.json: checks[0].url: invalid URL \"not a url\": "},
	{SUITE("{\"name\": \"a\", \"type\": \"http\", \"url\": \"http://\"}"),
	 "f.json: checks[0].url: invalid URL \"http://\": "},
	{SUITE("{\"name\": \"a\", \"type\": \"http\", \"url\": \"http://a "
	       "b/\"}"),
	 "f.json: checks[0].url: invalid URL \"http://a b/\": "},
	{SUITE("{\"name\": \"a\", \"type\": \"http\", \"url\": \"ftp://h/x\"}"),
	 "f.json: checks[0].url: expected an http:// or https:// URL"},
	{SUITE("{\"name\": \"a\", \"type\": \"http\", \"url\": 80}"),
	 "f.json: checks[0].url: expected a string, got a number"},
	/* regular expressions: PCRE2's own compile limits refuse what would
	 * take seconds and gigabytes (glibc's regcomp expanded these) */
	{SUITE(CHK("a", ", \"expect\": {\"body_regex\": "
			"\"((a{1,100}){1,100}){1,100}\"}")),
	 "f.json: checks[0].expect.body_regex: invalid regular expression: "
	 "regular expression is too large"},
	{SUITE(CHK("a", ", \"expect\": {\"body_regex\": "
			"\"a++++++++++++++++++++++\"}")),
	 "f.json: checks[0].expect.body_regex: invalid regular expression: "
	 "quantifier does not follow a repeatable item at offset 3"},
	/* cJSON would end the string at \u0000 */
	{SUITE(CHK("a\\u0000b", "")), "f.json: line 1, column "},
	{SUITE(CHK("a", ", \"expect\": {\"body_regex\": \"(\"}")),
	 "f.json: checks[0].expect.body_regex: invalid regular expression: "},
	{SUITE(CHK("a", ", \"expect\": {\"headers\": {\"X-A\": {\"regex\": "
			"\"[a-\"}}}")),
	 "f.json: checks[0].expect.headers.X-A.regex: invalid regular "
	 "expression: missing terminating ] for character class"},
	{SUITE(CHK("a", ", \"expect\": {\"headers\": {\"X-A\": {\"like\": "
			"\"x\"}}}")),
	 "f.json: checks[0].expect.headers.X-A: expected true (present)"},
	/* interpolation */
	{SUITE("{\"name\": \"a\", \"type\": \"http\", "
	       "\"url\": \"${VD_T_UNSET}/x\"}"),
	 "f.json: checks[0].url: environment variable VD_T_UNSET is not set"},
	{"{\"defaults\": {\"tls\": {\"ca_file\": \"${VD_T_UNSET}\"}}, "
	 "\"checks\": [" CHK("a", "") "]}",
	 "f.json: defaults.tls.ca_file: environment variable VD_T_UNSET is not "
	 "set"},
	{SUITE(CHK("a", ", \"tags\": [\"ok\", \"${VD_T_UNSET}\"]")),
	 "f.json: checks[0].tags[1]: environment variable VD_T_UNSET is not "
	 "set"},
	{SUITE(CHK("a", ", \"stage\": \"${VD-T}\"")),
	 "f.json: checks[0].stage: invalid variable name \"VD-T\""},
	{SUITE(CHK("a", ", \"stage\": \"${}\"")),
	 "f.json: checks[0].stage: invalid variable name \"\""},
	{SUITE(CHK("a", ", \"stage\": \"${:-x}\"")),
	 "f.json: checks[0].stage: invalid variable name \"\""},
	{SUITE(CHK("a", ", \"stage\": \"${1X}\"")),
	 "f.json: checks[0].stage: invalid variable name \"1X\""},
	{SUITE(CHK("a", ", \"stage\": \"${A B}\"")),
	 "f.json: checks[0].stage: invalid variable name \"A B\""},
	{SUITE(CHK("a", ", \"stage\": \"x${VD_T_HOST\"")),
	 "f.json: checks[0].stage: unterminated ${"},
	{SUITE(CHK("a", ", \"auth\": {\"type\": \"bearer\", "
			"\"token_env\": \"VD_T_UNSET\"}")),
	 "f.json: checks[0].auth.token_env: environment variable VD_T_UNSET is "
	 "not set"},
	{SUITE(CHK("a", ", \"auth\": {\"type\": \"digest\"}")),
	 "f.json: checks[0].auth.type: expected \"basic\" or \"bearer\""},
};

START_TEST(test_bad)
{
	struct vd_suite *s = (void *)1;
	int r = parse(bad[_i].json, &s);

	if (r == 0)
		vd_suite_free(s);
	ck_assert_msg(r == VD_ERR_CONFIG, "accepted (%d): %s", r, bad[_i].json);
	ck_assert_ptr_null(s);
	ck_assert_msg(strncmp(err, bad[_i].msg, strlen(bad[_i].msg)) == 0,
		      "for %s\n got: %s\nwant: %s", bad[_i].json, err,
		      bad[_i].msg);
}
END_TEST

START_TEST(test_nul_byte)
{
	static const char text[] = "{\"checks\": [" CHK("a\0b", "") "]}";
	struct vd_suite *s = NULL;
	int r = vd_suite_parse(text, sizeof(text) - 1, "f.json", NULL, &s, err,
			       sizeof(err));
	ck_assert_int_eq(r, VD_ERR_CONFIG);
	ck_assert_ptr_null(s);
	ck_assert_str_eq(err, "f.json: file contains a NUL byte");
}
END_TEST

/* JSON syntax errors give the line and column of the fault; comments
 * before it do not shift the position. */
static const struct {
	const char *json;
	const char *msg;
} syntax[] = {
	{"", "f.json: line 1, column 1: invalid JSON (empty file)"},
	{"   \n\n", "f.json: line 3, column 1: invalid JSON"},
	{"/* c */\n{\n  \"checks\": [ // x\n  }\n",
	 "f.json: line 4, column 3: invalid JSON"},
	{"{\"checks\": [1]} x", "f.json: line 1, column 17: invalid JSON"},
	{"{\n  \"a\": tru\n}", "f.json: line 2, column 8: invalid JSON"},
	{"{\n  \"a\": 1\n  \"b\": 2\n}",
	 "f.json: line 3, column 3: invalid JSON"},
	{"// only a comment\n", "f.json: line 2, column 1: invalid JSON"},
	/* cJSON points one past a bad key: the line is what matters */
	{"{\n \"checks\": [\n  {\"name\": \"a\",}\n ]\n}",
	 "f.json: line 3, column "},
};

START_TEST(test_syntax)
{
	struct vd_suite *s = NULL;
	int r = parse(syntax[_i].json, &s);

	ck_assert_int_eq(r, VD_ERR_CONFIG);
	ck_assert_msg(strncmp(err, syntax[_i].msg, strlen(syntax[_i].msg)) == 0,
		      "got: %s\nwant: %s", err, syntax[_i].msg);
}
END_TEST

START_TEST(test_comments)
{
	struct vd_suite *s = load_ok(
		"// leading comment with \"quotes\" and /* */\n"
		"{ /* block\n   over lines */ \"name\": \"s//x/*y*/\", // "
		"trailing\n"
		"  \"checks\": [\n"
		"    {\"name\": \"a // b /* c */\", \"type\": \"http\",\n"
		"     \"url\": \"http://127.0.0.1:9/a//b\"}, /**/\n"
		"    {\"name\": \"q\\\"// not a comment\", \"type\": "
		"\"http\", " U "}\n"
		"  ] /* end */\n}\n// after\n/* and after */");

	ck_assert_str_eq(s->name, "s//x/*y*/");
	ck_assert_uint_eq(s->nchecks, 2);
	ck_assert_str_eq(s->checks[0]->name, "a // b /* c */");
	ck_assert_str_eq(s->checks[0]->target, "http://127.0.0.1:9/a//b");
	ck_assert_str_eq(s->checks[1]->name, "q\"// not a comment");
	vd_suite_free(s);
}
END_TEST

/* The stripper in isolation: comments become spaces, newlines stay. */
START_TEST(test_strip_comments)
{
	char t[] = "a/*x\ny*/b//z\n\"/*s*/\"";
	ck_assert_int_eq(vd_json_strip_comments(t, strlen(t)), 0);
	ck_assert_str_eq(t, "a   \n   b   \n\"/*s*/\"");
	char u[] = "\"\\\\\"//c";
	ck_assert_int_eq(vd_json_strip_comments(u, strlen(u)), 0);
	ck_assert_str_eq(u, "\"\\\\\"   ");
	char v[] = "x /* y";
	ck_assert_int_eq(vd_json_strip_comments(v, strlen(v)), -1);
	char w[] = "/*/";
	ck_assert_int_eq(vd_json_strip_comments(w, strlen(w)), -1);
}
END_TEST

static const struct {
	const char *in;
	const char *out; /* NULL: an error starting with err */
	const char *err;
} interp[] = {
	{"plain", "plain", NULL},
	{"", "", NULL},
	{"http://${VD_T_HOST}/x", "http://127.0.0.1:9/x", NULL},
	{"${VD_T_HOST}${VD_T_HOST}", "127.0.0.1:9127.0.0.1:9", NULL},
	{"${VD_T_UNSET:-http://d:1}/x", "http://d:1/x", NULL},
	{"${VD_T_UNSET:-}", "", NULL},
	/* as in the shell, ":-" replaces an empty value; plain ${} does not */
	{"[${VD_T_EMPTY:-dflt}]", "[dflt]", NULL},
	{"[${VD_T_EMPTY}]", "[]", NULL},
	{"${VD_T_HOST:-unused}", "127.0.0.1:9", NULL},
	{"a$$b", "a$b", NULL},
	{"$$${VD_T_HOST}", "$127.0.0.1:9", NULL},
	{"$$$$", "$$", NULL},
	{"cost: $5 and $x", "cost: $5 and $x", NULL},
	{"end$", "end$", NULL},
	/* a value is never interpolated again */
	{"${VD_T_DOLLAR}", "${VD_T_HOST}$$", NULL},
	/* the default ends at the first '}' */
	{"${VD_T_UNSET:-a}b}", "ab}", NULL},
	{"${VD_T_UNSET}", NULL, "environment variable VD_T_UNSET is not set"},
	{"x${VD_T_HOST", NULL, "unterminated ${"},
	{"${", NULL, "unterminated ${"},
	{"${}", NULL, "invalid variable name \"\""},
	{"${:-d}", NULL, "invalid variable name \"\""},
	{"${9LIVES}", NULL, "invalid variable name \"9LIVES\""},
	{"${A.B}", NULL, "invalid variable name \"A.B\""},
	{"${A B:-x}", NULL, "invalid variable name \"A B\""},
	{"${$}", NULL, "invalid variable name \"$\""},
};

START_TEST(test_interpolate)
{
	char why[200] = "";
	char *out = vd_interpolate(interp[_i].in, why, sizeof(why));

	if (interp[_i].out) {
		ck_assert_msg(out != NULL, "%s: %s", interp[_i].in, why);
		ck_assert_str_eq(out, interp[_i].out);
	} else {
		ck_assert_msg(out == NULL, "%s: got %s", interp[_i].in, out);
		ck_assert_str_eq(why, interp[_i].err);
	}
	free(out);
}
END_TEST

START_TEST(test_interpolate_in_suite)
{
	struct vd_suite *s = load_ok(
		"{\"name\": \"${VD_T_UNSET:-staging}\", \"checks\": [\n"
		"  {\"name\": \"n-$$-${VD_T_EMPTY}\", \"type\": \"http\",\n"
		"   \"url\": \"http://${VD_T_HOST}/health\",\n"
		"   \"tags\": [\"${VD_T_DOLLAR}\"],\n"
		"   \"timeout\": \"${VD_T_UNSET:-2s}\",\n"
		"   \"retries\": \"${VD_T_UNSET:-14}\"}]}");

	ck_assert_str_eq(s->name, "staging");
	/* integers may come from the environment as digit strings */
	ck_assert_int_eq(s->checks[0]->retries, 14);
	ck_assert_str_eq(s->checks[0]->name, "n-$-");
	ck_assert_str_eq(s->checks[0]->target, "http://127.0.0.1:9/health");
	ck_assert_str_eq(s->checks[0]->tags[0], "${VD_T_HOST}$$");
	ck_assert_double_eq(s->checks[0]->timeout, 2.0);
	vd_suite_free(s);
}
END_TEST

START_TEST(test_common_keys)
{
	struct vd_suite *s = load_ok(
		"{\"name\": \"st\", \"concurrency\": 8, \"$schema\": "
		"\"x.json\","
		" \"checks\": [" CHK("plain", "") "," CHK(
			"full",
			", \"stage\": \"smoke\", \"critical\": false,"
			" \"tags\": [\"t1\", \"t2\"], \"timeout\": \"250ms\","
			" \"description\": \"what it guards\","
			" \"retries\": 15, \"interval\": \"5s\","
			" \"every\": \"1m\", \"max_body\": \"512KiB\","
			" \"tls\": {\"verify\": false, \"ca_file\": "
			"\"ca.pem\"}") "," CHK("onetag",
					       ", \"tags\": \"solo\", "
					       "\"max_body\": 100") "]}");
	const struct vd_check *p, *f, *o;

	ck_assert_str_eq(s->name, "st");
	ck_assert_uint_eq(s->concurrency, 8);
	ck_assert_uint_eq(s->nchecks, 3);
	p = s->checks[0];
	f = s->checks[1];
	o = s->checks[2];
	/* the defaults of a check */
	ck_assert_str_eq(p->name, "plain");
	ck_assert_str_eq(p->type->name, "http");
	ck_assert_str_eq(p->stage, "main");
	ck_assert(p->critical);
	ck_assert_uint_eq(p->ntags, 0);
	ck_assert_double_eq(p->timeout, 5.0);
	ck_assert_int_eq(p->retries, 0);
	ck_assert_double_eq(p->interval, 1.0);
	ck_assert_double_eq(p->every, 0);
	ck_assert_uint_eq(p->max_body, 1024 * 1024);
	ck_assert(p->tls.verify);
	ck_assert_ptr_null(p->tls.ca_file);
	ck_assert_str_eq(p->target, "http://127.0.0.1:9/");
	/* everything set */
	ck_assert_str_eq(f->stage, "smoke");
	ck_assert(!f->critical);
	ck_assert_uint_eq(f->ntags, 2);
	ck_assert_str_eq(f->tags[1], "t2");
	ck_assert_double_eq_tol(f->timeout, 0.25, 1e-9);
	ck_assert_int_eq(f->retries, 15);
	ck_assert_double_eq(f->interval, 5.0);
	ck_assert_double_eq(f->every, 60.0);
	ck_assert_uint_eq(f->max_body, 512 * 1024);
	ck_assert(!f->tls.verify);
	ck_assert_str_eq(f->tls.ca_file, "ca.pem");
	ck_assert(vd_check_matches(f, "t1"));
	ck_assert(vd_check_matches(f, "full"));
	ck_assert(!vd_check_matches(f, "plain"));
	ck_assert_uint_eq(o->ntags, 1);
	ck_assert_str_eq(o->tags[0], "solo");
	ck_assert_uint_eq(o->max_body, 100);
	vd_suite_free(s);
}
END_TEST

START_TEST(test_name_from_file)
{
	struct vd_suite *s = NULL;
	const char *text = SUITE(CHK("a", ""));

	ck_assert_int_eq(vd_suite_parse(text, strlen(text), "dir/staging.json",
					NULL, &s, err, sizeof(err)),
			 0);
	ck_assert_str_eq(s->name, "staging");
	vd_suite_free(s);
	ck_assert_int_eq(vd_suite_parse(text, strlen(text), ".hidden", NULL, &s,
					err, sizeof(err)),
			 0);
	ck_assert_str_eq(s->name, ".hidden");
	vd_suite_free(s);
}
END_TEST

START_TEST(test_stages)
{
	struct vd_suite *s = load_ok(SUITE(
		CHK("a", ", \"stage\": \"health\"") "," CHK("b", "") "," CHK(
			"c",
			", \"stage\": \"smoke\"") "," CHK("d",
							  ", \"stage\": "
							  "\"health\"") "," CHK("e",
										", "
										"\"stag"
										"e\": "
										"\"main"
										"\"")));

	ck_assert_uint_eq(s->nstages, 3);
	ck_assert_str_eq(s->stages[0], "health");
	ck_assert_str_eq(s->stages[1], "main");
	ck_assert_str_eq(s->stages[2], "smoke");
	ck_assert_uint_eq(s->checks[0]->stage_index, 0);
	ck_assert_uint_eq(s->checks[1]->stage_index, 1);
	ck_assert_uint_eq(s->checks[2]->stage_index, 2);
	ck_assert_uint_eq(s->checks[3]->stage_index, 0);
	ck_assert_uint_eq(s->checks[4]->stage_index, 1);
	vd_suite_free(s);
}
END_TEST

/* defaults: merged into every check, objects merged key by key, the
 * check's own value wins. */
START_TEST(test_defaults)
{
	struct vd_suite *s = load_ok(
		"{\"defaults\": {\"timeout\": \"2s\", \"retries\": 3,"
		"  \"url\": \"http://127.0.0.1:9/d\","
		"  \"tls\": {\"ca_file\": \"ca.pem\", \"verify\": false},"
		"  \"tags\": [\"all\"]},"
		" \"checks\": ["
		"  {\"name\": \"a\", \"type\": \"http\", \"tls\": {\"verify\": "
		"true}},"
		"  {\"name\": \"b\", \"type\": \"http\", \"timeout\": \"1s\","
		"   \"url\": \"http://127.0.0.1:9/own\", \"tags\": []}]}");
	const struct vd_check *a = s->checks[0], *b = s->checks[1];

	ck_assert_double_eq(a->timeout, 2.0);
	ck_assert_int_eq(a->retries, 3);
	ck_assert_str_eq(a->target, "http://127.0.0.1:9/d");
	ck_assert(a->tls.verify);
	ck_assert_str_eq(a->tls.ca_file, "ca.pem");
	ck_assert_uint_eq(a->ntags, 1);
	ck_assert_double_eq(b->timeout, 1.0);
	ck_assert_int_eq(b->retries, 3);
	ck_assert_str_eq(b->target, "http://127.0.0.1:9/own");
	ck_assert(!b->tls.verify);
	ck_assert_str_eq(b->tls.ca_file, "ca.pem");
	ck_assert_uint_eq(b->ntags, 0);
	vd_suite_free(s);
}
END_TEST

START_TEST(test_load_opts)
{
	static const char *const extra[] = {"serve", "notify", NULL};
	struct vd_suite_load_opts opts = {.extra_keys = extra};
	struct vd_suite *s = NULL;
	const char *text = "{\"serve\": {\"listen\": 1}, \"notify\": [],"
			   " \"checks\": [" CHK("a", "") "]}";
	const char *none = "{\"serve\": {}}";

	ck_assert_int_eq(vd_suite_parse(text, strlen(text), "f.json", &opts, &s,
					err, sizeof(err)),
			 0);
	/* the caller reads its extra keys from root */
	ck_assert(cJSON_IsObject(cJSON_GetObjectItem(s->root, "serve")));
	vd_suite_free(s);
	ck_assert_int_eq(parse(text, &s), VD_ERR_CONFIG);
	ck_assert_str_eq(err, "f.json: serve: unknown key");

	ck_assert_int_eq(vd_suite_parse(none, strlen(none), "f.json", &opts, &s,
					err, sizeof(err)),
			 VD_ERR_CONFIG);
	opts.checks_optional = true;
	ck_assert_int_eq(vd_suite_parse(none, strlen(none), "f.json", &opts, &s,
					err, sizeof(err)),
			 0);
	ck_assert_uint_eq(s->nchecks, 0);
	vd_suite_free(s);
}
END_TEST

START_TEST(test_load_file)
{
	char path[] = "/tmp/vd-unit-XXXXXX";
	const char *text = "// a file\n" SUITE(CHK("a", ""));
	struct vd_suite *s = NULL;
	int fd = mkstemp(path);
	char want[300];

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
	ck_assert_int_eq(vd_suite_load(path, NULL, &s, err, sizeof(err)), 0);
	ck_assert_str_eq(s->path, path);
	ck_assert_uint_eq(s->nchecks, 1);
	vd_suite_free(s);
	unlink(path);

	ck_assert_int_eq(vd_suite_load(path, NULL, &s, err, sizeof(err)),
			 VD_ERR_IO);
	ck_assert_ptr_null(s);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	ck_assert_str_eq(err, want);
	vd_suite_free(NULL);
}
END_TEST

/* A password in a URL, a secret header and a secret variable are
 * registered; vd_mask hides them from every output, the target shows
 * ***, and error messages never quote them. */
START_TEST(test_secrets)
{
	struct vd_suite *s = load_ok(SUITE(
		"{\"name\": \"a\", \"type\": \"http\","
		" \"url\": \"https://app:s3cr3t-pw@127.0.0.1:9/x\"},"
		"{\"name\": \"b\", \"type\": \"http\", " U ","
		" \"headers\": {\"Authorization\": \"Bearer abc-def-ghi\","
		"  \"X-Api-Key\": \"key-0123456\", \"Accept\": "
		"\"text/plain\"}},"
		"{\"name\": \"c\", \"type\": \"http\","
		" \"url\": \"http://127.0.0.1:9/?t=${VD_T_TOKEN}\"}"));
	char *m;

	ck_assert_str_eq(s->checks[0]->target, "https://app:***@127.0.0.1:9/x");
	ck_assert_str_eq(s->checks[2]->target, "http://127.0.0.1:9/?t=***");
	m = vd_mask("pw s3cr3t-pw, auth Bearer abc-def-ghi, key key-0123456, "
		    "token tok-abcdef-123, accept text/plain");
	ck_assert_str_eq(m, "pw ***, auth ***, key ***, token ***, accept "
			    "text/plain");
	free(m);
	vd_suite_free(s);

	/* a bad URL is quoted masked */
	ck_assert_int_eq(parse(SUITE("{\"name\": \"a\", \"type\": \"http\", "
				     "\"url\": \"http://u:pw-0987@[::1/\"}"),
			       &s),
			 VD_ERR_CONFIG);
	ck_assert_ptr_null(strstr(err, "pw-0987"));
	ck_assert_ptr_nonnull(strstr(err, "http://u:***@"));

	/* a secret variable quoted back by a validation error */
	setenv("VD_T_DB_PASSWORD", "hunter2-xyz", 1);
	ck_assert_int_eq(parse(SUITE(CHK("a", ", \"timeout\": "
					      "\"${VD_T_DB_PASSWORD}\"")),
			       &s),
			 VD_ERR_CONFIG);
	ck_assert_ptr_null(strstr(err, "hunter2"));
	ck_assert_str_eq(err, "f.json: checks[0].timeout: invalid duration "
			      "\"***\" (use e.g. \"250ms\", \"5s\", \"1m\")");
	unsetenv("VD_T_DB_PASSWORD");
}
END_TEST

/*
 * Hostile inputs: each loads or is refused with a message naming the file,
 * never crashes. Inputs the fuzzers (tests/fuzz) find go here as well.
 */
static const struct {
	const char *json;
	const char *msg; /* NULL: loads */
} hostile[] = {
	{SUITE(CHK("a", ", \"retries\": 1e300")),
	 "f.json: checks[0].retries: must be between 0 and 10000"},
	{SUITE(CHK("a", ", \"retries\": -0.0")), NULL},
	{SUITE(CHK("a", ", \"max_body\": 1e300")),
	 "f.json: checks[0].max_body: expected a size in bytes"},
	{SUITE(CHK("a", ", \"max_body\": \"99999999999999999999GiB\"")),
	 "f.json: checks[0].max_body: expected a size"},
	{SUITE(CHK("a", ", \"timeout\": \"99999999999999999999999h\"")),
	 "f.json: checks[0].timeout: invalid duration"},
	{SUITE(CHK("a", ", \"timeout\": \"1e999s\"")),
	 "f.json: checks[0].timeout: invalid duration"},
	{SUITE(CHK("a", ", \"timeout\": \"nan\"")),
	 "f.json: checks[0].timeout: invalid duration"},
	{"{\"concurrency\": 4294967296, \"checks\": [" CHK("a", "") "]}",
	 "f.json: concurrency: must be between 1 and 1000000"},
	{SUITE(CHK("a", ", \"expect\": {\"status\": 200.5}")),
	 "f.json: checks[0].expect.status: expected an integer (100-599)"},
	{SUITE(CHK("a", ", \"expect\": {\"status\": []}")),
	 "f.json: checks[0].expect.status: expected an integer, a class"},
	{SUITE(CHK("a", ", \"expect\": {\"json\": {\"\": 1}}")),
	 "f.json: checks[0].expect.json.: invalid dotted path"},
	{SUITE(CHK("a", ", \"expect\": {\"json\": {\"a..b\": 1}}")),
	 "f.json: checks[0].expect.json.a..b: invalid dotted path"},
	{SUITE(CHK("a", ", \"expect\": {\"headers\": {\"X\": {}}}")),
	 "f.json: checks[0].expect.headers.X: expected true (present)"},
	{SUITE(CHK("a", ", \"body\": {\"k\": \"${VD_T_HOST}\"}")), NULL},
	{"{\"checks\": [" CHK("a", "") "], \"\": 1}", "f.json: unknown key"},
	{"{\"checks\": [" CHK("a",
			      "") "], \"x\": {\"y\": {\"y\": 1, \"y\": 2}}}",
	 "f.json: x.y.y: duplicate key"},
	{"{\"defaults\": {\"expect\": {\"status\": \"2xx\"}}, \"checks\": "
	 "[" CHK("a", ", \"expect\": {\"body_contains\": \"ok\"}") "]}",
	 NULL},
	{"{\"defaults\": {\"expect\": {\"bogus\": 1}}, \"checks\": [" CHK(
		 "a", ", \"expect\": {}") "]}",
	 "f.json: checks[0].expect.bogus: unknown key"},
	{"{\"defaults\": {}, \"checks\": [" CHK("a", "") "]}", NULL},
	{"{\"defaults\": {\"timeout\": \"1s\"}, \"checks\": [1]}",
	 "f.json: checks[0]: expected an object"},
	{SUITE(CHK("a", ", \"tags\": []")), NULL},
	{SUITE(CHK("${VD_T_DOLLAR}", "")), NULL},
	/* found by fuzz_suite: a short secret (a cookie "json") once masked
	 * the file name out of the message ("fuzz.***: ...") */
	{SUITE(CHK("a",
		   ", \"headers\": {\"cookie\": \"json\"}, \"bo=y\": null")),
	 "f.json: checks[0].bo=y: unknown key"},
	/* a UTF-8 byte order mark is skipped */
	{"\xef\xbb\xbf" SUITE(CHK("a", "")), NULL},
};

START_TEST(test_hostile)
{
	struct vd_suite *s = NULL;
	int r = parse(hostile[_i].json, &s);

	if (hostile[_i].msg == NULL) {
		ck_assert_msg(r == 0, "refused: %s", err);
		vd_suite_free(s);
		return;
	}
	vd_suite_free(s);
	ck_assert_msg(r == VD_ERR_CONFIG, "accepted: %s", hostile[_i].json);
	ck_assert_msg(strncmp(err, hostile[_i].msg, strlen(hostile[_i].msg)) ==
			      0,
		      "got: %s\nwant: %s", err, hostile[_i].msg);
}
END_TEST

/*
 * Strings a suite may not hold (issue 8): invalid UTF-8 and control
 * characters other than tab and newline, wherever they are (keys, values,
 * interpolated variables), refused with the place named; durations whose
 * units repeat or go backwards. msg NULL: loads.
 */
static const struct {
	const char *json;
	const char *msg;
} strict[] = {
	{SUITE(CHK("a\xff", "")),
	 "f.json: checks[0].name: invalid UTF-8 at byte 2"},
	{SUITE(CHK("a\xc0\xaf", "")), /* overlong "/" */
	 "f.json: checks[0].name: invalid UTF-8 at byte 2"},
	{SUITE(CHK("caf\xc3\xa9 \xe2\x9c\x93", "")), NULL},
	{SUITE(CHK("a", ", \"headers\": {\"X-A\": \"v\\u001b[31m\"}")),
	 "f.json: checks[0].headers.X-A: control character U+001B at byte 2"},
	{SUITE(CHK("a", ", \"headers\": {\"X-A\": \"v\\u0001\"}")),
	 "f.json: checks[0].headers.X-A: control character U+0001 at byte 2"},
	{SUITE(CHK("a", ", \"headers\": {\"X-A\": \"v\x7f\"}")),
	 "f.json: checks[0].headers.X-A: control character U+007F at byte 2"},
	{SUITE(CHK("a", ", \"headers\": {\"X-A\": \"a\\tb\"}")), NULL},
	{SUITE(CHK("a", ", \"headers\": {\"X-A\": \"\xe9t\xe9\"}")),
	 "f.json: checks[0].headers.X-A: invalid UTF-8 at byte 1"},
	{SUITE(CHK("a", ", \"headers\": {\"X-\xff\": \"v\"}")),
	 "f.json: checks[0].headers.X-\xef\xbf\xbd: key: invalid UTF-8 at "
	 "byte 3"},
	{SUITE(CHK("a", ", \"stage\": \"s\\u0000\"")),
	 "f.json: line 1, column "},
	{SUITE(CHK("a", ", \"tags\": [\"ok\", \"b\\u0007d\"]")),
	 "f.json: checks[0].tags[1]: control character U+0007 at byte 2"},
	{SUITE(CHK("a", ", \"body\": \"line 1\\nline 2\\r\\n\"")), NULL},
	{SUITE(CHK("a", ", \"headers\": {\"X-A\": \"${VD_T_CTRL}\"}")),
	 "f.json: checks[0].headers.X-A: control character U+001B at byte 1"},
	{SUITE(CHK("a", ", \"headers\": {\"X-A\": \"${VD_T_LATIN1}\"}")),
	 "f.json: checks[0].headers.X-A: invalid UTF-8 at byte 2"},
	{"{\"name\": \"s\xfe\", \"checks\": [" CHK("a", "") "]}",
	 "f.json: name: invalid UTF-8 at byte 2"},
	/* durations */
	{SUITE(CHK("a", ", \"timeout\": \"1h1h\"")),
	 "f.json: checks[0].timeout: invalid duration \"1h1h\": each unit at "
	 "most once, largest first (e.g. \"1m30s\")"},
	{SUITE(CHK("a", ", \"timeout\": \"5s5s\"")),
	 "f.json: checks[0].timeout: invalid duration \"5s5s\": each unit"},
	{SUITE(CHK("a", ", \"interval\": \"30s1m\"")),
	 "f.json: checks[0].interval: invalid duration \"30s1m\": each unit"},
	{SUITE(CHK("a", ", \"interval\": \"500ms1s\"")),
	 "f.json: checks[0].interval: invalid duration \"500ms1s\": each"},
	{SUITE(CHK("a", ", \"timeout\": \"1m30s\"")), NULL},
	{SUITE(CHK("a", ", \"timeout\": \"1s500ms\"")), NULL},
};

START_TEST(test_strict)
{
	struct vd_suite *s = NULL;
	int r;

	setenv("VD_T_CTRL", "\033]0;pwned\007", 1);
	setenv("VD_T_LATIN1", "d\xe9j\xe0", 1);
	r = parse(strict[_i].json, &s);
	unsetenv("VD_T_CTRL");
	unsetenv("VD_T_LATIN1");
	if (strict[_i].msg == NULL) {
		ck_assert_msg(r == 0, "refused: %s", err);
		vd_suite_free(s);
		return;
	}
	vd_suite_free(s);
	ck_assert_msg(r == VD_ERR_CONFIG, "accepted: %s", strict[_i].json);
	ck_assert_msg(strncmp(err, strict[_i].msg, strlen(strict[_i].msg)) == 0,
		      "got: %s\nwant: %s", err, strict[_i].msg);
}
END_TEST

/* Which failed attempts are retried: by default what can heal; retry_on
 * chooses. */
static bool
retried(const struct vd_check *chk, enum vd_status st, enum vd_reason kind,
	int http_status)
{
	struct vd_result res;
	bool r;

	vd_result_init(&res);
	res.status = st;
	res.reason_kind = kind;
	if (http_status > 0)
		vd_result_fact_num(&res, "http_status", http_status);
	if (http_status < 0) /* a certificate judged and refused */
		vd_result_fact_str(&res, "tls_verify_error",
				   "unable to get local issuer certificate");
	r = vd_retry_wanted(chk, &res);
	vd_result_clear(&res);
	return r;
}

START_TEST(test_retry_on)
{
	struct vd_suite *s = load_ok(SUITE(CHK("dflt", "") "," CHK(
		"some",
		", \"retry_on\": [\"tls\", "
		"\"4xx\"]") "," CHK("one",
				    ", "
				    "\"r"
				    "etr"
				    "y_"
				    "on"
				    "\":"
				    " \""
				    "bod"
				    "y"
				    "\"") "," CHK("any", ", \"retry_on\": "
							 "[\"any\"]") "," CHK("more",
									      ", \"retry_on\": "
									      "[\"default\", "
									      "\"body\"]")));
	const struct vd_check *d = s->checks[0], *some = s->checks[1],
			      *one = s->checks[2], *any = s->checks[3],
			      *more = s->checks[4];
	enum vd_status F = VD_STATUS_FAIL, E = VD_STATUS_ERROR;

	/* the default: what can heal */
	ck_assert(retried(d, E, VD_REASON_TIMEOUT, 0));
	ck_assert(retried(d, E, VD_REASON_REFUSED, 0));
	ck_assert(retried(d, E, VD_REASON_DNS, 0));
	ck_assert(retried(d, F, VD_REASON_UNAVAILABLE, 0));
	ck_assert(retried(d, F, VD_REASON_STATUS, 503));
	ck_assert(retried(d, F, VD_REASON_STATUS, 0)); /* no HTTP code */
	ck_assert(retried(d, F, VD_REASON_VALUE, 0));  /* exec, queries */
	/* a TLS handshake that broke before a certificate was judged */
	ck_assert(retried(d, E, VD_REASON_TLS, 0));
	/* and what cannot: a certificate refused, a tls check's finding */
	ck_assert(!retried(d, E, VD_REASON_TLS, -1));
	ck_assert(!retried(d, F, VD_REASON_TLS, 0));
	ck_assert(!retried(d, F, VD_REASON_STATUS, 404));
	ck_assert(!retried(d, F, VD_REASON_BODY, 0));
	ck_assert(!retried(d, F, VD_REASON_HEADER, 0));
	ck_assert(!retried(d, F, VD_REASON_POLICY, 0));
	ck_assert(!retried(d, VD_STATUS_PASS, VD_REASON_NONE, 200));
	/* a list replaces the default */
	ck_assert(retried(some, E, VD_REASON_TLS, -1));
	ck_assert(!retried(one, E, VD_REASON_TLS, 0));
	ck_assert(retried(some, F, VD_REASON_STATUS, 401));
	ck_assert(!retried(some, F, VD_REASON_STATUS, 502));
	ck_assert(!retried(some, E, VD_REASON_TIMEOUT, 0));
	ck_assert(retried(one, F, VD_REASON_BODY, 0));
	ck_assert(!retried(one, E, VD_REASON_REFUSED, 0));
	ck_assert(retried(any, E, VD_REASON_TLS, 0));
	ck_assert(retried(any, F, VD_REASON_STATUS, 404));
	ck_assert(retried(any, F, VD_REASON_BODY, 0));
	ck_assert(retried(more, F, VD_REASON_BODY, 0));
	ck_assert(retried(more, E, VD_REASON_TIMEOUT, 0));
	ck_assert(retried(more, F, VD_REASON_STATUS, 500));
	ck_assert(!retried(more, E, VD_REASON_TLS, -1));
	ck_assert(retried(more, E, VD_REASON_TLS, 0));
	ck_assert(retried(any, E, VD_REASON_TLS, -1));
	vd_suite_free(s);
}
END_TEST

/* Relative paths in a suite file are its folder's; absolute ones and
 * suites parsed from memory are left as they are; an empty ca_file is
 * the default trust store. */
START_TEST(test_relative_paths)
{
	char dir[] = "/tmp/vd-suite-XXXXXX", path[300], want[400];
	const char *text = "{\"checks\": ["
			   "{\"name\": \"env\", \"type\": \"env_file\", "
			   "\"path\": \".env\"},"
			   "{\"name\": \"abs\", \"type\": \"env_file\", "
			   "\"path\": \"/etc/x.env\"},"
			   "{\"name\": \"up\", \"type\": \"json_file\", "
			   "\"path\": \"../m.json\"},"
			   "{\"name\": \"h\", \"type\": \"http\", " U ", "
			   " \"tls\": {\"ca_file\": \"certs/ca.pem\"}},"
			   "{\"name\": \"d\", \"type\": \"http\", " U ", "
			   " \"tls\": {\"ca_file\": \"${VD_T_UNSET:-}\"}}]}";
	struct vd_suite *s = NULL;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/staging.json", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	ck_assert_msg(vd_suite_load(path, NULL, &s, err, sizeof(err)) == 0,
		      "%s", err);
	snprintf(want, sizeof(want), "%s/.env", dir);
	ck_assert_str_eq(s->checks[0]->target, want);
	ck_assert_str_eq(s->checks[1]->target, "/etc/x.env");
	snprintf(want, sizeof(want), "%s/../m.json", dir);
	ck_assert_str_eq(s->checks[2]->target, want);
	snprintf(want, sizeof(want), "%s/certs/ca.pem", dir);
	ck_assert_str_eq(s->checks[3]->tls.ca_file, want);
	ck_assert_ptr_null(s->checks[4]->tls.ca_file);
	vd_suite_free(s);
	s = load_ok(text);
	ck_assert_str_eq(s->checks[0]->target, ".env");
	ck_assert_str_eq(s->checks[3]->tls.ca_file, "certs/ca.pem");
	vd_suite_free(s);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* A suite path that is not a regular file is refused at once: a FIFO
 * with no writer must not block the loader. */
START_TEST(test_not_regular)
{
	char dir[] = "/tmp/vd-suite-XXXXXX", fifo[300], want[400];
	struct vd_suite *s = (void *)1;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/suite.json", dir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_eq(vd_suite_load(fifo, NULL, &s, err, sizeof(err)),
			 VD_ERR_CONFIG);
	ck_assert_ptr_null(s);
	snprintf(want, sizeof(want), "%s: not a regular file (a FIFO)", fifo);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(vd_suite_load(dir, NULL, &s, err, sizeof(err)),
			 VD_ERR_CONFIG);
	snprintf(want, sizeof(want), "%s: not a regular file (a directory)",
		 dir);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(vd_suite_load("/dev/null", NULL, &s, err, sizeof(err)),
			 VD_ERR_CONFIG);
	ck_assert_str_eq(err,
			 "/dev/null: not a regular file (a character device)");
	unlink(fifo);
	rmdir(dir);
}
END_TEST

/* Deep nesting: cJSON stops at 1000 levels; below that, interpolation,
 * the duplicate-key walk and the defaults merge recurse safely. */
static char *
nested(const char *head, size_t depth, const char *open, const char *close,
       const char *tail)
{
	struct vd_buf b;
	size_t i;

	vd_buf_init(&b, 0);
	vd_buf_puts(&b, head);
	for (i = 0; i < depth; i++)
		vd_buf_puts(&b, open);
	vd_buf_puts(&b, "\"${VD_T_HOST}\"");
	for (i = 0; i < depth; i++)
		vd_buf_puts(&b, close);
	vd_buf_puts(&b, tail);
	return vd_buf_steal(&b);
}

START_TEST(test_deep_nesting)
{
	struct vd_suite *s = NULL;
	char *t;

	t = nested("{\"checks\": [" CHK("a", "") "], \"x\": ", 900, "[", "]",
		   "}");
	ck_assert_int_eq(parse(t, &s), VD_ERR_CONFIG);
	ck_assert_str_eq(err, "f.json: x: unknown key");
	free(t);

	t = nested("{\"checks\": [" CHK("a", "") "], \"x\": ", 1500, "[", "]",
		   "}");
	ck_assert_int_eq(parse(t, &s), VD_ERR_CONFIG);
	ck_assert(strncmp(err, "f.json: line 1, column ", 23) == 0);
	free(t);

	/* the same deep object in defaults and in the check: merged level by
	 * level, then refused where the check's parser meets it */
	t = nested("{\"defaults\": {\"tls\": ", 400, "{\"a\": ", "}",
		   "}, \"checks\": [" CHK(
			   "a", ", \"tls\": {\"a\": {\"a\": {}}}") "]}");
	ck_assert_int_eq(parse(t, &s), VD_ERR_CONFIG);
	ck_assert_str_eq(err, "f.json: checks[0].tls.a: unknown key");
	free(t);
}
END_TEST

/* A key too long for any message buffer is cut, never overflows. */
START_TEST(test_long_key)
{
	struct vd_suite *s = NULL;
	struct vd_buf b;
	size_t i;

	vd_buf_init(&b, 0);
	vd_buf_puts(&b, "{\"checks\": [" CHK("a", "") "], \"");
	for (i = 0; i < 5000; i++)
		vd_buf_puts(&b, "k");
	vd_buf_puts(&b, "\": {\"");
	for (i = 0; i < 5000; i++)
		vd_buf_puts(&b, "j");
	vd_buf_puts(&b, "\": \"${VD_T_UNSET}\"}}");
	ck_assert_int_eq(parse(b.data, &s), VD_ERR_CONFIG);
	ck_assert(strncmp(err, "f.json: kkkk", 12) == 0);
	ck_assert_uint_lt(strlen(err), sizeof(err));
	vd_buf_free(&b);
}
END_TEST

Suite *
suite_suite(void)
{
	Suite *s = suite_create("suite");
	TCase *tc = tcase_create("loader");

	tcase_add_checked_fixture(tc, env_setup, env_teardown);
	tcase_add_loop_test(tc, test_bad, 0,
			    (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_nul_byte);
	tcase_add_loop_test(tc, test_syntax, 0,
			    (int)(sizeof(syntax) / sizeof(syntax[0])));
	tcase_add_test(tc, test_comments);
	tcase_add_test(tc, test_strip_comments);
	tcase_add_loop_test(tc, test_interpolate, 0,
			    (int)(sizeof(interp) / sizeof(interp[0])));
	tcase_add_test(tc, test_interpolate_in_suite);
	tcase_add_test(tc, test_common_keys);
	tcase_add_test(tc, test_name_from_file);
	tcase_add_test(tc, test_stages);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_load_opts);
	tcase_add_test(tc, test_load_file);
	tcase_add_test(tc, test_secrets);
	tcase_add_loop_test(tc, test_strict, 0,
			    (int)(sizeof(strict) / sizeof(strict[0])));
	tcase_add_test(tc, test_not_regular);
	tcase_add_test(tc, test_retry_on);
	tcase_add_test(tc, test_relative_paths);
	tcase_add_loop_test(tc, test_hostile, 0,
			    (int)(sizeof(hostile) / sizeof(hostile[0])));
	tcase_add_test(tc, test_deep_nesting);
	tcase_add_test(tc, test_long_key);
	suite_add_tcase(s, tc);
	return s;
}
