/* check_util.c - durations, sizes, buffers, secret masking, the logger. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/log.h"
#include "../../lib/util.h"
#include "unit.h"

static const struct {
	const char *in;
	int rc;
	double want;
} durations[] = {
	{"250ms", 0, 0.25},
	{"5s", 0, 5},
	{"1m", 0, 60},
	{"1m30s", 0, 90},
	{"1.5s", 0, 1.5},
	{"2h", 0, 7200},
	{"", -1, 0},
	{"5", -1, 0},
	{"s", -1, 0},
	{"-1s", -1, 0},
	{"5x", -1, 0},
	{"1e400s", -1, 0},
	{"400d", -1, 0},
	/* each unit at most once, largest first */
	{"1h30m", 0, 5400},
	{"1d2h3m4s5ms6us", 0, 93784.005006},
	{"1s500ms", 0, 1.5},
	{"1h1h", VD_DURATION_UNIT_ORDER, 0},
	{"5s5s", VD_DURATION_UNIT_ORDER, 0},
	{"30s1m", VD_DURATION_UNIT_ORDER, 0},
	{"1ms1s", VD_DURATION_UNIT_ORDER, 0},
	{"1m1ms1m", VD_DURATION_UNIT_ORDER, 0},
};

START_TEST(test_duration)
{
	double got = -1;
	int rc = vd_parse_duration(durations[_i].in, &got);
	ck_assert_msg(rc == durations[_i].rc, "%s: rc %d", durations[_i].in,
		      rc);
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

/*
 * Every form in which a registered secret can reach an output: URLs
 * (password, Basic pair curl sends, secret-looking query parameters),
 * Authorization values, escaped forms, values cut short. Each row: what
 * is registered, then an output and what it must become.
 */
enum reg { REG_URL, REG_BASIC, REG_AUTH, REG_HEADER, REG_PLAIN };

static const struct {
	enum reg how;
	const char *a, *b; /* url / user+password / header name+value / s */
	const char *in;	   /* vd_mask_url(a) when NULL */
	const char *want;
} masks[] = {
	/* query parameters whose names look secret */
	{REG_URL, "https://h/p?token=t0k3n-42&x=1", NULL, NULL,
	 "https://h/p?token=***&x=1"},
	{REG_URL, "https://h/p?a=1&API_KEY=k3y-value#frag", NULL, NULL,
	 "https://h/p?a=1&API_KEY=***#frag"},
	{REG_URL, "https://h/?X-Amz-Signature=abc%2Fdef&sig=", NULL, NULL,
	 "https://h/?X-Amz-Signature=***&sig="},
	{REG_URL, "https://h/?access_token=zzz-123", NULL,
	 "redirect to https://h/?access_token=zzz-123 refused",
	 "redirect to https://h/?access_token=*** refused"},
	{REG_URL, "https://h/?password=p%40ss-word", NULL, "echo p@ss-word",
	 "echo ***"},
	{REG_URL, "https://h/?page=2&sort=name", NULL, NULL,
	 "https://h/?page=2&sort=name"},
	/* found by fuzz_mask: libcurl takes one slash, or none, after the
	 * scheme; the password is masked however the URL is written */
	{REG_URL, "postgres:/.app:hunter21d@b:5432/x", NULL, NULL,
	 "postgres:/.app:***@b:5432/x"},
	{REG_URL, "http:\\\\u:pw-123@h/", NULL, NULL, "http:\\\\u:***@h/"},
	{REG_URL, "u:pw-456@h/x", NULL, NULL, "u:***@h/x"},
	/* a URL password: the Basic credentials curl builds from it */
	{REG_URL, "http://bob:s%3Ccr%3Et@h/", NULL,
	 "got \"Basic Ym9iOnM8Y3I+dA==\"", "got \"Basic ***\""},
	{REG_URL, "http://bob:s%3Ccr%3Et@h/", NULL, "said s<cr>t", "said ***"},
	/* basic auth from the environment */
	{REG_BASIC, "alice", "pa\"ss\\word",
	 "got \"Basic YWxpY2U6cGEic3Ncd29yZA==\"", "got \"Basic ***\""},
	/* escaped forms, should an output escape before it masks */
	{REG_BASIC, "alice", "pa\"ss\\word", "{\"v\": \"pa\\\"ss\\\\word\"}",
	 "{\"v\": \"***\"}"},
	{REG_PLAIN, "a<b&c>'d\"", NULL,
	 "<x v=\"a&lt;b&amp;c&gt;&apos;d&quot;\"/>", "<x v=\"***\"/>"},
	/* Authorization values: whole, credentials alone, decoded Basic */
	{REG_HEADER, "Authorization", "Bearer eyJhbGciOi.xyz-1",
	 "got eyJhbGciOi.xyz-1", "got ***"},
	{REG_HEADER, "Authorization", "Basic dXNlcjpodW50ZXIy", "pw hunter2",
	 "pw ***"},
	{REG_HEADER, "authorization", "Basic dXNlcjpodW50ZXIy",
	 "got dXNlcjpodW50ZXIy", "got ***"},
	{REG_AUTH, "Bearer tok-abc-987", NULL, "x tok-abc-987 y", "x *** y"},
	/* found by fuzz_mask: credentials that are not base64 once wiped an
	 * unterminated buffer with strlen */
	{REG_AUTH, "Basic QUJD#RE\xff", NULL, "x QUJD#RE\xff y", "x *** y"},
	{REG_HEADER, "X-Trace", "not-a-secret", "not-a-secret", "not-a-secret"},
	/* a secret cut short by "%.80s": 12 bytes or more of its start */
	{REG_PLAIN, "0123456789abcdefghij", NULL, "got \"0123456789ab\"",
	 "got \"***\""},
	{REG_PLAIN, "0123456789abcdefghij", NULL, "got \"0123456789a\"",
	 "got \"0123456789a\""},
	{REG_PLAIN, "0123456789abcdefghij", NULL, "x 0123456789abcd...",
	 "x ***..."},
	{REG_PLAIN, "0123456789abcdefghij", NULL, "cut 0123456789abcdefghi",
	 "cut ***"},
	/* text that only shares a start with a secret stays */
	{REG_PLAIN, "https://example.com/hook/abc-123", NULL,
	 "see https://example.com/health", "see https://example.com/health"},
	{REG_PLAIN, "0123456789abcdefghij", NULL, "0123456789abcXYZ",
	 "0123456789abcXYZ"},
	/* below VD_SECRET_MIN: never registered */
	{REG_PLAIN, "ab", NULL, "abc", "abc"},
};

START_TEST(test_mask_forms)
{
	char *m;

	vd_secret_clear();
	switch (masks[_i].how) {
	case REG_URL:
		m = vd_mask_url(masks[_i].a);
		if (masks[_i].in == NULL)
			ck_assert_str_eq(m, masks[_i].want);
		free(m);
		break;
	case REG_BASIC:
		vd_secret_add_basic(masks[_i].a, masks[_i].b);
		break;
	case REG_AUTH:
		vd_secret_add_authorization(masks[_i].a);
		break;
	case REG_HEADER:
		vd_secret_add_header(masks[_i].a, masks[_i].b);
		break;
	case REG_PLAIN:
		vd_secret_add(masks[_i].a);
		break;
	}
	if (masks[_i].in) {
		m = vd_mask(masks[_i].in);
		ck_assert_str_eq(m, masks[_i].want);
		free(m);
	}
	vd_secret_clear();
}
END_TEST

START_TEST(test_mask_brief)
{
	char *m;
	vd_secret_clear();
	vd_secret_add("Basic c2VjcmV0LWJhc2U2NA==");
	/* masked whole, then cut: the cut never leaves a secret's start */
	m = vd_mask_brief("xxxxBasic c2VjcmV0LWJhc2U2NA==yyyy", 8);
	ck_assert_str_eq(m, "xxxx***y...");
	free(m);
	/* never inside a UTF-8 sequence */
	m = vd_mask_brief("\xc3\xa9\xc3\xa9\xc3\xa9", 3);
	ck_assert_str_eq(m, "\xc3\xa9...");
	free(m);
	/* found by fuzz_http: one byte longer than max wrote "..." past
	 * the end of the masked copy */
	m = vd_mask_brief("abcd", 3);
	ck_assert_str_eq(m, "abc...");
	free(m);
	m = vd_mask_brief("a\x88\x88\x88\x88\x88", 4);
	ck_assert_str_eq(m, "a\x88\x88\x88...");
	free(m);
	m = vd_mask_brief(NULL, 3);
	ck_assert_str_eq(m, "");
	free(m);
	vd_secret_clear();
}
END_TEST

/* What security_headers, cors, redis and postgres quote from a peer: a
 * secret starting just before the cut is masked, not shown in part. */
START_TEST(test_mask_brief_to)
{
	char out[64], in[128];
	vd_secret_clear();
	vd_secret_add("tok-0123456789abcdef");
	snprintf(in, sizeof(in), "%s%s", "0123456789012345678901234",
		 "tok-0123456789abcdef and more");
	ck_assert_str_eq(vd_mask_brief_to(in, 30, out, sizeof(out)),
			 "0123456789012345678901234*** a...");
	ck_assert_ptr_null(strstr(out, "tok-"));
	/* a small out cuts further, still a string */
	ck_assert_str_eq(vd_mask_brief_to(in, 30, out, 5), "0123");
	vd_secret_clear();
}
END_TEST

START_TEST(test_base64_utf8)
{
	static const struct {
		const char *in, *out;
	} b64[] = {
		{"", ""},
		{"f", "Zg=="},
		{"fo", "Zm8="},
		{"foo", "Zm9v"},
		{"foob", "Zm9vYg=="},
		{"user:pw", "dXNlcjpwdw=="},
	};
	size_t i;
	char *m;

	for (i = 0; i < sizeof(b64) / sizeof(b64[0]); i++) {
		m = vd_base64(b64[i].in, strlen(b64[i].in));
		ck_assert_str_eq(m, b64[i].out);
		free(m);
	}
	ck_assert_int_eq(vd_utf8_seq("a"), 1);
	ck_assert_int_eq(vd_utf8_seq("\xc3\xa9"), 2);
	ck_assert_int_eq(vd_utf8_seq("\xe2\x9c\x93"), 3);
	ck_assert_int_eq(vd_utf8_seq("\xf0\x9f\x98\x80"), 4);
	ck_assert_int_eq(vd_utf8_seq("\xc0\xaf"), 0);	      /* overlong */
	ck_assert_int_eq(vd_utf8_seq("\xed\xa0\x80"), 0);     /* surrogate */
	ck_assert_int_eq(vd_utf8_seq("\xf4\x90\x80\x80"), 0); /* > U+10FFFF */
	ck_assert_int_eq(vd_utf8_seq("\xe2\x9c"), 0);	      /* cut short */
	m = vd_utf8_fix("a\xffz\xe2\x9c");
	ck_assert_str_eq(m, "a\xef\xbf\xbdz\xef\xbf\xbd\xef\xbf\xbd");
	free(m);
}
END_TEST

/* The logger: one line on stderr, scoped, secrets masked. */
START_TEST(test_log_line)
{
	char buf[512];
	int p[2], saved;
	ssize_t n;

	vd_secret_clear();
	vd_secret_add("s3cret-token-42");
	ck_assert_int_eq(pipe(p), 0);
	saved = dup(STDERR_FILENO);
	ck_assert_int_ge(saved, 0);
	ck_assert_int_ge(dup2(p[1], STDERR_FILENO), 0);
	vd_log("serve", "login with %s failed (%d)", "s3cret-token-42", 3);
	vd_log(NULL, "plain");
	ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0);
	close(saved);
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "verdict: serve: login with *** failed (3)\n"
			      "verdict: plain\n");
	vd_secret_clear();
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
	tcase_add_loop_test(tc, test_mask_forms, 0,
			    (int)(sizeof(masks) / sizeof(masks[0])));
	tcase_add_test(tc, test_mask_brief);
	tcase_add_test(tc, test_mask_brief_to);
	tcase_add_test(tc, test_base64_utf8);
	tcase_add_test(tc, test_log_line);
	suite_add_tcase(s, tc);
	return s;
}
