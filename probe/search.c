/*
 * search.c - pattern searches on a subject a peer sent (a body, a
 * command's output, a reply), run on a small worker pool so that even a
 * costly search (bounded by the matcher's limits, tens of milliseconds on
 * a MiB) never holds the loop. Depends on match.h, workers.c and libev.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/match.h"
#include "probe_int.h"
#include "../lib/util.h"

/* Searches are CPU-bound and short: two threads keep one core for the
 * loop on small machines. */
#define SEARCH_THREADS 2

struct vd_search {
	struct vd_job *job;
	struct vd_regex *re; /* a reference of our own */
	char *subject;	     /* our own copy */
	size_t len;
	enum vd_match m;
	const char *limit;
	bool capture; /* vd_search_capture_start: keep the group */
	char *captured;
	vd_search_cb *cb;
	void *udata;
};

static void *
pool_create(struct vd_prober *p)
{
	/* join: a search never blocks, so shutdown waits at most for the
	 * longest bounded search */
	return vd_workers_new(vd_prober_loop(p), SEARCH_THREADS, true);
}

static void
pool_destroy(void *state)
{
	vd_workers_free(state);
}

static void
search_release(struct vd_search *s)
{
	vd_regex_free(s->re);
	free(s->subject);
	vd_free_secret(s->captured);
	free(s);
}

static void
run_job(void *arg)
{
	struct vd_search *s = arg;
	if (s->capture)
		s->m = vd_regex_capture(s->re, s->subject, s->len, &s->captured,
					&s->limit);
	else
		s->m = vd_regex_search(s->re, s->subject, s->len, &s->limit);
}

static void
done_job(void *arg)
{
	struct vd_search *s = arg;
	s->job = NULL;
	s->cb(s->m, s->limit, s->udata);
}

static void
discard_job(void *arg)
{
	search_release(arg);
}

static struct vd_search *
search_start(struct vd_attempt *att, const struct vd_regex *re,
	     const char *subject, size_t len, bool capture, vd_search_cb *cb,
	     void *udata)
{
	struct vd_workers *w = vd_prober_shared(att->prober, "search",
						pool_create, pool_destroy);
	struct vd_search *s = vd_xcalloc(1, sizeof(*s));

	s->re = vd_regex_ref(re);
	s->subject = vd_xmalloc(len + 1);
	if (len)
		memcpy(s->subject, subject, len);
	s->subject[len] = '\0';
	s->len = len;
	s->cb = cb;
	s->udata = udata;
	s->capture = capture;
	s->job = vd_job_submit(w, run_job, done_job, discard_job, s);
	if (s->job == NULL) {
		search_release(s);
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_INTERNAL,
				  "no thread to search what the target sent");
		return NULL;
	}
	return s;
}

struct vd_search *
vd_search_start(struct vd_attempt *att, const struct vd_regex *re,
		const char *subject, size_t len, vd_search_cb *cb, void *udata)
{
	return search_start(att, re, subject, len, false, cb, udata);
}

struct vd_search *
vd_search_capture_start(struct vd_attempt *att, const struct vd_regex *re,
			const char *subject, size_t len, vd_search_cb *cb,
			void *udata)
{
	return search_start(att, re, subject, len, true, cb, udata);
}

const char *
vd_search_captured(const struct vd_search *s)
{
	return s ? s->captured : NULL;
}

void
vd_search_free(struct vd_search *s)
{
	if (s == NULL)
		return;
	if (s->job != NULL)
		vd_job_abandon(s->job); /* discard_job releases s */
	else
		search_release(s);
}

void
vd_attempt_finish_mismatch(struct vd_attempt *att, enum vd_match m,
			   enum vd_reason kind, const char *fmt, ...)
{
	va_list ap;
	char *reason;

	va_start(ap, fmt);
	reason = vd_xvasprintf(fmt, ap);
	va_end(ap);
	vd_attempt_finish(
		att, m == VD_MATCH_LIMIT ? VD_STATUS_ERROR : VD_STATUS_FAIL,
		m == VD_MATCH_LIMIT ? VD_REASON_LIMIT : kind, "%s", reason);
	free(reason);
}
