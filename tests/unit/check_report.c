/*
 * check_report.c - the report writers (probe/report/) on a run summary
 * built by hand, with hostile check names (quotes, backslashes, <, &,
 * newlines, '#', '|', control characters), rendered to memory. JSON is
 * read back with cJSON, JUnit with libxml2. Depends on probe/ only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "../../probe/probe.h"
#include "../../probe/report.h"
#include "../../lib/util.h"
#include "unit.h"

static const struct vd_check_type fake_type = {.name = "http"};

#define NCHECKS 7

/* The hostile names, and what a JUnit reader must see of them: control
 * characters dropped, a newline in an attribute read as a space. */
static const char *const names[NCHECKS] = {
	"say \"hi\" back\\slash 'q'",
	"<script>&amp;</script>",
	"line1\nline2 # not a comment | pipe",
	"ctl\x01\x02\x1b[31mred\x7f",
	"skipped | #5",
	"nc-error `tick`",
	"caf\xc3\xa9 \xe2\x9c\x93",
};
static const char *const junit_names[NCHECKS] = {
	"say \"hi\" back\\slash 'q'",
	"<script>&amp;</script>",
	"line1 line2 # not a comment | pipe",
	"ctl[31mred\x7f",
	"skipped | #5",
	"nc-error `tick`",
	"caf\xc3\xa9 \xe2\x9c\x93",
};

struct fixture {
	struct vd_check checks[NCHECKS];
	const struct vd_check *ptrs[NCHECKS];
	struct vd_result results[NCHECKS];
	struct vd_run_summary sum;
	struct vd_report_in in;
	char *tags[2];
};

static struct fixture fx;

static void
set_result(size_t i, const char *stage, unsigned stage_index, bool critical,
	   enum vd_status st, enum vd_reason kind, const char *reason,
	   int attempts, double duration)
{
	struct vd_check *c = &fx.checks[i];
	struct vd_result *r = &fx.results[i];

	c->name = (char *)names[i];
	c->type = &fake_type;
	c->stage = (char *)stage;
	c->stage_index = stage_index;
	c->critical = critical;
	c->target = (char *)"http://127.0.0.1:9/<&>";
	c->timeout = 5;
	fx.ptrs[i] = c;
	vd_result_init(r);
	r->status = st;
	r->reason_kind = kind;
	r->reason = strdup(reason);
	r->attempts = attempts;
	r->started = 1700000000.25;
	r->duration = duration;
}

static void
fixture_setup(void)
{
	memset(&fx, 0, sizeof(fx));
	set_result(0, "health", 0, true, VD_STATUS_PASS, VD_REASON_NONE,
		   "status 200", 1, 0.0125);
	fx.results[0].timings[VD_PHASE_CONNECT] = 0.001;
	fx.results[0].timings[VD_PHASE_TOTAL] = 0.0125;
	vd_result_fact_num(&fx.results[0], "http_status", 200);
	vd_result_fact_str(&fx.results[0], "tls_version", "TLSv1.3 \"q\" <&>");
	vd_result_fact_bool(&fx.results[0], "tls_verify", false);
	fx.tags[0] = (char *)"backend";
	fx.tags[1] = (char *)"t\"ag";
	fx.checks[0].tags = fx.tags;
	fx.checks[0].ntags = 2;
	set_result(1, "health", 0, true, VD_STATUS_FAIL, VD_REASON_STATUS,
		   "status 503, expected 200 <&>", 1, 0.5);
	set_result(2, "health", 0, true, VD_STATUS_ERROR, VD_REASON_TIMEOUT,
		   "timeout after 1s # really", 3, 3.25);
	set_result(3, "health", 0, false, VD_STATUS_FAIL, VD_REASON_BODY,
		   "body does not contain \"ok\" | x", 1, 0.2);
	set_result(4, "smoke", 1, true, VD_STATUS_SKIPPED, VD_REASON_SKIPPED,
		   "skipped: stage 'health' failed (x)", 0, 0);
	set_result(5, "smoke", 1, false, VD_STATUS_ERROR, VD_REASON_REFUSED,
		   "connection refused", 1, 0.001);
	set_result(6, "smoke", 1, true, VD_STATUS_SKIPPED, VD_REASON_SKIPPED,
		   "skipped: stage 'health' failed (x)", 0, 0);
	fx.sum.checks = fx.ptrs;
	fx.sum.results = fx.results;
	fx.sum.n = NCHECKS;
	fx.sum.started = 1700000000.0;
	fx.sum.duration = 3.5;
	fx.sum.passed = false;
	fx.in.suite = "suite \"<&>\"";
	fx.in.sum = &fx.sum;
	fx.in.color = false;
	fx.in.verbosity = 0;
}

