/*
 * check_flow.c - the flow check's pieces that need no network
 * (probe/checks/flow.c): {{name}} scanning and filling, captures from a
 * JSON body and from a cookie jar's list, which names look secret, the
 * errors a suite gets at load (naming the place), and secrets held for a
 * while (lib/util.c's vd_secret_hold/vd_secret_release).
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "../../lib/util.h"
#include "../../probe/checks/checks.h"
#include "../../suites/suite.h"
#include "unit.h"

static const char *const names[] = {"token", "csrf", "user.id"};
static const char *const vals[] = {"t0k\"en", "c5rf", "42"};

static const struct {
	const char *in;
	int ret;
	const char *why;
} scans[] = {
	{"Bearer {{token}}", 0, ""},
	{"{{csrf}}-{{user.id}}", 0, ""},
	{"no braces", 0, ""},
	{"single { brace }", 0, ""},
	{"{{tokn}}", -1, "{{tokn}}: no earlier step captures \"tokn\""},
	{"a {{token", -1, "unterminated {{"},
	{"{{}}", -1, "{{}}: a capture name is letters, digits, _, - and ."},
	{"{{to ken}}", -1,
	 "{{to ken}}: a capture name is letters, digits, _, - and ."},
};

START_TEST(test_tmpl_scan)
{
	char why[200] = "";
	int r = vd_flow_tmpl_scan(scans[_i].in, names, 3, why, sizeof(why));
	ck_assert_int_eq(r, scans[_i].ret);
	if (r)
		ck_assert_str_eq(why, scans[_i].why);
}
END_TEST

START_TEST(test_tmpl_fill)
{
	char *s = vd_flow_tmpl_fill("Bearer {{token}} {{csrf}}", names, vals, 3,
				    false);
	ck_assert_str_eq(s, "Bearer t0k\"en c5rf");
	free(s);
	/* in a JSON body: escaped, so the document stays JSON */
	s = vd_flow_tmpl_fill("{\"t\":\"{{token}}\",\"id\":{{user.id}}}", names,
			      vals, 3, true);
	ck_assert_str_eq(s, "{\"t\":\"t0k\\\"en\",\"id\":42}");
	free(s);
	s = vd_flow_tmpl_fill("{{other}} and {{csrf", names, vals, 3, false);
	ck_assert_str_eq(s, "{{other}} and {{csrf");
	free(s);
}
END_TEST

static const struct {
	const char *body, *path, *want; /* want NULL: nothing found */
} jcaps[] = {
	{"{\"token\": \"abc\"}", "token", "abc"},
	{"{\"data\": {\"id\": 7}}", "data.id", "7"},
	{"{\"items\": [{\"id\": 1}, {\"id\": 2}]}", "items.1.id", "2"},
	{"{\"ok\": true}", "ok", "true"},
	{"{\"o\": {\"a\": [1, 2]}}", "o", "{\"a\":[1,2]}"},
	{"{\"n\": null}", "n", "null"},
	{"{\"token\": \"abc\"}", "tok", NULL},
	{"{\"items\": []}", "items.0", NULL},
	{"not json", "token", NULL},
	{"", "token", NULL},
};

START_TEST(test_capture_json)
{
	char *got = vd_flow_capture_json(jcaps[_i].body, strlen(jcaps[_i].body),
					 jcaps[_i].path);
	if (jcaps[_i].want == NULL)
		ck_assert_ptr_null(got);
	else
		ck_assert_str_eq(got, jcaps[_i].want);
	free(got);
}
END_TEST

/* A libcurl cookie list: the cookie for the step's host is picked. */
START_TEST(test_cookie_pick)
{
	struct curl_slist *l = NULL;
	char *v;

	l = curl_slist_append(
		l, ".other.test\tTRUE\t/\tFALSE\t0\tsessionid\tother-value");
	l = curl_slist_append(
		l,
		"#HttpOnly_app.test\tFALSE\t/\tFALSE\t0\tsessionid\tapp-value");
	l = curl_slist_append(
		l, ".example.test\tTRUE\t/api\tTRUE\t0\tcsrftoken\tcsrf-value");
	l = curl_slist_append(l, "broken line without tabs");
	v = vd_flow_cookie_pick(l, "sessionid", "app.test");
	ck_assert_str_eq(v, "app-value");
	free(v);
	v = vd_flow_cookie_pick(l, "sessionid", "www.other.test");
	ck_assert_str_eq(v, "other-value");
	free(v);
	/* a domain cookie matches subdomains, not look-alikes */
	v = vd_flow_cookie_pick(l, "csrftoken", "api.example.test");
	ck_assert_str_eq(v, "csrf-value");
	free(v);
	v = vd_flow_cookie_pick(l, "sessionid", "notapp.test");
	ck_assert_str_eq(v, "other-value"); /* none matches: the first */
	free(v);
	ck_assert_ptr_null(vd_flow_cookie_pick(l, "session", "app.test"));
	ck_assert_ptr_null(vd_flow_cookie_pick(NULL, "sessionid", "app.test"));
	curl_slist_free_all(l);
}
END_TEST

