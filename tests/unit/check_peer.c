/*
 * check_peer.c - parsers of what a target sends, outside a running check:
 * Redis replies (declared sizes against max_body), and the inputs the
 * fuzz targets in tests/fuzz found, each kept as a regression.
 */
#include <stdlib.h>
#include <string.h>

#include "../../probe/checks/checks.h"
#include "../../probe/probe.h"
#include "../../lib/util.h"
#include "unit.h"

/* The length line of a bulk string hiredis' reader waits on. */
static const struct {
	const char *buf;
	size_t max_body;
	int rc;
	long long declared;
} pending[] = {
	{"1000000000\r\n", 1024, -1, 1000000000},
	{"1025\r\nabc", 1024, -1, 1025},
	{"1024\r\nabc", 1024, 0, 1024},
	{"-1\r\n", 1024, 0, -1},
	{"99999999999999999999999\r\n", 1024, -1, 9223372036854775807LL},
	{"-99999999999999999999999\r\n", 1024, 0, 0},
	{"12", 1, 0, 0}, /* the line is not complete */
	{"\r\n", 1, 0, 0},
	{"1x\r\n", 1, 0, 0}, /* hiredis says what is wrong */
	{"", 1, 0, 0},
};

START_TEST(test_redis_pending)
{
	long long n = 7;
	int rc =
		vd_redis_pending_check(pending[_i].buf, strlen(pending[_i].buf),
				       pending[_i].max_body, &n);
	ck_assert_msg(rc == pending[_i].rc, "%s: rc %d", pending[_i].buf, rc);
	ck_assert_msg(n == pending[_i].declared, "%s: declared %lld",
		      pending[_i].buf, n);
}
END_TEST

/* Replies through a reader limited as a check's is: none may crash, leak
 * or allocate what max_body cannot hold ("*2000000000" would ask hiredis
 * for 16 GB of element pointers; ASan aborts on such a request). */
static const char *const replies[] = {
	"*2000000000\r\n",
	"*-5\r\n",
	"*2\r\n$3\r\nfoo\r\n*1\r\n:1\r\n",
	"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n",
	"$5\r\nab\r\n",
	"+OK\r\n-ERR x\r\n:12\r\n$-1\r\n*-1\r\n",
	"$4294967296\r\n",
	"*4294967297\r\n:1\r\n",
	"?\r\n",
};

START_TEST(test_redis_replies)
{
	vd_redis_fuzz_replies(replies[_i], strlen(replies[_i]), 1024);
}
END_TEST

/* found by fuzz_http: a header value with a bare CR and a byte that is
 * not UTF-8 ("Access-Control-Allow-Methods: GET, PUT\r\xd7") became a
 * fact as it was; facts are valid UTF-8 on one line, like reasons. */
START_TEST(test_fact_text)
{
	struct vd_result res;
	vd_result_init(&res);
	vd_result_fact_str(&res, "cors_allow_methods", "GET, PUT\r\xd7");
	ck_assert_str_eq(vd_result_fact(&res, "cors_allow_methods")->str,
			 "GET, PUT \xef\xbf\xbd");
	vd_result_fact_str(&res, "server", "nginx\x1b[31m\n\xc3\xa9");
	ck_assert_str_eq(vd_result_fact(&res, "server")->str,
			 "nginx [31m \xc3\xa9");
	vd_result_clear(&res);
}
END_TEST

Suite *
peer_suite(void)
{
	Suite *s = suite_create("peer");
	TCase *tc = tcase_create("peer");
	tcase_add_loop_test(tc, test_redis_pending, 0,
			    (int)(sizeof(pending) / sizeof(pending[0])));
	tcase_add_loop_test(tc, test_redis_replies, 0,
			    (int)(sizeof(replies) / sizeof(replies[0])));
	tcase_add_test(tc, test_fact_text);
	suite_add_tcase(s, tc);
	return s;
}
