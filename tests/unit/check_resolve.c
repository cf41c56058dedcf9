/*
 * check_resolve.c - the resolver pool (probe/resolve.c): delivery from the
 * loop, exactly once; cancel while queued, running, or done but not yet
 * delivered; a cancel from inside another lookup's callback; the prober
 * freed while lookups run (ASan/LSan judge the memory). Slow lookups come
 * from a getaddrinfo() that this binary interposes for names ending in
 * ".slow.test" and ".fast.test" only; every other name goes to libc.
 */
#include <dlfcn.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "../../probe/probe_int.h"
#include "unit.h"

#define SLOW_US 200000 /* a ".slow.test" lookup, microseconds */

typedef int gai_fn(const char *, const char *, const struct addrinfo *,
		   struct addrinfo **);

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

int
getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
	    struct addrinfo **res)
{
	static gai_fn *real;
	if (real == NULL)
		real = (gai_fn *)dlsym(RTLD_NEXT, "getaddrinfo");
	if (node &&
	    (ends_with(node, ".slow.test") || ends_with(node, ".fast.test")) &&
	    hints && (hints->ai_flags & AI_NUMERICHOST))
		return EAI_NONAME;
	if (node && ends_with(node, ".slow.test")) {
		usleep(SLOW_US);
		return EAI_NONAME;
	}
	if (node && ends_with(node, ".fast.test"))
		return real("127.0.0.1", service, hints, res);
	return real(node, service, hints, res);
}

struct got {
	int calls;
	int gai_err;
	bool had_ai;
	struct vd_resolve *cancel_me; /* cancelled from inside the callback */
	int *order;		      /* shared delivery counter */
	int seq;
};

static void
got_cb(struct addrinfo *ai, int gai_err, void *udata)
{
	struct got *g = udata;
	g->calls++;
	g->gai_err = gai_err;
	g->had_ai = ai != NULL;
	if (g->order)
		g->seq = ++*g->order;
	if (ai)
		freeaddrinfo(ai);
	if (g->cancel_me) {
		vd_resolve_cancel(g->cancel_me);
		g->cancel_me = NULL;
	}
}

static void
stop_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/* Runs the loop for secs seconds. */
static void
run_for(struct ev_loop *loop, double secs)
{
	ev_timer t;
	ev_timer_init(&t, stop_cb, secs, 0.);
	ev_timer_start(loop, &t);
	ev_run(loop, 0);
	ev_timer_stop(loop, &t);
}

START_TEST(test_numeric)
{
	struct ev_loop *loop = ev_loop_new(0);
	struct vd_prober *p = vd_prober_new(loop, NULL);
	struct got g = {0};

	vd_resolve_start(p, "127.0.0.1", "80", SOCK_STREAM, got_cb, &g);
	vd_resolve_start(p, "::1", "80", SOCK_STREAM, got_cb, &g);
	ck_assert_int_eq(g.calls, 0); /* never from inside start */
	run_for(loop, 0.05);
	ck_assert_int_eq(g.calls, 2);
	ck_assert(g.had_ai);
	vd_prober_free(p);
	ev_loop_destroy(loop);
}
END_TEST

START_TEST(test_names)
{
	struct ev_loop *loop = ev_loop_new(0);
	struct vd_prober *p = vd_prober_new(loop, NULL);
	struct got ok = {0}, bad = {0}, many[100];
	int i;

	memset(many, 0, sizeof(many));
	vd_resolve_start(p, "localhost", "80", SOCK_STREAM, got_cb, &ok);
	/* an invalid name: refused by libc without a DNS query */
	vd_resolve_start(p, "no-such..host", "80", SOCK_STREAM, got_cb, &bad);
	for (i = 0; i < 100; i++)
		vd_resolve_start(p, "x.fast.test", "443", SOCK_STREAM, got_cb,
				 &many[i]);
	ck_assert_int_eq(ok.calls, 0);
	run_for(loop, 1.0);
	ck_assert_int_eq(ok.calls, 1);
	ck_assert(ok.had_ai);
	ck_assert_int_eq(bad.calls, 1);
	ck_assert(!bad.had_ai);
	ck_assert_int_ne(bad.gai_err, 0);
	for (i = 0; i < 100; i++) {
		ck_assert_int_eq(many[i].calls, 1);
		ck_assert(many[i].had_ai);
	}
	vd_prober_free(p);
	ev_loop_destroy(loop);
}
END_TEST

/* More slow lookups than threads: some queued, some running. */
START_TEST(test_cancel_queued_and_running)
{
	struct ev_loop *loop = ev_loop_new(0);
	struct vd_prober *p = vd_prober_new(loop, NULL);
	struct vd_resolve *r[20];
	struct got g = {0};
	int i;

	for (i = 0; i < 20; i++)
		r[i] = vd_resolve_start(p, "a.slow.test", "80", SOCK_STREAM,
					got_cb, &g);
	usleep(20000); /* let workers pick some up */
	for (i = 0; i < 20; i++)
		vd_resolve_cancel(r[i]);
	run_for(loop, 3.0 * SLOW_US / 1e6);
	ck_assert_int_eq(g.calls, 0);
	vd_prober_free(p);
	ev_loop_destroy(loop);
}
END_TEST

