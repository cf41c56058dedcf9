/*
 * schedule.c - runs every check of the serve config on its own interval:
 * the first run spread over one interval by a hash of the check's name,
 * the next one due one interval after the previous due time (no drift),
 * never two runs of one check at once (a due time that comes while the
 * check still runs is skipped and counted). Keeps the latest result of
 * each check as plain numbers for the renderer. Depends on probe.h.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/util.h"
#include "exporter_int.h"

static uint32_t
fnv1a(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

void
vd_exp_entry_record(struct vd_exp_entry *e, const struct vd_result *res)
{
	const struct vd_fact *f;
	int i;

	e->has_result = true;
	e->status = res->status;
	e->reason = res->status == VD_STATUS_PASS ? VD_REASON_NONE
						  : res->reason_kind;
	if ((unsigned)e->reason >= VD_REASON_COUNT)
		e->reason = VD_REASON_INTERNAL;
	e->attempts = res->attempts;
	e->duration = res->duration;
	e->last_run = res->started + res->duration;
	for (i = 0; i < VD_PHASE_COUNT; i++)
		e->phases[i] = res->timings[i];
	f = vd_result_fact(res, "http_status");
	if (f && f->kind == VD_FACT_NUM) {
		e->http_status = f->num;
		e->http_seen = true;
	} else {
		e->http_status = -1;
	}
	f = vd_result_fact(res, "tls_not_after");
	e->tls_not_after = f && f->kind == VD_FACT_NUM ? f->num : -1;
	switch (res->status) {
	case VD_STATUS_PASS:
		e->runs[VD_RUNS_PASS]++;
		break;
	case VD_STATUS_FAIL:
		e->runs[VD_RUNS_FAIL]++;
		break;
	case VD_STATUS_ERROR:
	case VD_STATUS_SKIPPED:
		e->runs[VD_RUNS_ERROR]++;
		break;
	}
}

static void
lag_add(struct vd_exp_lag *lag, double v)
{
	if (v < 0)
		v = 0;
	lag->ring[lag->next] = v;
	lag->next = (lag->next + 1) % VD_LAG_WINDOW;
	if (lag->n < VD_LAG_WINDOW)
		lag->n++;
	lag->sum += v;
	lag->count++;
}

static void
arm(struct vd_exp_entry *e)
{
	struct ev_loop *loop = e->sched->loop;
	double after = e->due - ev_now(loop);
	ev_timer_set(&e->timer, after > 0 ? after : 0., 0.);
	ev_timer_start(loop, &e->timer);
}

/* One run in flight: the probe's udata. A reload hands it to the new
 * entry of an unchanged check, so the run's result lands there. */
struct vd_exp_run {
	struct vd_exp_entry *e;
};

static void
run_done(const struct vd_check *chk, const struct vd_result *res, void *udata)
{
	struct vd_exp_run *run = udata;
	struct vd_exp_entry *e = run->e;
	struct vd_exp_sched *s = e->sched;
	double now = ev_now(s->loop);
	(void)chk;

	free(run);
	e->run = NULL;
	e->probe = NULL;
	e->running = false;
	vd_exp_entry_record(e, res);
	lag_add(s->lag, res->started - e->due);
	e->due += e->every;
	if (e->due <= now) {
		double k = floor((now - e->due) / e->every) + 1;
		e->due += k * e->every;
		s->lag->missed += (uint64_t)k;
	}
	arm(e);
}

static void
due_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vd_exp_entry *e = w->data;
	(void)loop;
	(void)revents;
	e->running = true;
	e->run = vd_xcalloc(1, sizeof(*e->run));
	e->run->e = e;
	e->probe = vd_probe_start(e->sched->prober, e->chk, run_done, e->run);
}

/* Stops e's run in flight, if any. */
static void
run_cancel(struct vd_exp_entry *e)
{
	vd_probe_cancel(e->probe);
	free(e->run);
	e->probe = NULL;
	e->run = NULL;
	e->running = false;
}

/* Open-addressing index of prev's entries by name. */
struct index {
	struct vd_exp_entry **slot;
	size_t mask;
};

static void
index_build(struct index *ix, struct vd_exp_sched *prev)
{
	size_t cap = 16, i;
	while (prev && cap < prev->n * 2)
		cap *= 2;
	/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
	ix->slot = vd_xcalloc(cap, sizeof(*ix->slot));
	ix->mask = cap - 1;
	for (i = 0; prev && i < prev->n; i++) {
		struct vd_exp_entry *e = &prev->entries[i];
		size_t h = fnv1a(e->chk->name) & ix->mask;
		while (ix->slot[h])
			h = (h + 1) & ix->mask;
		ix->slot[h] = e;
	}
}

static struct vd_exp_entry *
index_find(const struct index *ix, const char *name)
{
	size_t h = fnv1a(name) & ix->mask;
	while (ix->slot[h]) {
		if (strcmp(ix->slot[h]->chk->name, name) == 0)
			return ix->slot[h];
		h = (h + 1) & ix->mask;
	}
	return NULL;
}

