/*
 * check_cfg.c - the config getters of lib/cfg.c: right types accepted,
 * wrong types refused with a message naming the file and the place,
 * unknown keys refused, keys that came only from defaults let through,
 * and the common "tls" object. Depends on probe/ and cJSON.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../../lib/cfg.h"
#include "../../probe/probe.h"
#include "../../lib/util.h"
#include "unit.h"

/* One object being read, as a check type's parser sees it. */
struct reader {
	cJSON *root;
	struct vd_cfg c;
	struct vd_cfg_err err;
};

static void
reader_open(struct reader *r, const char *json, const char *path)
{
	memset(r, 0, sizeof(*r));
	r->root = cJSON_Parse(json);
	ck_assert_msg(r->root != NULL, "test JSON does not parse: %s", json);
	vd_cfg_init(&r->c, r->root, "f.json", path, &r->err);
}

static void
reader_close(struct reader *r)
{
	vd_cfg_release(&r->c);
	cJSON_Delete(r->root);
}

enum getter {
	G_STR,
	G_STR_REQUIRED,
	G_BOOL,
	G_INT,
	G_DURATION,
	G_SIZE,
	G_STRLIST,
	G_STRMAP,
	G_CHILD,
};

/* Calls one getter on key "status", freeing whatever it returned. */
static int
call_getter(struct vd_cfg *c, enum getter g)
{
	char *s = NULL, **list = NULL, **keys = NULL, **vals = NULL;
	size_t n = 0, sz = 0;
	double d = 0;
	long l = 0;
	bool b = false;
	struct vd_cfg child;
	int r = -100;

	switch (g) {
	case G_STR:
		r = vd_cfg_str(c, "status", false, &s);
		break;
	case G_STR_REQUIRED:
		r = vd_cfg_str(c, "status", true, &s);
		break;
	case G_BOOL:
		r = vd_cfg_bool(c, "status", &b);
		break;
	case G_INT:
		r = vd_cfg_int(c, "status", 100, 599, &l);
		break;
	case G_DURATION:
		r = vd_cfg_duration(c, "status", &d);
		break;
	case G_SIZE:
		r = vd_cfg_size(c, "status", &sz);
		break;
	case G_STRLIST:
		r = vd_cfg_strlist(c, "status", &list, &n);
		vd_strlist_free(list, n);
		break;
	case G_STRMAP:
		r = vd_cfg_strmap(c, "status", &keys, &vals, &n);
		vd_strlist_free(keys, n);
		vd_strlist_free(vals, n);
		break;
	case G_CHILD:
		r = vd_cfg_child(c, "status", &child);
		if (r == 1)
			vd_cfg_release(&child);
		break;
	}
	free(s);
	return r;
}