/* Finished by the worker, not yet delivered by the loop. */
START_TEST(test_cancel_done)
{
	struct ev_loop *loop = ev_loop_new(0);
	struct vd_prober *p = vd_prober_new(loop, NULL);
	struct got g = {0};
	struct vd_resolve *r;

	r = vd_resolve_start(p, "b.fast.test", "80", SOCK_STREAM, got_cb, &g);
	usleep(100000); /* the worker is done; the loop has not run */
	vd_resolve_cancel(r);
	run_for(loop, 0.05);
	ck_assert_int_eq(g.calls, 0);
	vd_prober_free(p);
	ev_loop_destroy(loop);
}
END_TEST

/* Two results wait for delivery; the first callback cancels the second. */
START_TEST(test_cancel_from_callback)
{
	struct ev_loop *loop = ev_loop_new(0);
	struct vd_prober *p = vd_prober_new(loop, NULL);
	struct got first = {0}, second = {0};
	int order = 0;
	struct vd_resolve *r1, *r2;

	first.order = second.order = &order;
	r1 = vd_resolve_start(p, "c.fast.test", "80", SOCK_STREAM, got_cb,
			      &first);
	r2 = vd_resolve_start(p, "d.fast.test", "80", SOCK_STREAM, got_cb,
			      &second);
	usleep(100000);
	/* whichever is delivered first cancels the other */
	first.cancel_me = r2;
	second.cancel_me = r1;
	run_for(loop, 0.05);
	ck_assert_int_eq(first.calls + second.calls, 1);
	vd_prober_free(p);
	ev_loop_destroy(loop);
}
END_TEST

/* The prober (and its loop) go away while workers sit in getaddrinfo:
 * nothing is delivered, nothing is touched after free, nothing leaks. */
START_TEST(test_free_while_running)
{
	struct ev_loop *loop = ev_loop_new(0);
	struct vd_prober *p = vd_prober_new(loop, NULL);
	struct got g = {0};
	int i;

	for (i = 0; i < 12; i++)
		vd_resolve_start(p, "e.slow.test", "80", SOCK_STREAM, got_cb,
				 &g);
	vd_resolve_start(p, "f.fast.test", "80", SOCK_STREAM, got_cb, &g);
	usleep(20000);
	vd_prober_free(p);
	ev_loop_destroy(loop);
	usleep(3 * SLOW_US); /* the workers finish, free and exit */
	ck_assert_int_eq(g.calls, 0);
}
END_TEST

/* Address classes for the address policies: a table of literals. */
START_TEST(test_addr_classify)
{
	static const struct {
		const char *addr;
		enum vd_addr_class cls;
	} cases[] = {
		{"93.184.216.34", VD_ADDR_PUBLIC},
		{"2606:2800:220:1::1", VD_ADDR_PUBLIC},
		{"127.0.0.1", VD_ADDR_LOOPBACK},
		{"127.255.0.9", VD_ADDR_LOOPBACK},
		{"::1", VD_ADDR_LOOPBACK},
		{"::ffff:127.0.0.1", VD_ADDR_LOOPBACK},
		{"10.1.2.3", VD_ADDR_PRIVATE},
		{"172.31.255.1", VD_ADDR_PRIVATE},
		{"172.32.0.1", VD_ADDR_PUBLIC},
		{"192.168.0.1", VD_ADDR_PRIVATE},
		{"100.64.0.1", VD_ADDR_PRIVATE},
		{"fd12::1", VD_ADDR_PRIVATE},
		{"169.254.1.1", VD_ADDR_LINK_LOCAL},
		{"fe80::1", VD_ADDR_LINK_LOCAL},
		{"febf::1", VD_ADDR_LINK_LOCAL},
		{"169.254.169.254", VD_ADDR_METADATA},
		{"::ffff:169.254.169.254", VD_ADDR_METADATA},
		{"fd00:ec2::254", VD_ADDR_METADATA},
		{"100.100.100.200", VD_ADDR_METADATA},
		{"0.0.0.0", VD_ADDR_SPECIAL},
		{"::", VD_ADDR_SPECIAL},
		{"224.0.0.1", VD_ADDR_SPECIAL},
		{"255.255.255.255", VD_ADDR_SPECIAL},
		{"ff02::1", VD_ADDR_SPECIAL},
		{"192.0.2.1", VD_ADDR_SPECIAL},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct addrinfo hints, *ai = NULL;
		char back[64];
		memset(&hints, 0, sizeof(hints));
		hints.ai_flags = AI_NUMERICHOST;
		ck_assert_int_eq(getaddrinfo(cases[i].addr, NULL, &hints, &ai),
				 0);
		ck_assert_msg(vd_addr_classify(ai->ai_addr) == cases[i].cls,
			      "%s: %s, expected %s", cases[i].addr,
			      vd_addr_class_name(vd_addr_classify(ai->ai_addr)),
			      vd_addr_class_name(cases[i].cls));
		vd_addr_format(ai->ai_addr, back, sizeof(back));
		ck_assert_str_eq(back, cases[i].addr);
		freeaddrinfo(ai);
	}
}
END_TEST

Suite *
resolve_suite(void)
{
	Suite *s = suite_create("resolve");
	TCase *tc = tcase_create("resolve");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_numeric);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_cancel_queued_and_running);
	tcase_add_test(tc, test_cancel_done);
	tcase_add_test(tc, test_cancel_from_callback);
	tcase_add_test(tc, test_free_while_running);
	tcase_add_test(tc, test_addr_classify);
	suite_add_tcase(s, tc);
	return s;
}
