/*
 * check_engine.c - the engine (probe/engine.c, probe/run.c) on a real
 * ev_loop with a check type defined here: it finishes after an ev_timer,
 * inside start(), or never. Exactly one result per check, deadlines,
 * retries and their interval, the concurrency limit, stages and skipping.
 * Depends on probe.h and libev only.
 */
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "../../probe/probe.h"
#include "../../lib/util.h"
#include "unit.h"

#define MAXEV 256

/* How one test check behaves; its chk->conf. */
struct behave {
	double delay;	/* seconds before the verdict; < 0: never */
	bool sync;	/* decide inside start() */
	int fail_first; /* attempts that fail before one passes */
	enum vd_status fail_status;
	const char *reason; /* the passing reason ("ok" if NULL) */
	bool twice;	    /* call vd_attempt_finish a second time */
	int seen;	    /* attempts started */
};

/* What the test type and the callbacks observed. */
static struct {
	int starts, cancels, timed_out;
	unsigned max_inflight;
	int seq; /* event counter */
	struct {
		const struct vd_check *chk;
		int seq;
		double at; /* ev_now */
	} start[MAXEV], done[MAXEV];
	int nstart, ndone;
	int progress[MAXEV];   /* per check index */
	int retries[MAXEV];    /* retry events per check index */
	int last_retry[MAXEV]; /* the attempt number of the last one */
	int stages, started;   /* stage and started events */
	int run_cb;
	bool passed;
	enum vd_status status[MAXEV];
	enum vd_reason kind[MAXEV];
	char reason[MAXEV][200];
	int attempts[MAXEV];
	double duration[MAXEV];
} ob;

static struct ev_loop *loop;
static struct vd_check *checks[MAXEV];
static size_t nchecks;

struct tattempt {
	ev_timer timer;
	struct vd_attempt *att;
};

static void
decide(struct vd_attempt *att)
{
	struct behave *b = att->check->conf;

	if (b->seen <= b->fail_first)
		vd_attempt_finish(att, b->fail_status, VD_REASON_STATUS,
				  "attempt %d failed", b->seen);
	else
		vd_attempt_finish(att, VD_STATUS_PASS, VD_REASON_NONE, "%s",
				  b->reason ? b->reason : "ok");
	if (b->twice)
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_INTERNAL,
				  "second call");
}

static void
t_timer_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	struct tattempt *ta = w->data;
	(void)l;
	(void)revents;
	decide(ta->att);
}

static void
t_start(struct vd_attempt *att)
{
	struct behave *b = att->check->conf;
	struct tattempt *ta;
	unsigned inflight = vd_prober_inflight(att->prober);

	ck_assert_int_lt(ob.nstart, MAXEV);
	ck_assert(!att->finished);
	ob.start[ob.nstart].chk = att->check;
	ob.start[ob.nstart].seq = ob.seq++;
	ob.start[ob.nstart].at = ev_now(att->loop);
	ob.nstart++;
	ob.starts++;
	if (inflight > ob.max_inflight)
		ob.max_inflight = inflight;
	b->seen++;
	if (b->sync) {
		decide(att);
		return;
	}
	ta = vd_xcalloc(1, sizeof(*ta));
	ta->att = att;
	ev_timer_init(&ta->timer, t_timer_cb, b->delay > 0 ? b->delay : 0., 0.);
	ta->timer.data = ta;
	att->data = ta;
	if (b->delay >= 0)
		ev_timer_start(att->loop, &ta->timer);
}

static void
t_cancel(struct vd_attempt *att)
{
	struct tattempt *ta = att->data;

	ob.cancels++;
	if (att->timed_out)
		ob.timed_out++;
	if (ta) {
		ev_timer_stop(att->loop, &ta->timer);
		free(ta);
	}
}

static void
t_free(void *conf)
{
	free(conf);
}

static const struct vd_check_type test_type = {
	.name = "test",
	.start = t_start,
	.cancel = t_cancel,
	.free = t_free,
};