static const struct {
	const char *json;
	enum getter g;
	const char *msg;
} wrong[] = {
	{"{\"status\": 5}", G_STR,
	 "f.json: checks[0].expect.status: expected a string, got a number"},
	{"{}", G_STR_REQUIRED, "f.json: checks[0].expect.status: required"},
	{"{\"status\": null}", G_STR_REQUIRED,
	 "f.json: checks[0].expect.status: expected a string, got null"},
	{"{\"status\": \"yes\"}", G_BOOL,
	 "f.json: checks[0].expect.status: expected true or false, got a "
	 "string"},
	{"{\"status\": 1}", G_BOOL,
	 "f.json: checks[0].expect.status: expected true or false, got a "
	 "number"},
	{"{\"status\": \"2oo\"}", G_INT,
	 "f.json: checks[0].expect.status: expected an integer, got \"2oo\""},
	{"{\"status\": \" 200\"}", G_INT,
	 "f.json: checks[0].expect.status: expected an integer, got \" 200\""},
	{"{\"status\": 200.5}", G_INT,
	 "f.json: checks[0].expect.status: expected an integer, got 200.5"},
	{"{\"status\": 600}", G_INT,
	 "f.json: checks[0].expect.status: must be between 100 and 599"},
	{"{\"status\": -1e300}", G_INT,
	 "f.json: checks[0].expect.status: must be between 100 and 599"},
	{"{\"status\": [200]}", G_INT,
	 "f.json: checks[0].expect.status: expected an integer, got a list"},
	{"{\"status\": 5}", G_DURATION,
	 "f.json: checks[0].expect.status: expected a duration string like "
	 "\"5s\" or \"250ms\", got a number"},
	{"{\"status\": \"5\"}", G_DURATION,
	 "f.json: checks[0].expect.status: invalid duration \"5\" (use e.g. "
	 "\"250ms\", \"5s\", \"1m\")"},
	{"{\"status\": \"-1s\"}", G_DURATION,
	 "f.json: checks[0].expect.status: invalid duration \"-1s\" (use e.g. "
	 "\"250ms\", \"5s\", \"1m\")"},
	{"{\"status\": \"5 s\"}", G_DURATION,
	 "f.json: checks[0].expect.status: invalid duration \"5 s\" (use e.g. "
	 "\"250ms\", \"5s\", \"1m\")"},
	{"{\"status\": -1}", G_SIZE,
	 "f.json: checks[0].expect.status: expected a size in bytes"},
	{"{\"status\": 1.5}", G_SIZE,
	 "f.json: checks[0].expect.status: expected a size in bytes"},
	{"{\"status\": \"1TB\"}", G_SIZE,
	 "f.json: checks[0].expect.status: expected a size (bytes, or a "
	 "string like \"512KiB\", \"1MiB\")"},
	{"{\"status\": true}", G_SIZE,
	 "f.json: checks[0].expect.status: expected a size (bytes, or a "
	 "string like \"512KiB\", \"1MiB\")"},
	{"{\"status\": {}}", G_STRLIST,
	 "f.json: checks[0].expect.status: expected a list of strings, got an "
	 "object"},
	{"{\"status\": [\"a\", 1]}", G_STRLIST,
	 "f.json: checks[0].expect.status[1]: expected a string, got a number"},
	{"{\"status\": []}", G_STRMAP,
	 "f.json: checks[0].expect.status: expected an object of strings, got "
	 "a list"},
	{"{\"status\": {\"a\": \"x\", \"b\": false}}", G_STRMAP,
	 "f.json: checks[0].expect.status.b: expected a string, got a boolean"},
	{"{\"status\": null}", G_CHILD,
	 "f.json: checks[0].expect.status: expected an object, got null"},
	{"{\"status\": \"x\"}", G_CHILD,
	 "f.json: checks[0].expect.status: expected an object, got a string"},
};

START_TEST(test_wrong_types)
{
	struct reader r;
	int rc;

	reader_open(&r, wrong[_i].json, "checks[0].expect");
	rc = call_getter(&r.c, wrong[_i].g);
	ck_assert_msg(rc == VD_ERR_CONFIG, "%s: rc %d", wrong[_i].json, rc);
	ck_assert(r.err.set);
	ck_assert_str_eq(r.err.msg, wrong[_i].msg);
	reader_close(&r);
}
END_TEST

