/*
 * engine.c - runs checks on one libev loop: attempts with deadlines,
 * retries with an interval, bounded concurrency, exactly one result per
 * probe. Depends on libev and the check-type vtable only.
 */
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/time.h>

#include "probe.h"
#include "probe_int.h"
#include "../lib/util.h"

enum probe_state {
	PROBE_QUEUED,  /* waiting for a concurrency slot */
	PROBE_RUNNING, /* an attempt is in flight */
	PROBE_REAPING, /* finished, cancel() pending on the reap timer */
	PROBE_WAITING, /* between attempts */
};

struct vd_probe {
	struct vd_prober *prober;
	const struct vd_check *check;
	vd_probe_cb *cb;
	vd_probe_retry_cb *retry_cb; /* may be NULL */
	void *udata;
	enum probe_state state;
	struct vd_attempt att;
	struct vd_result att_res; /* the current attempt's result */
	struct vd_result result;  /* the final result handed to cb */
	int attempts;
	double first_start; /* ev_now of the first attempt */
	ev_timer deadline;
	ev_timer reap; /* zero-delay: cancel() runs from a clean stack */
	ev_timer retry;
	TAILQ_ENTRY(vd_probe) qlink;
	LIST_ENTRY(vd_probe) alink;
};

struct shared {
	char *key;
	void *state;
	void (*destroy)(void *);
	struct shared *next;
};

struct vd_prober {
	struct ev_loop *loop;
	unsigned concurrency;
	unsigned inflight;
	bool freeing; /* no new attempts start */
	TAILQ_HEAD(, vd_probe) queue;
	LIST_HEAD(, vd_probe) all;
	struct shared *shared;
	LIST_ENTRY(vd_prober) plink;
};

/*
 * File descriptors are a process-wide budget shared by every prober on
 * the loop's thread: each attempt in flight holds FDS_PER_ATTEMPT of it
 * (a socket, or two while happy eyeballs tries IPv6 and IPv4; an exec
 * check's two pipes). Attempts that do not fit wait in their prober's
 * queue like those over its concurrency. FDS_RESERVED is kept for
 * everything else: stdio, the loop, libcurl's wake-up pair, resolver
 * threads' sockets, the exporter's listener and clients, files read.
 */
#define FDS_PER_ATTEMPT 2
#define FDS_RESERVED	48

static struct {
	bool init;
	unsigned total; /* descriptors attempts may hold */
	unsigned used;
} fds;

static LIST_HEAD(, vd_prober) probers = LIST_HEAD_INITIALIZER(probers);

/* Descriptors open now (stdio and whatever the process inherited). */
static unsigned
fds_open(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	unsigned n = 0;

	if (d == NULL)
		return 16;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n > 0 ? n - 1 : 0; /* not the directory's own */
}

/* Once per process: the soft RLIMIT_NOFILE raised to the hard one, and
 * the budget sized from what is left of it. */
static void
fds_init(void)
{
	struct rlimit rl;
	rlim_t lim = 1024;
	unsigned open = fds_open();

	fds.init = true;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rlim_t soft = rl.rlim_cur;
			rl.rlim_cur = rl.rlim_max;
			if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
				rl.rlim_cur = soft;
		}
		lim = rl.rlim_cur;
	}
	if (lim == RLIM_INFINITY || lim > UINT_MAX / 2)
		lim = UINT_MAX / 2;
	fds.total = lim > open + FDS_RESERVED + FDS_PER_ATTEMPT
			    ? (unsigned)lim - open - FDS_RESERVED
			    : FDS_PER_ATTEMPT; /* one at a time, at least */
}