/* A check of the test type: stage index si named stage. */
static struct vd_check *
mk(const char *name, const char *stage, unsigned si, bool critical,
   double timeout, int retries, double interval, struct behave b)
{
	struct vd_check *c = vd_xcalloc(1, sizeof(*c));
	struct behave *conf = vd_xmalloc(sizeof(*conf));

	ck_assert_uint_lt(nchecks, MAXEV);
	*conf = b;
	if (conf->fail_status == VD_STATUS_PASS)
		conf->fail_status = VD_STATUS_FAIL;
	c->name = vd_xstrdup(name);
	c->type = &test_type;
	c->stage = vd_xstrdup(stage);
	c->stage_index = si;
	c->critical = critical;
	c->timeout = timeout;
	c->retries = retries;
	c->interval = interval;
	c->max_body = 1024;
	c->tls.verify = true;
	c->target = vd_xstrdup("test:");
	c->conf = conf;
	checks[nchecks++] = c;
	return c;
}

static size_t
index_of(const struct vd_check *chk)
{
	size_t i;
	for (i = 0; i < nchecks; i++)
		if (checks[i] == chk)
			return i;
	ck_abort_msg("unknown check %s", chk->name);
	return 0;
}

static void
record(const struct vd_check *chk, const struct vd_result *res)
{
	size_t i = index_of(chk);
	ob.status[i] = res->status;
	ob.kind[i] = res->reason_kind;
	snprintf(ob.reason[i], sizeof(ob.reason[i]), "%s",
		 res->reason ? res->reason : "");
	ob.attempts[i] = res->attempts;
	ob.duration[i] = res->duration;
	ck_assert_int_lt(ob.ndone, MAXEV);
	ob.done[ob.ndone].chk = chk;
	ob.done[ob.ndone].seq = ob.seq++;
	ob.done[ob.ndone].at = ev_now(loop);
	ob.ndone++;
}

static void
progress_cb(const struct vd_run_event *ev, void *udata)
{
	(void)udata;
	switch (ev->kind) {
	case VD_RUN_STAGE:
		ob.stages++;
		break;
	case VD_RUN_STARTED:
		ob.started++;
		break;
	case VD_RUN_RETRY:
		ck_assert_ptr_nonnull(ev->res);
		ck_assert_int_ne(ev->res->status, VD_STATUS_PASS);
		ob.retries[index_of(ev->chk)]++;
		ob.last_retry[index_of(ev->chk)] = ev->attempt;
		break;
	case VD_RUN_DONE:
		ob.progress[index_of(ev->chk)]++;
		record(ev->chk, ev->res);
		break;
	}
}

static void
run_cb(const struct vd_run_summary *sum, void *udata)
{
	size_t i;
	(void)udata;
	ob.run_cb++;
	ob.passed = sum->passed;
	ck_assert_uint_eq(sum->n, nchecks);
	for (i = 0; i < sum->n; i++) {
		/* the summary agrees with what progress saw */
		ck_assert_int_eq(sum->results[i].status, ob.status[i]);
		ck_assert_str_eq(sum->results[i].reason ? sum->results[i].reason
							: "",
				 ob.reason[i]);
	}
	ev_break(loop, EVBREAK_ALL);
}

static void
probe_cb(const struct vd_check *chk, const struct vd_result *res, void *udata)
{
	int *calls = udata;
	(*calls)++;
	record(chk, res);
	ev_break(loop, EVBREAK_ALL);
}

static void
guard_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(l, EVBREAK_ALL);
}

/* Runs the loop until something breaks it or `limit` seconds pass;
 * returns true if the limit was hit. */
static bool
run_loop(double limit)
{
	ev_timer guard;
	bool hit;

	ev_timer_init(&guard, guard_cb, limit, 0.);
	ev_timer_start(loop, &guard);
	ev_run(loop, 0);
	hit = !ev_is_active(&guard);
	ev_timer_stop(loop, &guard);
	return hit;
}

/* Runs every check made with mk() as one run; returns the elapsed
 * seconds. */