START_TEST(test_right_types)
{
	struct reader r;
	char *s = NULL, **list = NULL, **keys = NULL, **vals = NULL;
	size_t n = 0, nk = 0, sz = 0;
	double d = 0;
	long l = 0;
	bool b = false;
	struct vd_cfg child;

	reader_open(
		&r,
		"{\"s\": \"text\", \"b\": true, \"i\": 404, \"d\": \"1m30s\","
		" \"z\": \"512KiB\", \"zn\": 4096, \"l\": [\"a\", \"b\"],"
		" \"l1\": \"one\", \"m\": {\"K\": \"v\", \"L\": \"w\"},"
		" \"c\": {\"x\": 1}}",
		"checks[2]");
	ck_assert_int_eq(vd_cfg_str(&r.c, "s", true, &s), 0);
	ck_assert_str_eq(s, "text");
	ck_assert_int_eq(vd_cfg_bool(&r.c, "b", &b), 0);
	ck_assert(b);
	ck_assert_int_eq(vd_cfg_int(&r.c, "i", 100, 599, &l), 0);
	ck_assert_int_eq(l, 404);
	ck_assert_int_eq(vd_cfg_duration(&r.c, "d", &d), 0);
	ck_assert_double_eq_tol(d, 90.0, 1e-9);
	ck_assert_int_eq(vd_cfg_size(&r.c, "z", &sz), 0);
	ck_assert_uint_eq(sz, 524288);
	ck_assert_int_eq(vd_cfg_size(&r.c, "zn", &sz), 0);
	ck_assert_uint_eq(sz, 4096);
	ck_assert_int_eq(vd_cfg_strlist(&r.c, "l", &list, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(list[0], "a");
	ck_assert_str_eq(list[1], "b");
	/* a single string is a list of one; the old list is replaced */
	ck_assert_int_eq(vd_cfg_strlist(&r.c, "l1", &list, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(list[0], "one");
	ck_assert_int_eq(vd_cfg_strmap(&r.c, "m", &keys, &vals, &nk), 0);
	ck_assert_uint_eq(nk, 2);
	ck_assert_str_eq(keys[0], "K");
	ck_assert_str_eq(vals[0], "v");
	ck_assert_str_eq(keys[1], "L");
	ck_assert_str_eq(vals[1], "w");
	ck_assert_int_eq(vd_cfg_child(&r.c, "c", &child), 1);
	ck_assert_str_eq(child.path, "checks[2].c");
	ck_assert_str_eq(child.file, "f.json");
	ck_assert_int_eq(vd_cfg_int(&child, "x", 0, 5, &l), 0);
	ck_assert_int_eq(l, 1);
	ck_assert_int_eq(vd_cfg_finish(&child), 0);
	vd_cfg_release(&child);
	/* every key was taken */
	ck_assert_int_eq(vd_cfg_finish(&r.c), 0);
	ck_assert(!r.err.set);
	free(s);
	vd_strlist_free(list, n);
	vd_strlist_free(keys, nk);
	vd_strlist_free(vals, nk);
	reader_close(&r);
}
END_TEST

START_TEST(test_absent_keeps_value)
{
	struct reader r;
	char *s = NULL;
	double d = 7;
	long l = 3;
	bool b = true;
	size_t sz = 9;
	struct vd_cfg child;

	reader_open(&r, "{}", "x");
	ck_assert_int_eq(vd_cfg_str(&r.c, "s", false, &s), 0);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(vd_cfg_bool(&r.c, "b", &b), 0);
	ck_assert(b);
	ck_assert_int_eq(vd_cfg_int(&r.c, "i", 0, 10, &l), 0);
	ck_assert_int_eq(l, 3);
	ck_assert_int_eq(vd_cfg_duration(&r.c, "d", &d), 0);
	ck_assert_double_eq(d, 7);
	ck_assert_int_eq(vd_cfg_size(&r.c, "z", &sz), 0);
	ck_assert_uint_eq(sz, 9);
	ck_assert_int_eq(vd_cfg_child(&r.c, "c", &child), 0);
	ck_assert(!vd_cfg_has(&r.c, "s"));
	ck_assert(!r.err.set);
	reader_close(&r);
}
END_TEST

START_TEST(test_unknown_keys)
{
	struct reader r;
	char *s = NULL;

	reader_open(&r, "{\"url\": \"u\", \"methd\": \"GET\", \"x\": 1}",
		    "checks[4]");
	ck_assert(vd_cfg_has(&r.c, "methd"));
	ck_assert_int_eq(vd_cfg_str(&r.c, "url", true, &s), 0);
	ck_assert_int_eq(vd_cfg_finish(&r.c), VD_ERR_CONFIG);
	/* the first leftover is named; later errors do not replace it */
	ck_assert_str_eq(r.err.msg, "f.json: checks[4].methd: unknown key");
	vd_cfg_error(&r.c, "x", "another");
	ck_assert_str_eq(r.err.msg, "f.json: checks[4].methd: unknown key");
	free(s);
	reader_close(&r);

	/* vd_cfg_has does not take a key */
	reader_open(&r, "{\"a\": 1}", "");
	ck_assert(vd_cfg_has(&r.c, "a"));
	ck_assert_int_eq(vd_cfg_finish(&r.c), VD_ERR_CONFIG);
	ck_assert_str_eq(r.err.msg, "f.json: a: unknown key");
	reader_close(&r);
}
END_TEST

/* c.own: keys that came only from the suite's defaults are not refused by
 * a check that does not use them (another type may); its own are. */
START_TEST(test_own_keys)
{
	struct reader r;
	cJSON *own = cJSON_Parse("{\"name\": \"a\", \"typo\": 1}");

	reader_open(&r, "{\"name\": \"a\", \"typo\": 1, \"from_defaults\": 2}",
		    "checks[0]");
	r.c.own = own;
	(void)vd_cfg_take(&r.c, "name");
	ck_assert_int_eq(vd_cfg_finish(&r.c), VD_ERR_CONFIG);
	ck_assert_str_eq(r.err.msg, "f.json: checks[0].typo: unknown key");
	reader_close(&r);

	reader_open(&r, "{\"name\": \"a\", \"typo\": 1, \"from_defaults\": 2}",
		    "checks[0]");
	r.c.own = own;
	(void)vd_cfg_take(&r.c, "name");
	(void)vd_cfg_take(&r.c, "typo");
	ck_assert_int_eq(vd_cfg_finish(&r.c), 0);
	ck_assert(!r.err.set);
	reader_close(&r);
	cJSON_Delete(own);
}
END_TEST

START_TEST(test_error_places)
{
	struct vd_cfg_err err = {.set = false};
	struct reader r;
	char key[1200];

	ck_assert_int_eq(vd_cfg_error_at(&err, "f.json", "checks[1].url",
					 "bad %s", "thing"),
			 VD_ERR_CONFIG);
	ck_assert_str_eq(err.msg, "f.json: checks[1].url: bad thing");
	memset(&err, 0, sizeof(err));
	vd_cfg_error_at(&err, "f.json", "", "top");
	ck_assert_str_eq(err.msg, "f.json: top");
	memset(&err, 0, sizeof(err));
	vd_cfg_error_at(&err, "", "a.b", "no file");
	ck_assert_str_eq(err.msg, "a.b: no file");
	/* a NULL error sink is allowed */
	ck_assert_int_eq(vd_cfg_error_at(NULL, "f", "p", "x"), VD_ERR_CONFIG);

	/* a huge key is cut, never overflows, and the file still leads */
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	reader_open(&r, "{}", "checks[0]");
	vd_cfg_error(&r.c, key, "too long");
	ck_assert(r.err.set);
	ck_assert(strncmp(r.err.msg, "f.json: checks[0].kkkk", 22) == 0);
	ck_assert_uint_lt(strlen(r.err.msg), sizeof(r.err.msg));
	reader_close(&r);
}
END_TEST

/* A secret quoted back in a message (an invalid duration read from a
 * secret variable, say) is masked. */
START_TEST(test_error_masks_secrets)
{
	struct reader r;
	double d;

	vd_secret_clear();
	vd_secret_add("hunter2-secret");
	reader_open(&r, "{\"timeout\": \"hunter2-secret\"}", "checks[0]");
	ck_assert_int_eq(vd_cfg_duration(&r.c, "timeout", &d), VD_ERR_CONFIG);
	ck_assert_ptr_null(strstr(r.err.msg, "hunter2"));
	ck_assert_str_eq(r.err.msg,
			 "f.json: checks[0].timeout: invalid duration \"***\" "
			 "(use e.g. \"250ms\", \"5s\", \"1m\")");
	reader_close(&r);

	/* the file name and the place are never masked, only the message */
	vd_secret_add("json");
	reader_open(&r, "{\"timeout\": \"json\"}", "checks[0].json");
	ck_assert_int_eq(vd_cfg_duration(&r.c, "timeout", &d), VD_ERR_CONFIG);
	ck_assert_str_eq(
		r.err.msg,
		"f.json: checks[0].json.timeout: invalid duration \"***\" "
		"(use e.g. \"250ms\", \"5s\", \"1m\")");
	reader_close(&r);
	vd_secret_clear();
}
END_TEST

START_TEST(test_tls)
{
	struct reader r;
	struct vd_tls_opts o = {.verify = true};

	reader_open(&r,
		    "{\"tls\": {\"verify\": false, \"ca_file\": \"ca.pem\","
		    " \"cert_file\": \"c.pem\", \"key_file\": \"k.pem\","
		    " \"server_name\": \"app.test\"}}",
		    "checks[0]");
	ck_assert_int_eq(vd_cfg_tls(&r.c, &o), 0);
	ck_assert(!o.verify);
	ck_assert_str_eq(o.ca_file, "ca.pem");
	ck_assert_str_eq(o.cert_file, "c.pem");
	ck_assert_str_eq(o.key_file, "k.pem");
	ck_assert_str_eq(o.server_name, "app.test");
	ck_assert_int_eq(vd_cfg_finish(&r.c), 0);
	vd_tls_opts_free(&o);
	ck_assert_ptr_null(o.ca_file);
	reader_close(&r);

	/* absent: nothing changes, verification stays on */
	o.verify = true;
	reader_open(&r, "{}", "checks[0]");
	ck_assert_int_eq(vd_cfg_tls(&r.c, &o), 0);
	ck_assert(o.verify);
	ck_assert_ptr_null(o.ca_file);
	reader_close(&r);
}
END_TEST

static const struct {
	const char *json;
	const char *msg;
} tls_bad[] = {
	{"{\"tls\": true}",
	 "f.json: checks[0].tls: expected an object, got a boolean"},
	{"{\"tls\": {\"verify\": \"no\"}}",
	 "f.json: checks[0].tls.verify: expected true or false, got a string"},
	{"{\"tls\": {\"ca_file\": 1}}",
	 "f.json: checks[0].tls.ca_file: expected a string, got a number"},
	{"{\"tls\": {\"key_file\": \"k.pem\"}}",
	 "f.json: checks[0].tls.key_file: needs cert_file as well"},
	{"{\"tls\": {\"verfy\": false}}",
	 "f.json: checks[0].tls.verfy: unknown key"},
};

START_TEST(test_tls_bad)
{
	struct reader r;
	struct vd_tls_opts o = {.verify = true};

	reader_open(&r, tls_bad[_i].json, "checks[0]");
	ck_assert_int_eq(vd_cfg_tls(&r.c, &o), VD_ERR_CONFIG);
	ck_assert_str_eq(r.err.msg, tls_bad[_i].msg);
	vd_tls_opts_free(&o);
	reader_close(&r);
}
END_TEST

Suite *
cfg_suite(void)
{
	Suite *s = suite_create("cfg");
	TCase *tc = tcase_create("getters");

	tcase_add_loop_test(tc, test_wrong_types, 0,
			    (int)(sizeof(wrong) / sizeof(wrong[0])));
	tcase_add_test(tc, test_right_types);
	tcase_add_test(tc, test_absent_keeps_value);
	tcase_add_test(tc, test_unknown_keys);
	tcase_add_test(tc, test_own_keys);
	tcase_add_test(tc, test_error_places);
	tcase_add_test(tc, test_error_masks_secrets);
	tcase_add_test(tc, test_tls);
	tcase_add_loop_test(tc, test_tls_bad, 0,
			    (int)(sizeof(tls_bad) / sizeof(tls_bad[0])));
	suite_add_tcase(s, tc);
	return s;
}