double
vd_now_unix(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

struct vd_prober *
vd_prober_new(struct ev_loop *loop, const struct vd_prober_opts *opts)
{
	struct vd_prober *p = vd_xcalloc(1, sizeof(*p));
	p->loop = loop;
	p->concurrency = opts && opts->concurrency ? opts->concurrency
						   : VD_DEFAULT_CONCURRENCY;
	TAILQ_INIT(&p->queue);
	LIST_INIT(&p->all);
	if (!fds.init)
		fds_init();
	LIST_INSERT_HEAD(&probers, p, plink);
	return p;
}

struct ev_loop *
vd_prober_loop(const struct vd_prober *p)
{
	return p->loop;
}

unsigned
vd_prober_inflight(const struct vd_prober *p)
{
	return p->inflight;
}

void *
vd_prober_shared(struct vd_prober *p, const char *key,
		 void *(*create)(struct vd_prober *), void (*destroy)(void *))
{
	struct shared *s;
	for (s = p->shared; s; s = s->next)
		if (strcmp(s->key, key) == 0)
			return s->state;
	s = vd_xcalloc(1, sizeof(*s));
	s->key = vd_xstrdup(key);
	s->destroy = destroy;
	s->next = p->shared;
	p->shared = s;
	s->state = create(p);
	return s->state;
}

static void probe_free(struct vd_probe *pr);

void
vd_prober_free(struct vd_prober *p)
{
	struct shared *s, *n;
	if (p == NULL)
		return;
	p->freeing = true;
	/* vd_probe_cancel() unlinks the probe: the analyzer loses that */
	while (!LIST_EMPTY(&p->all))
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
		vd_probe_cancel(LIST_FIRST(&p->all));
	LIST_REMOVE(p, plink);
	/* Shared state is destroyed newest first: later states may use
	 * earlier ones. */
	for (s = p->shared; s; s = n) {
		n = s->next;
		if (s->destroy)
			s->destroy(s->state);
		free(s->key);
		free(s);
	}
	free(p);
}

static void dispatch(struct vd_prober *p);

static void
deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vd_probe *pr = w->data;
	char d[32], detail[256] = "";
	(void)loop;
	(void)revents;
	if (pr->att.finished)
		return;
	pr->att.timed_out = true;
	vd_format_duration(pr->check->timeout, d, sizeof(d));
	if (pr->check->type->timeout_detail)
		pr->check->type->timeout_detail(&pr->att, detail,
						sizeof(detail));
	vd_attempt_finish(&pr->att, VD_STATUS_ERROR, VD_REASON_TIMEOUT,
			  "timeout after %s%s%s%s", d, *detail ? " (" : "",
			  detail, *detail ? ")" : "");
}

static void
start_attempt(struct vd_probe *pr)
{
	struct vd_prober *p = pr->prober;
	int i;

	p->inflight++;
	fds.used += FDS_PER_ATTEMPT;
	pr->state = PROBE_RUNNING;
	vd_result_clear(&pr->att_res);
	for (i = 0; i < VD_PHASE_COUNT; i++)
		pr->att_res.timings[i] = -1;
	ev_now_update(p->loop);
	memset(&pr->att, 0, sizeof(pr->att));
	pr->att.loop = p->loop;
	pr->att.prober = p;
	pr->att.check = pr->check;
	pr->att.result = &pr->att_res;
	pr->att.start = ev_now(p->loop);
	if (pr->attempts == 0) {
		pr->first_start = pr->att.start;
		pr->result.started = vd_now_unix();
	}
	pr->attempts++;
	ev_timer_set(&pr->deadline, pr->check->timeout, 0.);
	ev_timer_start(p->loop, &pr->deadline);
	pr->check->type->start(&pr->att);
}

static void
dispatch(struct vd_prober *p)
{
	while (!p->freeing && p->inflight < p->concurrency &&
	       fds.used + FDS_PER_ATTEMPT <= fds.total &&
	       !TAILQ_EMPTY(&p->queue)) {
		struct vd_probe *pr = TAILQ_FIRST(&p->queue);
		TAILQ_REMOVE(&p->queue, pr, qlink);
		start_attempt(pr);
	}
}

static void
retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vd_probe *pr = w->data;
	(void)loop;
	(void)revents;
	pr->state = PROBE_QUEUED;
	TAILQ_INSERT_TAIL(&pr->prober->queue, pr, qlink);
	dispatch(pr->prober);
}

/* Ends the attempt's life: the type releases what it holds. */
static void
attempt_release(struct vd_probe *pr)
{
	struct vd_prober *p = pr->prober;
	ev_timer_stop(p->loop, &pr->deadline);
	ev_timer_stop(p->loop, &pr->reap);
	pr->check->type->cancel(&pr->att);
	pr->att.data = NULL;
	p->inflight--;
	fds.used -= FDS_PER_ATTEMPT;
}

/* Descriptors came back: every prober may start what waits for them. */
static void
dispatch_all(struct vd_prober *self)
{
	struct vd_prober *q;
	dispatch(self);
	LIST_FOREACH(q, &probers, plink)
		if (q != self)
			dispatch(q);
}