static double
run_all(unsigned concurrency)
{
	struct vd_prober_opts o = {.concurrency = concurrency};
	struct vd_prober *p = vd_prober_new(loop, &o);
	struct vd_run *run;
	double t0;

	ev_now_update(loop);
	t0 = ev_now(loop);
	run = vd_run_start(p, (const struct vd_check *const *)checks, nchecks,
			   run_cb, progress_cb, NULL);
	ck_assert_msg(!run_loop(20), "the run never finished");
	ev_now_update(loop);
	vd_run_free(run);
	vd_prober_free(p);
	return ev_now(loop) - t0;
}

static void
setup(void)
{
	memset(&ob, 0, sizeof(ob));
	nchecks = 0;
	loop = ev_loop_new(EVFLAG_AUTO);
	ck_assert_ptr_nonnull(loop);
	vd_secret_clear();
}

static void
teardown(void)
{
	size_t i;
	for (i = 0; i < nchecks; i++)
		vd_check_free(checks[i]);
	nchecks = 0;
	ev_loop_destroy(loop);
	loop = NULL;
	vd_secret_clear();
}

START_TEST(test_one_result_each)
{
	size_t i;

	for (i = 0; i < 40; i++) {
		char name[16];
		struct behave b = {0};
		snprintf(name, sizeof(name), "c%zu", i);
		switch (i % 5) {
		case 0: /* passes after a timer */
			b.delay = 0.01;
			break;
		case 1: /* decides inside start() */
			b.sync = true;
			break;
		case 2: /* fails inside start() */
			b.sync = true;
			b.fail_first = 1;
			break;
		case 3: /* never answers */
			b.delay = -1;
			break;
		case 4: /* would answer after its deadline */
			b.delay = 0.3;
			break;
		}
		mk(name, "main", 0, true, 0.1, 0, 0.01, b);
	}
	run_all(0);
	ck_assert_int_eq(ob.run_cb, 1);
	ck_assert(!ob.passed);
	for (i = 0; i < nchecks; i++) {
		static const enum vd_status want[] = {
			VD_STATUS_PASS, VD_STATUS_PASS, VD_STATUS_FAIL,
			VD_STATUS_ERROR, VD_STATUS_ERROR};
		ck_assert_msg(ob.progress[i] == 1, "%s: %d results",
			      checks[i]->name, ob.progress[i]);
		ck_assert_int_eq(ob.status[i], want[i % 5]);
		ck_assert_int_eq(ob.attempts[i], 1);
	}
	/* every started attempt was released exactly once */
	ck_assert_int_eq(ob.starts, 40);
	ck_assert_int_eq(ob.cancels, 40);
	ck_assert_int_eq(ob.timed_out, 16);
}
END_TEST

START_TEST(test_deadline)
{
	struct behave never = {.delay = -1};
	double took;

	mk("never", "main", 0, true, 0.2, 0, 0.01, never);
	took = run_all(0);
	ck_assert_int_eq(ob.status[0], VD_STATUS_ERROR);
	ck_assert_str_eq(ob.reason[0], "timeout after 200ms");
	ck_assert_int_eq(ob.kind[0], VD_REASON_TIMEOUT);
	ck_assert_int_eq(ob.attempts[0], 1);
	ck_assert_int_eq(ob.timed_out, 1);
	ck_assert_double_ge(ob.duration[0], 0.2 - 0.005);
	/* held within generous bounds */
	ck_assert_double_lt(took, 3.0);
}
END_TEST

/* One probe on its own: the callback never runs from inside
 * vd_probe_start, and a timeout is an error of kind "timeout". */
START_TEST(test_probe_timeout)
{
	struct behave never = {.delay = -1};
	struct vd_prober *p = vd_prober_new(loop, NULL);
	struct vd_check *c = mk("never", "main", 0, true, 0.05, 0, 0.01, never);
	int calls = 0;

	vd_probe_start(p, c, probe_cb, &calls);
	ck_assert_int_eq(calls, 0);
	ck_assert_uint_eq(vd_prober_inflight(p), 1);
	ck_assert(!run_loop(5));
	ck_assert_int_eq(calls, 1);
	ck_assert_int_eq(ob.status[0], VD_STATUS_ERROR);
	ck_assert_int_eq(ob.kind[0], VD_REASON_TIMEOUT);
	ck_assert_uint_eq(vd_prober_inflight(p), 0);
	/* nothing is left on the loop */
	ck_assert(!ev_run(loop, EVRUN_NOWAIT));
	vd_prober_free(p);
}
END_TEST

