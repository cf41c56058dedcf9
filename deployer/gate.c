/*
 * gate.c - runs a suite (health with its retries, then smoke, or health
 * again to verify a rollback) on the prober and judges it: pass, fail,
 * or inconclusive when verdict itself could not run a critical check.
 * Uses only probe/probe.h and probe/report.h.
 */
#include <stdlib.h>
#include <string.h>

#include "../probe/report.h"
#include "dep_int.h"
#include "dep_progress.h"

struct gate_ctx {
	struct vd_dep_rt *rt;
	const char *label;
	struct vd_gate_suite_result *out;
	bool done;
};

static void
progress_cb(const struct vd_run_event *ev, void *udata)
{
	struct gate_ctx *g = udata;
	const struct vd_check *chk = ev->chk;
	const struct vd_result *res = ev->res;
	char d[32];

	/* on a terminal the live view shows stages and attempts; the
	 * lines below are the plain progress and the log above the view */
	vd_dep_progress_event(ev);
	if (ev->kind == VD_RUN_STAGE &&
	    vd_dep_progress_mode() != VD_PROGRESS_TTY) {
		vd_dep_say(g->rt, "  %s: stage %s: %zu check%s", g->label,
			   ev->stage, ev->nchecks, ev->nchecks == 1 ? "" : "s");
		return;
	}
	if (ev->kind == VD_RUN_RETRY &&
	    vd_dep_progress_mode() != VD_PROGRESS_TTY) {
		vd_format_duration(ev->next_in, d, sizeof(d));
		vd_dep_say(g->rt,
			   "  %s: %s attempt %d/%d failed (%s), next in %s",
			   g->label, chk->name, ev->attempt, chk->retries + 1,
			   res->reason ? res->reason : "", d);
		return;
	}
	if (ev->kind != VD_RUN_DONE)
		return;
	vd_format_duration(res->duration, d, sizeof(d));
	if (res->status == VD_STATUS_PASS)
		vd_dep_say(g->rt, "  %s: %s pass (%d attempt%s, %s)", g->label,
			   chk->name, res->attempts,
			   res->attempts == 1 ? "" : "s", d);
	else
		vd_dep_say(g->rt, "  %s: %s %s%s: %s", g->label, chk->name,
			   vd_status_name(res->status),
			   chk->critical ? "" : " (not critical)",
			   res->reason ? res->reason : "");
}

static void
done_cb(const struct vd_run_summary *sum, void *udata)
{
	struct gate_ctx *g = udata;
	size_t i;
	g->out->sum = *sum;
	g->out->sum.results =
		vd_xcalloc(sum->n ? sum->n : 1, sizeof(struct vd_result));
	for (i = 0; i < sum->n; i++) {
		vd_result_init(&g->out->sum.results[i]);
		vd_result_copy(&g->out->sum.results[i], &sum->results[i]);
	}
	g->out->ran = true;
	g->done = true;
}

const char *
vd_gate_verdict_name(enum vd_gate_verdict v)
{
	switch (v) {
	case VD_GATE_PASS:
		return "pass";
	case VD_GATE_FAIL:
		return "fail";
	case VD_GATE_INCONCLUSIVE:
		return "inconclusive";
	case VD_GATE_INTERRUPTED:
		return "interrupted";
	}
	return "?";
}

/* A gate that did not pass: failed, or inconclusive when a critical
 * check could not run at all. */
static enum vd_gate_verdict
gate_failed(const struct vd_gate_suite_result *out)
{
	size_t i;

	/* the gate judges what it could measure; a check verdict could not
	 * run at all says nothing about the deployment */
	for (i = 0; i < out->sum.n; i++) {
		const struct vd_result *r = &out->sum.results[i];
		if (out->sum.checks[i]->critical &&
		    r->status == VD_STATUS_ERROR &&
		    r->reason_kind == VD_REASON_INTERNAL)
			return VD_GATE_INCONCLUSIVE;
	}
	return VD_GATE_FAIL;
}

enum vd_gate_verdict
vd_gate_run_suite(struct vd_dep_rt *rt, const struct vd_suite *suite,
		  const char *label, struct vd_gate_suite_result *out)
{
	struct gate_ctx g;
	struct vd_run *run;
	enum vd_gate_verdict v;

	memset(out, 0, sizeof(*out));
	out->suite = suite;
	memset(&g, 0, sizeof(g));
	g.rt = rt;
	g.label = label;
	g.out = out;
	vd_dep_progress_gate(label, suite->nchecks);
	run = vd_run_start(rt->prober,
			   (const struct vd_check *const *)suite->checks,
			   suite->nchecks, done_cb, progress_cb, &g);
	while (!g.done && !rt->stop_signal)
		ev_run(rt->loop, EVRUN_ONCE);
	vd_run_free(run);
	if (!g.done)
		v = VD_GATE_INTERRUPTED;
	else if (out->sum.passed)
		v = VD_GATE_PASS;
	else
		v = gate_failed(out);
	vd_dep_progress_gate_end(vd_gate_verdict_name(v));
	return v;
}

void
vd_gate_suite_result_clear(struct vd_gate_suite_result *r)
{
	size_t i;
	if (r->sum.results) {
		for (i = 0; i < r->sum.n; i++)
			vd_result_clear(&r->sum.results[i]);
		free(r->sum.results);
	}
	memset(r, 0, sizeof(*r));
}

char *
vd_gate_why(const struct vd_gate_suite_result *r)
{
	size_t i;
	for (i = 0; i < r->sum.n; i++) {
		const struct vd_result *res = &r->sum.results[i];
		if (r->sum.checks[i]->critical &&
		    res->status != VD_STATUS_PASS &&
		    res->status != VD_STATUS_SKIPPED)
			return vd_xasprintf("%s: %s", r->sum.checks[i]->name,
					    res->reason ? res->reason
							: "failed");
	}
	return NULL;
}

cJSON *
vd_gate_json(const struct vd_gate_suite_result *r)
{
	struct vd_report_in in;
	if (!r->ran)
		return cJSON_CreateNull();
	memset(&in, 0, sizeof(in));
	in.suite = r->suite->name;
	in.sum = &r->sum;
	return (cJSON *)vd_report_json_tree(&in);
}