static void
reap_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vd_probe *pr = w->data;
	struct vd_prober *p = pr->prober;
	double end;
	(void)revents;

	attempt_release(pr);
	ev_now_update(loop);
	end = ev_now(loop);
	if (pr->att_res.timings[VD_PHASE_TOTAL] < 0)
		pr->att_res.timings[VD_PHASE_TOTAL] = end - pr->att.start;

	if (pr->att_res.status != VD_STATUS_PASS &&
	    pr->attempts <= pr->check->retries &&
	    vd_retry_wanted(pr->check, &pr->att_res)) {
		pr->state = PROBE_WAITING;
		ev_timer_set(&pr->retry, pr->check->interval, 0.);
		ev_timer_start(loop, &pr->retry);
		if (pr->retry_cb)
			pr->retry_cb(pr->check, &pr->att_res, pr->attempts,
				     pr->check->interval, pr->udata);
		dispatch_all(p);
		return;
	}
	{
		double started = pr->result.started;
		vd_result_copy(&pr->result, &pr->att_res);
		pr->result.started = started;
	}
	pr->result.attempts = pr->attempts;
	pr->result.duration = end - pr->first_start;
	LIST_REMOVE(pr, alink);
	pr->cb(pr->check, &pr->result, pr->udata);
	probe_free(pr);
	dispatch_all(p);
}

void
vd_attempt_finish(struct vd_attempt *att, enum vd_status st,
		  enum vd_reason kind, const char *fmt, ...)
{
	struct vd_probe *pr;
	va_list ap;
	char *raw;

	if (att->finished)
		return;
	att->finished = true;
	pr = (struct vd_probe *)((char *)att - offsetof(struct vd_probe, att));
	att->result->status = st;
	att->result->reason_kind = st == VD_STATUS_PASS ? VD_REASON_NONE : kind;
	free(att->result->reason);
	va_start(ap, fmt);
	raw = vd_xvasprintf_masked(fmt, ap);
	va_end(ap);
	if (att->reason_prefix) {
		char *pre = vd_mask(att->reason_prefix),
		     *both = vd_xasprintf("%s%s", pre, raw);
		free(pre);
		free(raw);
		raw = both;
	}
	/* peer bytes cut anywhere: reports in JSON and XML need UTF-8 */
	att->result->reason = vd_utf8_fix(raw);
	free(raw);
	/* one line, and nothing a hostile peer could use to drive a
	 * terminal: control characters (ESC included) become spaces */
	for (char *c = att->result->reason; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
	ev_timer_stop(att->loop, &pr->deadline);
	pr->state = PROBE_REAPING;
	ev_timer_set(&pr->reap, 0., 0.);
	ev_timer_start(att->loop, &pr->reap);
}

double
vd_attempt_remaining(const struct vd_attempt *att)
{
	double left = att->check->timeout - (ev_now(att->loop) - att->start);
	return left > 0 ? left : 0;
}

struct vd_probe *
vd_probe_start(struct vd_prober *p, const struct vd_check *chk, vd_probe_cb *cb,
	       void *udata)
{
	struct vd_probe *pr = vd_xcalloc(1, sizeof(*pr));
	pr->prober = p;
	pr->check = chk;
	pr->cb = cb;
	pr->udata = udata;
	vd_result_init(&pr->att_res);
	vd_result_init(&pr->result);
	ev_timer_init(&pr->deadline, deadline_cb, 0., 0.);
	pr->deadline.data = pr;
	ev_timer_init(&pr->reap, reap_cb, 0., 0.);
	pr->reap.data = pr;
	ev_timer_init(&pr->retry, retry_cb, 0., 0.);
	pr->retry.data = pr;
	pr->state = PROBE_QUEUED;
	LIST_INSERT_HEAD(&p->all, pr, alink);
	TAILQ_INSERT_TAIL(&p->queue, pr, qlink);
	dispatch(p);
	return pr;
}

static void
probe_free(struct vd_probe *pr)
{
	vd_result_clear(&pr->att_res);
	vd_result_clear(&pr->result);
	free(pr);
}

void
vd_probe_cancel(struct vd_probe *pr)
{
	struct vd_prober *p;
	if (pr == NULL)
		return;
	p = pr->prober;
	switch (pr->state) {
	case PROBE_QUEUED:
		TAILQ_REMOVE(&p->queue, pr, qlink);
		break;
	case PROBE_RUNNING:
	case PROBE_REAPING:
		attempt_release(pr);
		break;
	case PROBE_WAITING:
		ev_timer_stop(p->loop, &pr->retry);
		break;
	}
	LIST_REMOVE(pr, alink);
	probe_free(pr);
	dispatch_all(p);
}

void
vd_probe_on_retry(struct vd_probe *pr, vd_probe_retry_cb *cb)
{
	pr->retry_cb = cb;
}