/* A check that fails twice and then passes: 3 attempts, a pass, and the
 * interval held between attempts. */
START_TEST(test_retries_then_pass)
{
	struct behave b = {.delay = 0, .fail_first = 2};
	int i;

	mk("flaky", "main", 0, true, 1.0, 5, 0.1, b);
	run_all(0);
	ck_assert_int_eq(ob.status[0], VD_STATUS_PASS);
	ck_assert_int_eq(ob.attempts[0], 3);
	ck_assert_str_eq(ob.reason[0], "ok");
	ck_assert_int_eq(ob.nstart, 3);
	for (i = 1; i < ob.nstart; i++) {
		double gap = ob.start[i].at - ob.start[i - 1].at;
		ck_assert_msg(gap >= 0.1 - 0.005 && gap < 2.0,
			      "attempt %d began %.3fs after the one before", i,
			      gap);
	}
	ck_assert_double_ge(ob.duration[0], 0.2 - 0.01);
	ck_assert_int_eq(ob.progress[0], 1);
	/* progress: one stage, one start, a retry event per failed attempt */
	ck_assert_int_eq(ob.stages, 1);
	ck_assert_int_eq(ob.started, 1);
	ck_assert_int_eq(ob.retries[0], 2);
	ck_assert_int_eq(ob.last_retry[0], 2);
}
END_TEST

/* Retries run out: the last attempt's verdict and reason stand. */
START_TEST(test_retries_exhausted)
{
	struct behave fail = {.sync = true, .fail_first = 100};
	struct behave never = {.delay = -1};

	mk("always-fails", "main", 0, true, 1.0, 2, 0.01, fail);
	mk("never", "main", 0, true, 0.05, 1, 0.01, never);
	run_all(0);
	ck_assert_int_eq(ob.status[0], VD_STATUS_FAIL);
	ck_assert_int_eq(ob.attempts[0], 3);
	ck_assert_str_eq(ob.reason[0], "attempt 3 failed");
	ck_assert_int_eq(ob.status[1], VD_STATUS_ERROR);
	ck_assert_int_eq(ob.attempts[1], 2);
	ck_assert_str_eq(ob.reason[1], "timeout after 50ms");
	ck_assert_int_eq(ob.timed_out, 2);
	ck_assert_int_eq(ob.starts, 5);
	ck_assert_int_eq(ob.cancels, 5);
}
END_TEST

START_TEST(test_concurrency)
{
	static const unsigned limits[] = {1, 3, 7};
	unsigned lim = limits[_i];
	size_t i;

	for (i = 0; i < 20; i++) {
		struct behave b = {.delay = 0.01, .fail_first = i % 4 == 0};
		char name[16];
		snprintf(name, sizeof(name), "c%zu", i);
		/* some retry: a waiting retry holds no slot */
		mk(name, "main", 0, true, 1.0, 1, 0.01, b);
	}
	run_all(lim);
	ck_assert_uint_eq(ob.max_inflight, lim);
	for (i = 0; i < nchecks; i++)
		ck_assert_int_eq(ob.status[i], VD_STATUS_PASS);
	ck_assert_int_eq(ob.starts, 25);
}
END_TEST

/* Stages run in order of their index: every result of a stage comes in
 * before anything of the next one starts. */