/* The JSON of every check of a suite, in the order of suite->checks. */
static const cJSON **
definitions(const struct vd_suite *suite)
{
	/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
	const cJSON **defs = vd_xcalloc(suite->nchecks + 1, sizeof(*defs));
	const cJSON *checks =
		cJSON_GetObjectItemCaseSensitive(suite->root, "checks");
	const cJSON *it;
	size_t i = 0;

	cJSON_ArrayForEach(it, checks) {
		if (i == suite->nchecks)
			break;
		defs[i++] = it;
	}
	return defs;
}

struct vd_exp_sched *
vd_exp_sched_new(struct ev_loop *loop, struct vd_prober *prober,
		 const struct vd_exp_config *cfg, struct vd_exp_sched *prev,
		 struct vd_suite *prev_suite, struct vd_exp_lag *lag)
{
	struct vd_exp_sched *s = vd_xcalloc(1, sizeof(*s));
	struct vd_suite *suite = cfg->suite;
	const cJSON **defs = NULL, **prev_defs = NULL;
	bool same_defaults = false;
	struct index ix;
	double now;
	size_t i;

	s->loop = loop;
	s->prober = prober;
	s->lag = lag;
	s->n = suite->nchecks;
	s->entries = vd_xcalloc(s->n ? s->n : 1, sizeof(*s->entries));
	index_build(&ix, prev);
	if (prev && prev_suite) {
		defs = definitions(suite);
		prev_defs = definitions(prev_suite);
		same_defaults =
			cJSON_Compare(cJSON_GetObjectItemCaseSensitive(
					      suite->root, "defaults"),
				      cJSON_GetObjectItemCaseSensitive(
					      prev_suite->root, "defaults"),
				      true);
		if (!cJSON_GetObjectItemCaseSensitive(suite->root,
						      "defaults") &&
		    !cJSON_GetObjectItemCaseSensitive(prev_suite->root,
						      "defaults"))
			same_defaults = true;
	}
	ev_now_update(loop);
	now = ev_now(loop);
	for (i = 0; i < s->n; i++) {
		struct vd_exp_entry *e = &s->entries[i], *old;
		const struct vd_check *chk = suite->checks[i];
		double frac = (double)fnv1a(chk->name) / 4294967296.0;
		size_t j;
		bool same;

		e->chk = chk;
		e->sched = s;
		e->every = chk->every > 0 ? chk->every : cfg->every;
		e->http_status = -1;
		e->tls_not_after = -1;
		for (int k = 0; k < VD_PHASE_COUNT; k++)
			e->phases[k] = -1;
		vd_exp_entry_labels(e, chk->name, chk->type->name, chk->stage);
		ev_timer_init(&e->timer, due_cb, 0., 0.);
		e->timer.data = e;
		e->due = now + frac * e->every;
		old = index_find(&ix, chk->name);
		if (old == NULL || old->chk->type != chk->type)
			continue;
		e->has_result = old->has_result;
		e->status = old->status;
		e->reason = old->reason;
		e->attempts = old->attempts;
		e->last_run = old->last_run;
		e->duration = old->duration;
		memcpy(e->phases, old->phases, sizeof(e->phases));
		e->http_status = old->http_status;
		e->http_seen = old->http_seen;
		e->tls_not_after = old->tls_not_after;
		memcpy(e->runs, old->runs, sizeof(e->runs));
		j = (size_t)(old - prev->entries);
		same = defs && same_defaults && defs[i] && prev_defs[j] &&
		       old->every == e->every &&
		       cJSON_Compare(defs[i], prev_defs[j], true);
		if (same && old->running && prev->prober == prober) {
			/* the run goes on: the new suite takes the old check
			 * object it runs on, the old suite frees the fresh
			 * (identical) one */
			struct vd_check *fresh = suite->checks[i];
			struct vd_check *kept = prev_suite->checks[j];
			kept->stage_index = fresh->stage_index;
			suite->checks[i] = kept;
			prev_suite->checks[j] = fresh;
			old->chk = fresh;
			e->chk = kept;
			e->run = old->run;
			e->run->e = e;
			e->probe = old->probe;
			e->running = true;
			old->run = NULL;
			old->probe = NULL;
			old->running = false;
			e->due = old->due;
		} else if (old->running) {
			/* its check changed (or its prober did): run again
			 * now */
			run_cancel(old);
			e->due = now;
		} else if (old->every == e->every) {
			e->due = old->due;
		}
	}
	free(defs);
	free(prev_defs);
	free(ix.slot);
	return s;
}

void
vd_exp_sched_start(struct vd_exp_sched *s)
{
	size_t i;
	for (i = 0; i < s->n; i++)
		if (!s->entries[i].running) /* a kept run arms when done */
			arm(&s->entries[i]);
}

void
vd_exp_sched_free(struct vd_exp_sched *s)
{
	size_t i;
	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++) {
		struct vd_exp_entry *e = &s->entries[i];
		ev_timer_stop(s->loop, &e->timer);
		run_cancel(e);
		free(e->labels);
	}
	free(s->entries);
	free(s);
}
