/*
 * run.c - a run of many checks, stage by stage: a stage starts when the
 * one before it is done, and a stage whose critical check did not pass
 * skips every later stage. Built on vd_probe_start().
 */
#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "../lib/util.h"

struct run_slot {
	struct vd_run *run;
	size_t idx;
};

struct vd_run {
	struct vd_prober *prober;
	struct run_slot *slots; /* probe udata, one per check */
	const struct vd_check *const *checks;
	size_t n;
	struct vd_result *results;
	struct vd_probe **probes; /* in flight, per check */
	vd_run_cb *cb;
	vd_run_progress_cb *progress;
	void *udata;
	unsigned stage; /* current stage index */
	unsigned nstages;
	size_t pending;	     /* probes in flight in this stage */
	char *blocker;	     /* "stage 'health' failed (backend-health)" */
	unsigned nblockers;  /* critical checks of that stage that failed */
	double started_mono; /* ev_now */
	double started_unix;
	ev_timer done; /* zero-delay: cb runs from a clean stack */
	bool finished;
};

static void advance(struct vd_run *run);

/* Tells the progress callback about chk (attempt and next_in: RETRY). */
static void
tell(struct vd_run *run, enum vd_run_event_kind kind,
     const struct vd_check *chk, const struct vd_result *res, int attempt,
     double next_in)
{
	struct vd_run_event ev;
	if (run->progress == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.chk = chk;
	ev.res = res;
	ev.stage = chk ? chk->stage : NULL;
	ev.attempt = attempt;
	ev.next_in = next_in;
	run->progress(&ev, run->udata);
}

#define BLOCKERS_NAMED 5 /* failed checks a skip reason names */

/* The skip reason names every critical check of the stage that failed
 * (the first few, then how many more). */
static void
add_blocker(struct vd_run *run, const struct vd_check *chk)
{
	char *b;
	size_t n;

	run->nblockers++;
	if (run->blocker == NULL) {
		run->blocker = vd_xasprintf("stage '%s' failed (%s)",
					    chk->stage, chk->name);
		return;
	}
	if (run->nblockers > BLOCKERS_NAMED + 1)
		return;
	n = strlen(run->blocker) - 1; /* without ")" */
	if (run->nblockers == BLOCKERS_NAMED + 1)
		b = vd_xasprintf("%.*s, ...)", (int)n, run->blocker);
	else
		b = vd_xasprintf("%.*s, %s)", (int)n, run->blocker, chk->name);
	free(run->blocker);
	run->blocker = b;
}

static void
probe_retry(const struct vd_check *chk, const struct vd_result *res,
	    int attempt, double next_in, void *udata)
{
	struct run_slot *slot = udata;
	tell(slot->run, VD_RUN_RETRY, chk, res, attempt, next_in);
}

static void
probe_done(const struct vd_check *chk, const struct vd_result *res, void *udata)
{
	struct run_slot *slot = udata;
	struct vd_run *run = slot->run;
	size_t i = slot->idx;

	run->probes[i] = NULL;
	vd_result_copy(&run->results[i], res);
	tell(run, VD_RUN_DONE, chk, &run->results[i], 0, 0);
	if (chk->critical && res->status != VD_STATUS_PASS)
		add_blocker(run, chk);
	if (--run->pending == 0) {
		run->stage++;
		advance(run);
	}
}

static void
done_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vd_run *run = w->data;
	struct vd_run_summary sum;
	size_t i;
	(void)revents;

	ev_now_update(loop);
	sum.checks = run->checks;
	sum.results = run->results;
	sum.n = run->n;
	sum.started = run->started_unix;
	sum.duration = ev_now(loop) - run->started_mono;
	sum.passed = true;
	for (i = 0; i < run->n; i++)
		if (run->checks[i]->critical &&
		    run->results[i].status != VD_STATUS_PASS)
			sum.passed = false;
	run->cb(&sum, run->udata);
}

/* Starts stages until one has something in flight, or all are done. */
static void
advance(struct vd_run *run)
{
	size_t i, k;
	for (; run->stage < run->nstages; run->stage++) {
		if (run->progress && !run->blocker) {
			struct vd_run_event ev;
			memset(&ev, 0, sizeof(ev));
			ev.kind = VD_RUN_STAGE;
			for (k = 0; k < run->n; k++)
				if (run->checks[k]->stage_index == run->stage) {
					ev.stage = run->checks[k]->stage;
					ev.nchecks++;
				}
			if (ev.nchecks)
				run->progress(&ev, run->udata);
		}
		for (i = 0; i < run->n; i++) {
			const struct vd_check *chk = run->checks[i];
			if (chk->stage_index != run->stage)
				continue;
			if (run->blocker) {
				struct vd_result *r = &run->results[i];
				vd_result_clear(r);
				r->status = VD_STATUS_SKIPPED;
				r->reason_kind = VD_REASON_SKIPPED;
				r->reason = vd_xasprintf("skipped: %s",
							 run->blocker);
				r->started = vd_now_unix();
				tell(run, VD_RUN_DONE, chk, r, 0, 0);
				continue;
			}
			run->pending++;
			run->probes[i] = vd_probe_start(
				run->prober, chk, probe_done, &run->slots[i]);
			vd_probe_on_retry(run->probes[i], probe_retry);
			tell(run, VD_RUN_STARTED, chk, NULL, 0, 0);
		}
		if (run->pending)
			return;
	}
	if (!run->finished) {
		run->finished = true;
		ev_timer_start(vd_prober_loop(run->prober), &run->done);
	}
}

struct vd_run *
vd_run_start(struct vd_prober *p, const struct vd_check *const *checks,
	     size_t n, vd_run_cb *cb, vd_run_progress_cb *progress, void *udata)
{
	struct vd_run *run = vd_xcalloc(1, sizeof(*run));
	size_t i;

	run->prober = p;
	run->checks = checks;
	run->n = n;
	run->cb = cb;
	run->progress = progress;
	run->udata = udata;
	run->results = vd_xcalloc(n ? n : 1, sizeof(*run->results));
	/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
	run->probes = vd_xcalloc(n ? n : 1, sizeof(*run->probes));
	run->slots = vd_xcalloc(n ? n : 1, sizeof(*run->slots));
	for (i = 0; i < n; i++) {
		run->slots[i].run = run;
		run->slots[i].idx = i;
		vd_result_init(&run->results[i]);
		if (checks[i]->stage_index + 1 > run->nstages)
			run->nstages = checks[i]->stage_index + 1;
	}
	ev_timer_init(&run->done, done_cb, 0., 0.);
	run->done.data = run;
	ev_now_update(vd_prober_loop(p));
	run->started_mono = ev_now(vd_prober_loop(p));
	run->started_unix = vd_now_unix();
	advance(run);
	return run;
}

void
vd_run_free(struct vd_run *run)
{
	size_t i;
	if (run == NULL)
		return;
	ev_timer_stop(vd_prober_loop(run->prober), &run->done);
	for (i = 0; i < run->n; i++) {
		if (run->probes[i])
			vd_probe_cancel(run->probes[i]);
		vd_result_clear(&run->results[i]);
	}
	free(run->probes);
	free(run->slots);
	free(run->results);
	free(run->blocker);
	free(run);
}
