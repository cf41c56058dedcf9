/*
 * progress.c - what a run shows while it works, on stderr: on a terminal
 * a live view redrawn in place (checks running, attempts of
 * wait-until-healthy, elapsed time) and cleared before the report; on a
 * pipe or in CI, one plain line when something happens (a stage starts,
 * an attempt failed and will be retried, a check finished). Never part of
 * a report. Depends on probe.h, util.h and libev only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/queue.h>
#include <unistd.h>

#include "../report.h"
#include "../../lib/util.h"

#define TTY_ROWS_MAX 10	  /* running checks listed; the rest counted */
#define TTY_REDRAW   0.25 /* seconds between redraws */
#define SHOWN	     120  /* bytes of a reason in a line */

struct active {
	const struct vd_check *chk;
	double since;	 /* ev_now when it started, or its retry was set */
	int attempt;	 /* the attempt that last failed, 0: none yet */
	double retry_at; /* ev_now of the next attempt, 0: not waiting */
	char *why;	 /* the last failure, masked */
	TAILQ_ENTRY(active) link;
};

TAILQ_HEAD(active_list, active);

struct vd_progress {
	struct ev_loop *loop;
	FILE *out;
	enum vd_progress_mode mode;
	size_t total, done;
	double start; /* ev_now */
	struct active_list running;
	size_t nrunning;
	int drawn;	 /* tty: lines of the view on screen */
	ev_timer redraw; /* tty: the clock and batched redraws */
};

static void
active_free(struct active *a)
{
	free(a->why);
	free(a);
}

static struct active *
find(struct vd_progress *p, const struct vd_check *chk)
{
	struct active *a;
	TAILQ_FOREACH(a, &p->running, link)
		if (a->chk == chk)
			return a;
	return NULL;
}

static int
term_width(FILE *f)
{
	struct winsize ws;
	if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 80;
}

/* One line of the view, cut to the terminal's width so it never wraps
 * (a wrapped line would throw off the redraw). */
static void tty_line(struct vd_progress *p, int width, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
tty_line(struct vd_progress *p, int width, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if ((int)strlen(buf) > width - 1)
		buf[width - 1] = '\0';
	fprintf(p->out, "%s\033[K\n", buf);
	p->drawn++;
}

static void
tty_erase(struct vd_progress *p)
{
	if (p->drawn > 0)
		fprintf(p->out, "\033[%dA\033[J", p->drawn);
	p->drawn = 0;
}

static void
tty_draw(struct vd_progress *p)
{
	double now = ev_now(p->loop);
	int width = term_width(p->out), rows = 0;
	struct active *a;
	char el[32];

	tty_erase(p);
	vd_format_duration(now - p->start, el, sizeof(el));
	tty_line(p, width, "verdict: %zu/%zu done, %zu running, %s", p->done,
		 p->total, p->nrunning, el);
	TAILQ_FOREACH(a, &p->running, link) {
		char *name = vd_mask_brief(a->chk->name, 40);
		char t[32];
		if (rows++ == TTY_ROWS_MAX) {
			tty_line(p, width, "  ... and %zu more",
				 p->nrunning - TTY_ROWS_MAX);
			free(name);
			break;
		}
		if (a->retry_at > now) {
			vd_format_duration(a->retry_at - now, t, sizeof(t));
			tty_line(p, width,
				 "  %s: attempt %d/%d, next in %s (%s)", name,
				 a->attempt + 1, a->chk->retries + 1, t,
				 a->why ? a->why : "");
		} else {
			vd_format_duration(now - a->since, t, sizeof(t));
			tty_line(p, width, "  %s: attempt %d/%d, running %s",
				 name, a->attempt + 1, a->chk->retries + 1, t);
		}
		free(name);
	}
	fflush(p->out);
}

static void
redraw_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	tty_draw(w->data);
}

int
vd_progress_mode_parse(const char *s, int fd, enum vd_progress_mode *out)
{
	const char *term = getenv("TERM");
	if (strcmp(s, "auto") == 0)
		*out = isatty(fd) && term && *term && strcmp(term, "dumb") != 0
			       ? VD_PROGRESS_TTY
			       : VD_PROGRESS_PLAIN;
	else if (strcmp(s, "tty") == 0)
		*out = VD_PROGRESS_TTY;
	else if (strcmp(s, "plain") == 0)
		*out = VD_PROGRESS_PLAIN;
	else if (strcmp(s, "none") == 0)
		*out = VD_PROGRESS_NONE;
	else
		return -1;
	return 0;
}

