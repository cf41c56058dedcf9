/* check_util.c - durations, sizes, buffers and secret masking. */
#include <stdlib.h>
#include <string.h>

#include "../../probe/util.h"
#include "unit.h"

static const struct {
	const char *in;
	int rc;
	double want;
} durations[] = {
	{ "250ms", 0, 0.25 }, { "5s", 0, 5 },	  { "1m", 0, 60 },
	{ "1m30s", 0, 90 },   { "1.5s", 0, 1.5 }, { "2h", 0, 7200 },
	{ "", -1, 0 },	      { "5", -1, 0 },	  { "s", -1, 0 },
	{ "-1s", -1, 0 },     { "5x", -1, 0 },	  { "1e400s", -1, 0 },
	{ "400d", -1, 0 },
};

START_TEST(test_duration)
{
	double got = -1;
	int rc = vd_parse_duration(durations[_i].in, &got);
	ck_assert_msg(rc == durations[_i].rc, "%s: rc %d", durations[_i].in, rc);
	if (rc == 0)
		ck_assert_double_eq_tol(got, durations[_i].want, 1e-9);
}
END_TEST

START_TEST(test_size)
{
	size_t n = 0;
	ck_assert_int_eq(vd_parse_size("1MiB", &n), 0);
	ck_assert_uint_eq(n, 1048576);
	ck_assert_int_eq(vd_parse_size("512KiB", &n), 0);
	ck_assert_uint_eq(n, 524288);
	ck_assert_int_eq(vd_parse_size("10MB", &n), 0);
	ck_assert_uint_eq(n, 10000000);
	ck_assert_int_eq(vd_parse_size("12", &n), 0);
	ck_assert_uint_eq(n, 12);
	ck_assert_int_eq(vd_parse_size("1TB", &n), -1);
	ck_assert_int_eq(vd_parse_size("-1", &n), -1);
	ck_assert_int_eq(vd_parse_size("99999999999999999999GiB", &n), -1);
}
END_TEST

START_TEST(test_buf_cap)
{
	struct vd_buf b;
	vd_buf_init(&b, 5);
	ck_assert_uint_eq(vd_buf_append(&b, "abc", 3), 3);
	ck_assert_uint_eq(vd_buf_append(&b, "defg", 4), 2);
	ck_assert(b.truncated);
	ck_assert_str_eq(b.data, "abcde");
	vd_buf_free(&b);
}
END_TEST

START_TEST(test_mask)
{
	char *m;
	vd_secret_clear();
	m = vd_mask_url("postgres://app:hunter22@db:5432/x");
	ck_assert_str_eq(m, "postgres://app:***@db:5432/x");
	free(m);
	/* the password is now masked everywhere */
	m = vd_mask("auth failed for hunter22 and hunter22!");
	ck_assert_str_eq(m, "auth failed for *** and ***!");
	free(m);
	/* no password: unchanged */
	m = vd_mask_url("http://example.test/a@b");
	ck_assert_str_eq(m, "http://example.test/a@b");
	free(m);
	/* short strings are not registered (they would mask too much) */
	vd_secret_add("ab");
	m = vd_mask("abc");
	ck_assert_str_eq(m, "abc");
	free(m);
	vd_secret_clear();
}
END_TEST

START_TEST(test_secret_headers)
{
	ck_assert(vd_header_is_secret("Authorization"));
	ck_assert(vd_header_is_secret("X-Api-Key"));
	ck_assert(vd_header_is_secret("cookie"));
	ck_assert(!vd_header_is_secret("Accept"));
	ck_assert(!vd_header_is_secret("Content-Type"));
}
END_TEST

Suite *
util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("util");
	tcase_add_loop_test(tc, test_duration, 0,
			    (int)(sizeof(durations) / sizeof(durations[0])));
	tcase_add_test(tc, test_size);
	tcase_add_test(tc, test_buf_cap);
	tcase_add_test(tc, test_mask);
	tcase_add_test(tc, test_secret_headers);
	suite_add_tcase(s, tc);
	return s;
}