static void
fixture_teardown(void)
{
	size_t i;
	for (i = 0; i < NCHECKS; i++)
		vd_result_clear(&fx.results[i]);
}

/* Renders with the named writer into a new string. */
static char *
render(const char *writer, size_t *len)
{
	const struct vd_report_writer *w = vd_report_find(writer);
	char *buf = NULL;
	size_t n = 0;
	FILE *f;

	ck_assert_msg(w != NULL, "no writer %s", writer);
	ck_assert_str_eq(w->name, writer);
	f = open_memstream(&buf, &n);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(w->write(f, &fx.in), 0);
	ck_assert_int_eq(fclose(f), 0);
	if (len)
		*len = n;
	return buf;
}

START_TEST(test_registry)
{
	static const char *const all[] = {"text", "json", "junit", "tap",
					  "markdown"};
	size_t i;
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		ck_assert_ptr_nonnull(vd_report_find(all[i]));
	ck_assert_ptr_null(vd_report_find("xml"));
}
END_TEST

static const char *
jstr(const cJSON *o, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
	ck_assert_msg(cJSON_IsString(it), "%s is not a string", key);
	return it->valuestring;
}

static double
jnum(const cJSON *o, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
	ck_assert_msg(cJSON_IsNumber(it), "%s is not a number", key);
	return it->valuedouble;
}

START_TEST(test_json)
{
	static const char *const want_status[NCHECKS] = {
		"pass", "fail", "error", "fail", "skipped", "error", "skipped"};
	char *out = render("json", NULL);
	cJSON *root = cJSON_Parse(out), *checks, *c, *t, *f, *counts;
	size_t i;

	ck_assert_msg(root != NULL, "the JSON report does not parse:\n%s", out);
	ck_assert_str_eq(jstr(root, "suite"), "suite \"<&>\"");
	ck_assert_str_eq(jstr(root, "verdict"), "fail");
	ck_assert_double_eq_tol(jnum(root, "duration_seconds"), 3.5, 1e-9);
	checks = cJSON_GetObjectItemCaseSensitive(root, "checks");
	ck_assert(cJSON_IsArray(checks));
	ck_assert_int_eq(cJSON_GetArraySize(checks), NCHECKS);
	for (i = 0; i < NCHECKS; i++) {
		c = cJSON_GetArrayItem(checks, (int)i);
		/* hostile names come back byte for byte */
		ck_assert_str_eq(jstr(c, "name"), names[i]);
		ck_assert_str_eq(jstr(c, "type"), "http");
		ck_assert_str_eq(jstr(c, "status"), want_status[i]);
		ck_assert_str_eq(jstr(c, "reason"), fx.results[i].reason);
		ck_assert_str_eq(jstr(c, "stage"), fx.checks[i].stage);
		ck_assert(cJSON_IsBool(cJSON_GetObjectItem(c, "critical")));
		ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(c, "critical")) ==
			  fx.checks[i].critical);
		ck_assert_double_eq(jnum(c, "attempts"),
				    fx.results[i].attempts);
		ck_assert_double_eq_tol(jnum(c, "duration_seconds"),
					fx.results[i].duration, 1e-6);
		ck_assert(cJSON_IsObject(cJSON_GetObjectItem(c, "timings")));
		ck_assert(cJSON_IsObject(cJSON_GetObjectItem(c, "facts")));
	}
	c = cJSON_GetArrayItem(checks, 0);
	ck_assert_str_eq(jstr(c, "target"), "http://127.0.0.1:9/<&>");
	ck_assert_str_eq(jstr(c, "reason_kind"), "none");
	/* timings: known phases only, in seconds */
	t = cJSON_GetObjectItem(c, "timings");
	ck_assert_int_eq(cJSON_GetArraySize(t), 2);
	ck_assert_double_eq_tol(jnum(t, "connect"), 0.001, 1e-9);
	ck_assert_double_eq_tol(jnum(t, "total"), 0.0125, 1e-9);
	/* facts keep their kinds */
	f = cJSON_GetObjectItem(c, "facts");
	ck_assert_double_eq(jnum(f, "http_status"), 200);
	ck_assert_str_eq(jstr(f, "tls_version"), "TLSv1.3 \"q\" <&>");
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(f, "tls_verify")));
	ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(c, "tags"), 1)
				 ->valuestring,
			 "t\"ag");
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(checks, 2), "reason_kind"),
			 "timeout");
	counts = cJSON_GetObjectItem(root, "counts");
	ck_assert_double_eq(jnum(counts, "pass"), 1);
	ck_assert_double_eq(jnum(counts, "fail"), 2);
	ck_assert_double_eq(jnum(counts, "error"), 2);
	ck_assert_double_eq(jnum(counts, "skipped"), 2);
	cJSON_Delete(root);
	free(out);

	fx.sum.passed = true;
	out = render("json", NULL);
	root = cJSON_Parse(out);
	ck_assert_str_eq(jstr(root, "verdict"), "pass");
	cJSON_Delete(root);
	free(out);
}
END_TEST