START_TEST(test_stage_order)
{
	struct behave slow = {.delay = 0.05}, fast = {.delay = 0.01},
		      now = {.sync = true};
	int i, j;

	mk("s2-a", "last", 2, true, 1, 0, 0.01, now);
	mk("s0-a", "health", 0, true, 1, 0, 0.01, slow);
	mk("s1-a", "smoke", 1, true, 1, 0, 0.01, fast);
	mk("s0-b", "health", 0, true, 1, 0, 0.01, fast);
	mk("s1-b", "smoke", 1, true, 1, 0, 0.01, slow);
	run_all(0);
	ck_assert(ob.passed);
	ck_assert_int_eq(ob.nstart, 5);
	for (i = 0; i < ob.ndone; i++)
		for (j = 0; j < ob.nstart; j++)
			if (ob.start[j].chk->stage_index >
			    ob.done[i].chk->stage_index)
				ck_assert_msg(ob.start[j].seq > ob.done[i].seq,
					      "%s started before %s ended",
					      ob.start[j].chk->name,
					      ob.done[i].chk->name);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(ob.status[i], VD_STATUS_PASS);
}
END_TEST

/* A critical failure skips every later stage, and the reason names the
 * stage and the check; the rest of its own stage still runs. */
START_TEST(test_stage_skip)
{
	struct behave bad = {.sync = true, .fail_first = 1},
		      good = {.delay = 0.01};

	mk("backend-health", "health", 0, true, 1, 0, 0.01, bad);
	mk("other-health", "health", 0, true, 1, 0, 0.01, good);
	mk("smoke-1", "smoke", 1, true, 1, 0, 0.01, good);
	mk("late", "late", 2, false, 1, 0, 0.01, good);
	run_all(0);
	ck_assert(!ob.passed);
	ck_assert_int_eq(ob.status[0], VD_STATUS_FAIL);
	ck_assert_int_eq(ob.status[1], VD_STATUS_PASS);
	ck_assert_int_eq(ob.status[2], VD_STATUS_SKIPPED);
	ck_assert_int_eq(ob.status[3], VD_STATUS_SKIPPED);
	ck_assert_str_eq(ob.reason[2],
			 "skipped: stage 'health' failed (backend-health)");
	ck_assert_str_eq(ob.reason[3],
			 "skipped: stage 'health' failed (backend-health)");
	ck_assert_int_eq(ob.attempts[2], 0);
	/* skipped checks never start, but each still has one result */
	ck_assert_int_eq(ob.starts, 2);
	ck_assert_int_eq(ob.progress[2], 1);
	ck_assert_int_eq(ob.progress[3], 1);
}
END_TEST

/* An error (not only a fail) of a critical check skips as well; the
 * reason names every critical check of the stage that failed, in the
 * order they ended, the first five. */
START_TEST(test_stage_skip_on_error)
{
	struct behave never = {.delay = -1}, good = {.sync = true},
		      bad = {.sync = true, .fail_first = 1};

	mk("db", "health", 0, true, 0.05, 0, 0.01, never);
	mk("smoke-1", "smoke", 1, true, 1, 0, 0.01, good);
	mk("api", "health", 0, true, 1, 0, 0.01, bad);
	mk("cache", "health", 0, false, 1, 0, 0.01, bad); /* a warning */
	run_all(0);
	ck_assert_int_eq(ob.status[1], VD_STATUS_SKIPPED);
	ck_assert_str_eq(ob.reason[1],
			 "skipped: stage 'health' failed (api, db)");
}
END_TEST

/* A non-critical failure is a warning: later stages run, the run passes. */
START_TEST(test_noncritical)
{
	struct behave bad = {.sync = true, .fail_first = 1},
		      good = {.delay = 0.01};

	mk("warn", "health", 0, false, 1, 0, 0.01, bad);
	mk("smoke-1", "smoke", 1, true, 1, 0, 0.01, good);
	run_all(0);
	ck_assert(ob.passed);
	ck_assert_int_eq(ob.status[0], VD_STATUS_FAIL);
	ck_assert_int_eq(ob.status[1], VD_STATUS_PASS);
	ck_assert_int_eq(ob.starts, 2);
}
END_TEST

START_TEST(test_empty_run)
{
	run_all(0);
	ck_assert_int_eq(ob.run_cb, 1);
	ck_assert(ob.passed);
}
END_TEST

/* A second vd_attempt_finish is a no-op; reasons are one line and
 * masked. */