struct vd_progress *
vd_progress_new(struct ev_loop *loop, FILE *out, enum vd_progress_mode mode,
		size_t nchecks)
{
	struct vd_progress *p;

	if (mode == VD_PROGRESS_NONE)
		return NULL;
	p = vd_xcalloc(1, sizeof(*p));
	p->loop = loop;
	p->out = out;
	p->mode = mode;
	p->total = nchecks;
	ev_now_update(loop);
	p->start = ev_now(loop);
	TAILQ_INIT(&p->running);
	if (mode == VD_PROGRESS_TTY) {
		ev_timer_init(&p->redraw, redraw_cb, TTY_REDRAW, TTY_REDRAW);
		p->redraw.data = p;
		ev_timer_start(loop, &p->redraw);
		/* the view must not keep a finished run's loop alive */
		ev_unref(loop);
	}
	return p;
}

/* A plain line: "[  5.1s] backend-health: ..." */
static void plain(struct vd_progress *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
plain(struct vd_progress *p, const char *fmt, ...)
{
	va_list ap;
	fprintf(p->out, "[%6.1fs] ", ev_now(p->loop) - p->start);
	va_start(ap, fmt);
	vfprintf(p->out, fmt, ap);
	va_end(ap);
	fputc('\n', p->out);
	fflush(p->out);
}

void
vd_progress_event(struct vd_progress *p, const struct vd_run_event *ev)
{
	struct active *a;
	char *name, *why, d[32];

	if (p == NULL)
		return;
	name = ev->chk ? vd_mask_brief(ev->chk->name, 80) : NULL;
	why = ev->res && ev->res->reason ? vd_mask_brief(ev->res->reason, SHOWN)
					 : vd_xstrdup("");
	switch (ev->kind) {
	case VD_RUN_STAGE:
		if (p->mode == VD_PROGRESS_PLAIN) {
			char *stage = vd_mask_brief(ev->stage, 80);
			plain(p, "stage %s: %zu check%s", stage, ev->nchecks,
			      ev->nchecks == 1 ? "" : "s");
			free(stage);
		}
		break;
	case VD_RUN_STARTED:
		a = vd_xcalloc(1, sizeof(*a));
		a->chk = ev->chk;
		a->since = ev_now(p->loop);
		TAILQ_INSERT_TAIL(&p->running, a, link);
		p->nrunning++;
		break;
	case VD_RUN_RETRY:
		if (ev->chk == NULL || ev->res == NULL)
			break; /* the engine always gives both */
		a = find(p, ev->chk);
		if (a) {
			a->attempt = ev->attempt;
			a->retry_at = ev_now(p->loop) + ev->next_in;
			a->since = a->retry_at;
			free(a->why);
			a->why = vd_xstrdup(why);
		}
		vd_format_duration(ev->next_in, d, sizeof(d));
		if (p->mode == VD_PROGRESS_PLAIN)
			plain(p, "%s: attempt %d/%d %s (%s); next in %s", name,
			      ev->attempt, ev->chk->retries + 1,
			      vd_status_name(ev->res->status), why, d);
		break;
	case VD_RUN_DONE:
		if (ev->chk == NULL || ev->res == NULL)
			break; /* the engine always gives both */
		a = find(p, ev->chk);
		if (a) {
			TAILQ_REMOVE(&p->running, a, link);
			p->nrunning--;
			active_free(a);
		}
		p->done++;
		vd_format_duration(ev->res->duration, d, sizeof(d));
		if (p->mode == VD_PROGRESS_PLAIN)
			plain(p, "%s: %s%s after %d attempt%s, %s (%s)", name,
			      vd_status_name(ev->res->status),
			      ev->chk->critical ? "" : " (not critical)",
			      ev->res->attempts,
			      ev->res->attempts == 1 ? "" : "s", d, why);
		break;
	}
	free(name);
	free(why);
}

void
vd_progress_free(struct vd_progress *p)
{
	struct active *a;

	if (p == NULL)
		return;
	if (p->mode == VD_PROGRESS_TTY) {
		ev_ref(p->loop);
		ev_timer_stop(p->loop, &p->redraw);
		tty_erase(p);
		fflush(p->out);
	}
	while ((a = TAILQ_FIRST(&p->running)) != NULL) {
		TAILQ_REMOVE(&p->running, a, link);
		active_free(a);
	}
	free(p);
}