START_TEST(test_secret_names)
{
	ck_assert(vd_flow_secret_name("token"));
	ck_assert(vd_flow_secret_name("access_TOKEN"));
	ck_assert(vd_flow_secret_name("X-CSRF-Token"));
	ck_assert(vd_flow_secret_name("sessionid"));
	ck_assert(vd_flow_secret_name("api_key"));
	ck_assert(vd_flow_secret_name("Authorization"));
	ck_assert(vd_flow_secret_name("password"));
	ck_assert(!vd_flow_secret_name("user_id"));
	ck_assert(!vd_flow_secret_name("items.0.name"));
	ck_assert(!vd_flow_secret_name(NULL));
}
END_TEST

/* --- at load ----------------------------------------------------------- */

#define STEP(extra) "{\"url\": \"http://127.0.0.1:9/\"" extra "}"
#define FLOW(steps)                                                            \
	"{\"checks\": [{\"name\": \"f\", \"type\": \"flow\", \"steps\": "      \
	"[" steps "]}]}"
#define CAP(n, src) ", \"capture\": {\"" n "\": " src "}"

static const struct {
	const char *json, *msg;
} bad[] = {
	{"{\"checks\": [{\"name\": \"f\", \"type\": \"flow\"}]}",
	 "f.json: checks[0].steps: is required"},
	{FLOW(""), "f.json: checks[0].steps: expected a list of steps"},
	{FLOW("1"), "f.json: checks[0].steps[0]: expected an object (a step)"},
	{FLOW(STEP(CAP("t", "{\"json\": \"a\"}")) ", " STEP(
		 ", \"headers\": {\"X-T\": \"{{u}}\"}")),
	 "f.json: checks[0].steps[1].headers.X-T: {{u}}: no earlier step "
	 "captures \"u\""},
	{FLOW("{\"url\": \"http://127.0.0.1:9/{{t}}\"" CAP(
		 "t", "{\"json\": \"a\"}") "}"),
	 "f.json: checks[0].steps[0].url: {{t}}: no earlier step captures "
	 "\"t\""},
	{FLOW(STEP(", \"body\": {\"a\": [\"x\", \"{{t}}\"]}")),
	 "f.json: checks[0].steps[0].body.a[1]: {{t}}: no earlier step "
	 "captures \"t\""},
	{FLOW(STEP(", \"body\": \"{{t\"")),
	 "f.json: checks[0].steps[0].body: unterminated {{"},
	{FLOW(STEP(CAP("t", "{}"))),
	 "f.json: checks[0].steps[0].capture.t: expected one of json, header, "
	 "regex or cookie"},
	{FLOW(STEP(CAP("t", "{\"json\": \"a\", \"cookie\": \"b\"}"))),
	 "f.json: checks[0].steps[0].capture.t.cookie: one of json, header, "
	 "regex or cookie, not two"},
	{FLOW(STEP(CAP("t", "{\"json\": \"items.*.id\"}"))),
	 "f.json: checks[0].steps[0].capture.t.json: a capture takes one "
	 "value: no \"*\""},
	{FLOW(STEP(CAP("t", "{\"json\": \"a..b\"}"))),
	 "f.json: checks[0].steps[0].capture.t.json: invalid dotted path"},
	{FLOW(STEP(CAP("t", "{\"regex\": \"(\"}"))),
	 "f.json: checks[0].steps[0].capture.t.regex: invalid regular "
	 "expression"},
	{FLOW(STEP(CAP("t", "{\"json\": \"a\", \"scret\": true}"))),
	 "f.json: checks[0].steps[0].capture.t.scret: unknown key"},
	{FLOW(STEP(CAP("a b", "{\"json\": \"a\"}"))),
	 "f.json: checks[0].steps[0].capture.a b: a capture name is letters"},
	{FLOW("{\"name\": \"x\", \"url\": \"http://127.0.0.1:9/\"}, "
	      "{\"name\": \"x\", \"url\": \"http://127.0.0.1:9/\"}"),
	 "f.json: checks[0].steps[1].name: \"x\" names steps[0] already"},
	{FLOW(STEP(", \"type\": \"http\"")),
	 "f.json: checks[0].steps[0].type: unknown key"},
	{FLOW("{\"url\": \"ftp://127.0.0.1/\"}"),
	 "f.json: checks[0].steps[0].url: expected an http:// or https:// "
	 "URL"},
	{FLOW(STEP(", \"expect\": {\"status\": 999}")),
	 "f.json: checks[0].steps[0].expect.status: expected an integer"},
};