START_TEST(test_finish_once_masked)
{
	struct behave twice = {.sync = true,
			       .twice = true,
			       .reason =
				       "got s3cr3t-value\r\nand\033[31m more"};

	vd_secret_add("s3cr3t-value");
	mk("twice", "main", 0, true, 1, 0, 0.01, twice);
	run_all(0);
	ck_assert_int_eq(ob.status[0], VD_STATUS_PASS);
	/* control characters (a hostile peer's ESC) become spaces */
	ck_assert_str_eq(ob.reason[0], "got ***  and [31m more");
	ck_assert_int_eq(ob.cancels, 1);
}
END_TEST

/* Freeing a prober or a run with work in flight cancels it: no callback,
 * every started attempt released. */
START_TEST(test_free_in_flight)
{
	struct behave never = {.delay = -1}, slow = {.delay = 5};
	struct vd_prober_opts o = {.concurrency = 1};
	struct vd_prober *p = vd_prober_new(loop, &o);
	struct vd_check *a = mk("a", "main", 0, true, 10, 0, 0.01, never);
	struct vd_check *b = mk("b", "main", 0, true, 10, 0, 0.01, slow);
	struct vd_run *run;
	int calls = 0;

	vd_probe_start(p, a, probe_cb, &calls);
	vd_probe_start(p, b, probe_cb, &calls); /* queued behind a */
	ck_assert_uint_eq(vd_prober_inflight(p), 1);
	ck_assert(run_loop(0.05));
	vd_prober_free(p);
	ck_assert_int_eq(calls, 0);
	ck_assert_int_eq(ob.starts, 1);
	ck_assert_int_eq(ob.cancels, 1);

	p = vd_prober_new(loop, NULL);
	run = vd_run_start(p, (const struct vd_check *const *)checks, nchecks,
			   run_cb, progress_cb, NULL);
	ck_assert(run_loop(0.05));
	vd_run_free(run);
	ck_assert_int_eq(ob.run_cb, 0);
	ck_assert_int_eq(ob.starts, 3);
	ck_assert_int_eq(ob.cancels, 3);
	ck_assert_uint_eq(vd_prober_inflight(p), 0);
	vd_prober_free(p);
	/* nothing is left on the loop */
	ck_assert(!ev_run(loop, EVRUN_NOWAIT));
}
END_TEST

/* A waiting retry is cancelled cleanly too. */
START_TEST(test_cancel_waiting_retry)
{
	struct behave bad = {.sync = true, .fail_first = 100};
	struct vd_prober *p = vd_prober_new(loop, NULL);
	struct vd_check *c = mk("a", "main", 0, true, 1, 3, 10.0, bad);
	struct vd_probe *pr;
	int calls = 0;

	pr = vd_probe_start(p, c, probe_cb, &calls);
	ck_assert(run_loop(0.05));
	ck_assert_int_eq(ob.starts, 1);
	ck_assert_uint_eq(vd_prober_inflight(p), 0);
	vd_probe_cancel(pr);
	ck_assert_int_eq(calls, 0);
	ck_assert_int_eq(ob.cancels, 1);
	vd_prober_free(p);
}
END_TEST

Suite *
engine_suite(void)
{
	Suite *s = suite_create("engine");
	TCase *tc = tcase_create("engine");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_one_result_each);
	tcase_add_test(tc, test_deadline);
	tcase_add_test(tc, test_probe_timeout);
	tcase_add_test(tc, test_retries_then_pass);
	tcase_add_test(tc, test_retries_exhausted);
	tcase_add_loop_test(tc, test_concurrency, 0, 3);
	tcase_add_test(tc, test_stage_order);
	tcase_add_test(tc, test_stage_skip);
	tcase_add_test(tc, test_stage_skip_on_error);
	tcase_add_test(tc, test_noncritical);
	tcase_add_test(tc, test_empty_run);
	tcase_add_test(tc, test_finish_once_masked);
	tcase_add_test(tc, test_free_in_flight);
	tcase_add_test(tc, test_cancel_waiting_retry);
	suite_add_tcase(s, tc);
	return s;
}