static const char *
attr(xmlNode *n, const char *name)
{
	static char buf[4][512];
	static int k;
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	char *b = buf[k++ % 4];
	ck_assert_msg(v != NULL, "<%s> has no %s", (const char *)n->name, name);
	snprintf(b, 512, "%s", (const char *)v);
	xmlFree(v);
	return b;
}

static xmlNode *
first_element(xmlNode *n)
{
	for (; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return n;
	return NULL;
}

START_TEST(test_junit)
{
	/* what each testcase must hold: "" for a pass */
	static const char *const want_child[NCHECKS] = {
		"",	   "failure", "error",	"skipped",
		"skipped", "skipped", "skipped"};
	size_t len, i = 0, nsuites = 0;
	char *out = render("junit", &len);
	xmlDoc *doc;
	xmlNode *root, *ts, *tc, *child;

	/* nothing raw from the names reaches the file */
	ck_assert_ptr_null(strstr(out, "<script>"));
	ck_assert_ptr_null(strstr(out, "&amp;</"));
	ck_assert_ptr_null(strchr(out, '\x01'));
	ck_assert_ptr_null(strchr(out, '\x1b'));
	ck_assert(strncmp(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
			  38) == 0);

	doc = xmlReadMemory(out, (int)len, "junit.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR |
				    XML_PARSE_NOWARNING);
	ck_assert_msg(doc != NULL, "JUnit is not well-formed XML:\n%s", out);
	root = xmlDocGetRootElement(doc);
	ck_assert_str_eq((const char *)root->name, "testsuites");
	ck_assert_str_eq(attr(root, "name"), "suite \"<&>\"");
	ck_assert_str_eq(attr(root, "tests"), "7");
	ck_assert_str_eq(attr(root, "failures"), "1");
	ck_assert_str_eq(attr(root, "errors"), "1");
	/* skipped ones and warnings (non-critical, not passing) */
	ck_assert_str_eq(attr(root, "skipped"), "4");
	for (ts = first_element(root->children); ts;
	     ts = first_element(ts->next)) {
		ck_assert_str_eq((const char *)ts->name, "testsuite");
		ck_assert_str_eq(attr(ts, "name"),
				 nsuites == 0 ? "suite \"<&>\".health"
					      : "suite \"<&>\".smoke");
		ck_assert_str_eq(attr(ts, "tests"), nsuites == 0 ? "4" : "3");
		ck_assert_str_eq(attr(ts, "timestamp"), "2023-11-14T22:13:20Z");
		nsuites++;
		for (tc = first_element(ts->children); tc;
		     tc = first_element(tc->next), i++) {
			ck_assert_uint_lt(i, NCHECKS);
			ck_assert_str_eq((const char *)tc->name, "testcase");
			ck_assert_str_eq(attr(tc, "name"), junit_names[i]);
			ck_assert(strncmp(attr(tc, "classname"),
					  "suite \"<&>\".", 12) == 0);
			ck_assert_double_eq_tol(atof(attr(tc, "time")),
						fx.results[i].duration, 1e-6);
			child = first_element(tc->children);
			if (*want_child[i] == '\0') {
				ck_assert_ptr_null(child);
				continue;
			}
			ck_assert_msg(child != NULL, "testcase %zu is empty",
				      i);
			ck_assert_str_eq((const char *)child->name,
					 want_child[i]);
			ck_assert_ptr_null(first_element(child->next));
		}
	}
	ck_assert_uint_eq(nsuites, 2);
	ck_assert_uint_eq(i, NCHECKS);
	xmlFreeDoc(doc);
	free(out);
}
END_TEST

/* The message of a failure and a warning, read back through the parser. */
START_TEST(test_junit_messages)
{
	size_t len;
	char *out = render("junit", &len);
	xmlDoc *doc = xmlReadMemory(out, (int)len, "junit.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR);
	xmlNode *ts, *tc, *fail, *warn;
	xmlChar *body;

	ck_assert_ptr_nonnull(doc);
	ts = first_element(xmlDocGetRootElement(doc)->children);
	tc = first_element(ts->children); /* pass */
	tc = first_element(tc->next);	  /* fail */
	fail = first_element(tc->children);
	ck_assert_str_eq(attr(fail, "message"), "status 503, expected 200 <&>");
	ck_assert_str_eq(attr(fail, "type"), "status");
	body = xmlNodeGetContent(fail);
	ck_assert_ptr_nonnull(strstr((const char *)body, "attempts: 1"));
	ck_assert_ptr_nonnull(
		strstr((const char *)body, "target: http://127.0.0.1:9/<&>"));
	xmlFree(body);
	tc = first_element(tc->next); /* error */
	tc = first_element(tc->next); /* warning */
	warn = first_element(tc->children);
	ck_assert_str_eq(attr(warn, "message"),
			 "warning (critical: false): body does not contain "
			 "\"ok\" | x");
	xmlFreeDoc(doc);
	free(out);
}
END_TEST

/* XML must be well-formed UTF-8: bytes that start no valid sequence
 * become U+FFFD, valid multi-byte characters pass. */
START_TEST(test_xml_utf8)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	vd_xml_escape(f, "a\xff b\xc3\xa9 c\xe2\x82 d\xed\xa0\x80 e\xc0\xaf");
	fclose(f);
	ck_assert_str_eq(buf,
			 "a\xef\xbf\xbd b\xc3\xa9 c\xef\xbf\xbd\xef\xbf\xbd d"
			 "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd e\xef\xbf\xbd"
			 "\xef\xbf\xbd");
	free(buf);
}
END_TEST

/* Splits s into lines in place; returns the count. */
static size_t
split_lines(char *s, char **lines, size_t max)
{
	size_t n = 0;
	char *save = NULL, *l;
	for (l = strtok_r(s, "\n", &save); l && n < max;
	     l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	return n;
}

/* '#' not preceded by a backslash */
static size_t
bare_hashes(const char *s)
{
	size_t n = 0;
	const char *p;
	for (p = s; *p; p++)
		if (*p == '#' && (p == s || p[-1] != '\\'))
			n++;
	return n;
}

START_TEST(test_tap)
{
	char *out = render("tap", NULL), *lines[100];
	size_t n = split_lines(out, lines, 100), i, points = 0;

	ck_assert_uint_ge(n, 3);
	ck_assert_str_eq(lines[0], "TAP version 13");
	ck_assert_str_eq(lines[1], "1..7");
	for (i = 2; i < n; i++) {
		const char *l = lines[i], *dir;
		if (strncmp(l, "ok ", 3) && strncmp(l, "not ok ", 7)) {
			/* YAML block lines are indented */
			ck_assert_msg(l[0] == ' ', "stray line: %s", l);
			continue;
		}
		points++;
		dir = strstr(l, " # ");
		switch (points) {
		case 1:
			ck_assert_str_eq(l,
					 "ok 1 - say \"hi\" back\\slash 'q'");
			break;
		case 2:
			ck_assert_str_eq(l,
					 "not ok 2 - <script>&amp;</script>");
			break;
		case 3:
			/* the newline folded, '#' escaped: no directive */
			ck_assert_str_eq(l, "not ok 3 - line1 line2 \\# not a "
					    "comment | pipe");
			break;
		case 4:
			ck_assert(strncmp(l, "not ok 4 - ", 11) == 0);
			ck_assert_ptr_nonnull(dir);
			ck_assert_str_eq(dir, " # TODO not critical: body does "
					      "not contain \"ok\" | x");
			break;
		case 5:
			ck_assert_str_eq(
				l, "ok 5 - skipped | \\#5 # SKIP skipped: "
				   "stage 'health' failed (x)");
			break;
		case 6:
			ck_assert(strncmp(l,
					  "not ok 6 - nc-error `tick` # TODO",
					  33) == 0);
			break;
		case 7:
			ck_assert(strncmp(l, "ok 7 - ", 7) == 0);
			ck_assert_ptr_nonnull(strstr(l, " # SKIP "));
			break;
		}
		/* one unescaped '#' at most, and only for a directive */
		ck_assert_uint_le(bare_hashes(l), 1);
		if (bare_hashes(l) == 1)
			ck_assert(strstr(l, " # SKIP ") ||
				  strstr(l, " # TODO "));
	}
	ck_assert_uint_eq(points, 7);
	free(out);

	/* the YAML block of a failure quotes its reason */
	out = render("tap", NULL);
	ck_assert_ptr_nonnull(strstr(out,
				     "  ---\n  status: fail\n  reason: "
				     "\"status 503, expected 200 <&>\"\n"));
	ck_assert_ptr_nonnull(strstr(out, "  reason: \"timeout after 1s # "
					  "really\"\n"));
	ck_assert_ptr_nonnull(strstr(out, "  attempts: 3\n"));
	free(out);
}
END_TEST

/* '|' not preceded by a backslash */
static size_t
bare_pipes(const char *s)
{
	size_t n = 0;
	const char *p;
	for (p = s; *p; p++)
		if (*p == '|' && (p == s || p[-1] != '\\'))
			n++;
	return n;
}

START_TEST(test_markdown)
{
	char *out = render("markdown", NULL), *lines[100];
	size_t n = split_lines(out, lines, 100), i, rows = 0;

	ck_assert(strncmp(lines[0],
			  "### verdict: suite \"&lt;&amp;&gt;\" — FAIL",
			  strlen("### verdict: suite \"&lt;&amp;&gt;\" — "
				 "FAIL")) == 0);
	for (i = 0; i < n; i++) {
		if (lines[i][0] != '|')
			continue;
		rows++;
		/* five columns: six bare pipes on every row */
		ck_assert_msg(bare_pipes(lines[i]) == 6, "row: %s", lines[i]);
	}
	/* the header, the rule, one row per check: newlines did not split */
	ck_assert_uint_eq(rows, 2 + NCHECKS);
	free(out);
	out = render("markdown", NULL);
	ck_assert_ptr_nonnull(strstr(out, "| line1 line2 # not a comment \\| "
					  "pipe | health | **ERROR** |"));
	ck_assert_ptr_nonnull(
		strstr(out, "| &lt;script&gt;&amp;amp;&lt;/script&gt; |"));
	ck_assert_ptr_nonnull(
		strstr(out, "body does not contain \"ok\" \\| x |"));
	ck_assert_ptr_nonnull(
		strstr(out, "| skipped \\| #5 | smoke | skipped | - |"));
	ck_assert_ptr_null(strchr(out, '\x01'));
	free(out);
}
END_TEST

/* The text report: plain names (the loader refuses control characters
 * in names), aligned columns, reasons shown for what did not pass. */
START_TEST(test_text)
{
	static const char *const plain[NCHECKS] = {
		"api",
		"backend-health",
		"db",
		"a-check-with-a-very-long-name-"
		"that-is-cut-at-forty-chars",
		"smoke-1",
		"warn-2",
		"smoke-3"};
	char *out, *copy, *lines[100];
	size_t n, i, rows = 0;

	for (i = 0; i < NCHECKS; i++)
		fx.checks[i].name = (char *)plain[i];
	out = render("text", NULL);
	ck_assert_ptr_null(strchr(out, '\033'));
	copy = strdup(out);
	n = split_lines(copy, lines, 100);
	ck_assert_str_eq(lines[0], "suite \"<&>\"");
	ck_assert_str_eq(lines[1], "[health]");
	for (i = 0; i < n; i++) {
		const char *l = lines[i];
		size_t end;
		if (strncmp(l, "  ", 2) != 0)
			continue;
		rows++;
		/* "  LABEL  name-padded-to-40  duration": the duration column
		 * ends at the same place on every row */
		end = 2 + 5 + 2 + 40 + 2 + 7;
		ck_assert_msg(strlen(l) >= end, "short row: %s", l);
		ck_assert_msg(l[end - 1] != ' ' &&
				      (l[end] == '\0' || l[end] == ' '),
			      "misaligned: %s", l);
	}
	ck_assert_uint_eq(rows, NCHECKS);
	ck_assert_ptr_nonnull(strstr(out, "  PASS   api    "));
	ck_assert_ptr_nonnull(strstr(out, "  FAIL   backend-health  "));
	ck_assert_ptr_nonnull(
		strstr(out, "a-check-with-a-very-long-name-that-is-cu  "));
	ck_assert_ptr_null(strstr(out, "cut-at-forty"));
	ck_assert_ptr_nonnull(strstr(out, "  status 503, expected 200 <&>\n"));
	ck_assert_ptr_nonnull(
		strstr(out, "(3 attempts)  timeout after 1s # really\n"));
	ck_assert_ptr_nonnull(strstr(out, "  WARN   a-check"));
	ck_assert_ptr_nonnull(strstr(out, "  SKIP   smoke-1"));
	ck_assert_ptr_nonnull(strstr(out, "[smoke]\n"));
	/* a plain pass shows no reason */
	ck_assert_ptr_null(strstr(out, "status 200"));
	ck_assert_str_eq(lines[n - 1], "FAIL: 1 passed, 1 failed, 1 errors, 2 "
				       "warnings, 2 skipped in 3.50s");
	free(copy);
	free(out);

	/* quiet: only what did not pass */
	fx.in.verbosity = -1;
	out = render("text", NULL);
	ck_assert_ptr_null(strstr(out, " api "));
	ck_assert_ptr_nonnull(strstr(out, "backend-health"));
	free(out);

	/* colour when asked */
	fx.in.verbosity = 0;
	fx.in.color = true;
	out = render("text", NULL);
	ck_assert_ptr_nonnull(strstr(out, "\033[31mFAIL \033[0m"));
	ck_assert_ptr_nonnull(strstr(out, "\033[32mPASS \033[0m"));
	free(out);
}
END_TEST

/* A writer that cannot write says so. */
START_TEST(test_write_error)
{
	const struct vd_report_writer *w = vd_report_writers[_i];
	FILE *f = fopen("/dev/full", "w");

	ck_assert_ptr_nonnull(f);
	setvbuf(f, NULL, _IONBF, 0);
	ck_assert_msg(w->write(f, &fx.in) == VD_ERR_IO, "%s", w->name);
	fclose(f);
}
END_TEST

/* --progress values: auto follows the descriptor and TERM. */
START_TEST(test_progress_mode)
{
	enum vd_progress_mode m = VD_PROGRESS_TTY;
	char *term = getenv("TERM") ? strdup(getenv("TERM")) : NULL;

	ck_assert_int_eq(vd_progress_mode_parse("none", 2, &m), 0);
	ck_assert_int_eq(m, VD_PROGRESS_NONE);
	ck_assert_int_eq(vd_progress_mode_parse("tty", -1, &m), 0);
	ck_assert_int_eq(m, VD_PROGRESS_TTY);
	ck_assert_int_eq(vd_progress_mode_parse("plain", 2, &m), 0);
	ck_assert_int_eq(m, VD_PROGRESS_PLAIN);
	/* not a terminal: plain, whatever TERM says */
	m = VD_PROGRESS_NONE;
	setenv("TERM", "xterm", 1);
	ck_assert_int_eq(vd_progress_mode_parse("auto", -1, &m), 0);
	ck_assert_int_eq(m, VD_PROGRESS_PLAIN);
	m = VD_PROGRESS_NONE;
	ck_assert_int_eq(vd_progress_mode_parse("sometimes", 2, &m), -1);
	ck_assert_int_eq(vd_progress_mode_parse("", 2, &m), -1);
	ck_assert_int_eq(vd_progress_mode_parse("TTY", 2, &m), -1);
	ck_assert_int_eq(m, VD_PROGRESS_NONE); /* untouched */
	if (term)
		setenv("TERM", term, 1);
	else
		unsetenv("TERM");
	free(term);
}
END_TEST

/* An empty run renders in every format. */
START_TEST(test_empty_run)
{
	char *out;
	cJSON *root;

	fx.sum.n = 0;
	fx.sum.passed = true;
	out = render("tap", NULL);
	ck_assert_str_eq(out, "TAP version 13\n1..0\n");
	free(out);
	out = render("json", NULL);
	root = cJSON_Parse(out);
	ck_assert_int_eq(
		cJSON_GetArraySize(cJSON_GetObjectItem(root, "checks")), 0);
	cJSON_Delete(root);
	free(out);
	out = render("junit", NULL);
	ck_assert_ptr_nonnull(strstr(out, "tests=\"0\""));
	free(out);
	free(render("markdown", NULL));
	free(render("text", NULL));
}
END_TEST

/* A secret in a check's name, stage, target or tags, or the suite's
 * name (a ${VAR} put it there), with characters every format escapes:
 * each writer masks it before escaping, so no form of it is printed. */
#define SECRET "se\"cr\\et<&>'-value-0123"

START_TEST(test_masked)
{
	static const char *const forms[] = {
		SECRET, "se\\\"cr\\\\et<&>'-value-0123",	/* JSON, YAML */
		"se&quot;cr\\et&lt;&amp;&gt;&apos;-value-0123", /* XML */
		"se\"cr\\et<&>'-v",				/* cut short */
	};
	char *out, *tags[1] = {(char *)"tag-" SECRET};
	size_t i;

	vd_secret_clear();
	vd_secret_add(SECRET);
	fx.checks[1].name = (char *)"api " SECRET;
	fx.checks[1].stage = (char *)"stage-" SECRET;
	fx.checks[1].target = (char *)"http://h/?x=" SECRET;
	fx.checks[1].tags = tags;
	fx.checks[1].ntags = 1;
	fx.in.suite = "suite " SECRET;
	fx.in.verbosity = 1;
	out = render(vd_report_writers[_i]->name, NULL);
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		ck_assert_msg(strstr(out, forms[i]) == NULL,
			      "%s shows \"%s\":\n%s",
			      vd_report_writers[_i]->name, forms[i], out);
	ck_assert_msg(strstr(out, "***") != NULL, "%s: nothing masked",
		      vd_report_writers[_i]->name);
	free(out);
	vd_secret_clear();
}
END_TEST

static size_t
nwriters(void)
{
	size_t n = 0;
	while (vd_report_writers[n])
		n++;
	return n;
}

Suite *
report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("writers");

	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_add_test(tc, test_registry);
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_junit);
	tcase_add_test(tc, test_junit_messages);
	tcase_add_test(tc, test_xml_utf8);
	tcase_add_test(tc, test_tap);
	tcase_add_test(tc, test_markdown);
	tcase_add_test(tc, test_text);
	tcase_add_loop_test(tc, test_write_error, 0, (int)nwriters());
	tcase_add_test(tc, test_empty_run);
	tcase_add_test(tc, test_progress_mode);
	tcase_add_loop_test(tc, test_masked, 0, (int)nwriters());
	suite_add_tcase(s, tc);
	return s;
}