START_TEST(test_load_bad)
{
	struct vd_suite *s = NULL;
	char err[1200];
	int r = vd_suite_parse(bad[_i].json, strlen(bad[_i].json), "f.json",
			       NULL, &s, err, sizeof(err));
	ck_assert_msg(r != 0, "accepted: %s", bad[_i].json);
	ck_assert_msg(strncmp(err, bad[_i].msg, strlen(bad[_i].msg)) == 0,
		      "got: %s\nwant: %s", err, bad[_i].msg);
	ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_load_good)
{
	static const char *const ok = FLOW(
		"{\"name\": \"login\", \"method\": \"POST\", \"url\": "
		"\"http://127.0.0.1:9/login\", \"body\": {\"u\": \"x\"}, "
		"\"capture\": {\"token\": {\"json\": \"token\"}, \"sid\": "
		"{\"cookie\": \"sessionid\"}, \"c\": {\"header\": \"X-C\"}, "
		"\"r\": {\"regex\": \"id=([0-9]+)\", \"secret\": true}}}, "
		"{\"name\": \"me\", \"url\": \"http://127.0.0.1:9/u/{{r}}\", "
		"\"timeout\": \"2s\", \"tls\": {\"verify\": false}, "
		"\"headers\": {\"Authorization\": \"Bearer {{token}}\", "
		"\"X-C\": \"{{c}}{{sid}}\"}, \"expect\": {\"status\": 200}}");
	struct vd_suite *s = NULL;
	char err[1200];
	int r = vd_suite_parse(ok, strlen(ok), "f.json", NULL, &s, err,
			       sizeof(err));
	ck_assert_msg(r == 0, "refused: %s", err);
	vd_suite_free(s);
}
END_TEST

/* --- secrets held for a while ------------------------------------------- */

static void
masked(const char *in, const char *want)
{
	char *m = vd_mask(in);
	ck_assert_str_eq(m, want);
	free(m);
}

START_TEST(test_secret_hold)
{
	vd_secret_clear();
	vd_secret_hold("canary/tok+en=1");
	masked("got canary/tok+en=1", "got ***");
	/* base64 and URL-encoded forms too */
	masked("b64 Y2FuYXJ5L3Rvaytlbj0x", "b64 ***");
	masked("url canary%2Ftok%2Ben%3D1", "url ***");
	vd_secret_hold("canary/tok+en=1");
	vd_secret_release("canary/tok+en=1");
	masked("still canary/tok+en=1", "still ***");
	vd_secret_release("canary/tok+en=1");
	masked("now canary/tok+en=1", "now canary/tok+en=1");
	/* a secret kept for good stays */
	vd_secret_add("env-secret-value");
	vd_secret_hold("env-secret-value");
	vd_secret_release("env-secret-value");
	masked("x env-secret-value", "x ***");
	/* short values are not secrets */
	vd_secret_hold("ab");
	masked("ab", "ab");
	vd_secret_release("ab");
	vd_secret_clear();
}
END_TEST

Suite *
flow_suite(void)
{
	Suite *s = suite_create("flow");
	TCase *tc = tcase_create("flow");
	tcase_add_loop_test(tc, test_tmpl_scan, 0,
			    (int)(sizeof(scans) / sizeof(scans[0])));
	tcase_add_test(tc, test_tmpl_fill);
	tcase_add_loop_test(tc, test_capture_json, 0,
			    (int)(sizeof(jcaps) / sizeof(jcaps[0])));
	tcase_add_test(tc, test_cookie_pick);
	tcase_add_test(tc, test_secret_names);
	tcase_add_loop_test(tc, test_load_bad, 0,
			    (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_load_good);
	tcase_add_test(tc, test_secret_hold);
	suite_add_tcase(s, tc);
	return s;
}
