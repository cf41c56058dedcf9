/*
 * dep_progress.c - the live view of a deployment on a terminal: the
 * bottom rows of the screen show the phase, the gate's checks running
 * (attempts of wait-until-healthy, the next one's delay) and the elapsed
 * time, redrawn in place; the rows above are a scroll region where every
 * other line on stderr (steps, hook output) goes on as before. Erased
 * when the deployment ends. One view per process: a terminal has one
 * bottom. Depends on probe/report.h, lib/util.h and libev only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/queue.h>
#include <unistd.h>

#include "../lib/util.h"
#include "dep_progress.h"

#define VIEW_CHECKS 4	 /* checks listed; the rest counted */
#define VIEW_ROWS   6	 /* title + checks + "... and N more" */
#define MIN_ROWS    12	 /* a smaller terminal gets plain lines */
#define REDRAW	    0.25 /* seconds between redraws */

struct running {
	const struct vd_check *chk;
	double since;	 /* ev_now when it started or its retry is due */
	int attempt;	 /* the attempt that last failed, 0: none yet */
	double retry_at; /* ev_now of the next attempt, 0: not waiting */
	char *why;	 /* the last failure, masked and cut */
	TAILQ_ENTRY(running) link;
};

TAILQ_HEAD(running_list, running);

struct view {
	enum vd_progress_mode mode;
	struct ev_loop *loop;
	FILE *out;
	char *title;  /* masked */
	double start; /* ev_time() */
	char *gate;   /* the gate running, NULL: none */
	char *last;   /* "health gate: pass", NULL: no gate yet */
	size_t total, done;
	struct running_list running;
	size_t nrunning;
	int rows, cols;	     /* the terminal's, when the region was set */
	struct vd_buf frame; /* what one draw writes, in one write(2) */
	ev_timer redraw;
};

static struct view *view; /* the process's one view, or NULL */

static void
term_size(FILE *f, int *rows, int *cols)
{
	struct winsize ws;
	*rows = 0;
	*cols = 80;
	if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0) {
		*rows = ws.ws_row;
		if (ws.ws_col >= 20)
			*cols = ws.ws_col;
	}
}

/* Makes the bottom VIEW_ROWS rows the view's: scrolls what is on the
 * screen up if the cursor is there, then limits scrolling to the rows
 * above (DECSTBM; DECSC/DECRC keep the cursor where output goes on). */
static void
region_set(struct view *v)
{
	int i;
	for (i = 0; i < VIEW_ROWS; i++)
		vd_buf_puts(&v->frame, "\n");
	vd_buf_printf(&v->frame, "\033[%dA\0337\033[1;%dr\0338", VIEW_ROWS,
		      v->rows - VIEW_ROWS);
}

/* Gives the whole screen back and clears the view's rows. */
static void
region_reset(struct view *v)
{
	vd_buf_printf(&v->frame, "\0337\033[r\033[%d;1H\033[J\0338",
		      v->rows - VIEW_ROWS + 1);
}

/* Writes the frame at once (stderr is unbuffered: a frame written piece
 * by piece would flicker). */
static void
frame_flush(struct view *v)
{
	if (v->frame.len > 0)
		(void)fwrite(v->frame.data, 1, v->frame.len, v->out);
	fflush(v->out);
	vd_buf_reset(&v->frame);
}

static void view_line(struct view *v, int row, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Row row (0-based) of the view, cut to the width so it never wraps. */
static void
view_line(struct view *v, int row, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	buf[0] = '\0';
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(buf, sizeof(buf), fmt, ap);
		va_end(ap);
	}
	if ((int)strlen(buf) > v->cols - 1)
		buf[v->cols - 1] = '\0';
	vd_buf_printf(&v->frame, "\033[%d;1H%s\033[K",
		      v->rows - VIEW_ROWS + 1 + row, buf);
}

static void
draw(struct view *v)
{
	double now = ev_now(v->loop);
	struct running *r;
	int rows, cols, row = 1;
	char el[32];

	term_size(v->out, &rows, &cols);
	if (rows >= MIN_ROWS && rows != v->rows) {
		/* resized: the region follows the new bottom */
		region_reset(v);
		v->rows = rows;
		region_set(v);
	}
	v->cols = cols;
	snprintf(el, sizeof(el), "%.1fs", ev_time() - v->start);
	vd_buf_puts(&v->frame, "\0337");
	if (v->gate)
		view_line(v, 0, "verdict: %s: %s gate, %zu/%zu done, %s",
			  v->title, v->gate, v->done, v->total, el);
	else
		view_line(v, 0, "verdict: %s: %s, %s", v->title,
			  v->last ? v->last : "before the gates", el);
	TAILQ_FOREACH(r, &v->running, link) {
		char *name = vd_mask_brief(r->chk->name, 40);
		char t[32];
		if (row > VIEW_CHECKS) {
			view_line(v, row++, "  ... and %zu more",
				  v->nrunning - VIEW_CHECKS);
			free(name);
			break;
		}
		if (r->retry_at > now) {
			vd_format_duration(r->retry_at - now, t, sizeof(t));
			view_line(v, row++,
				  "  %s: attempt %d/%d, next in %s (%s)", name,
				  r->attempt + 1, r->chk->retries + 1, t,
				  r->why ? r->why : "");
		} else {
			vd_format_duration(now - r->since, t, sizeof(t));
			view_line(v, row++, "  %s: attempt %d/%d, running %s",
				  name, r->attempt + 1, r->chk->retries + 1, t);
		}
		free(name);
	}
	while (row < VIEW_ROWS)
		view_line(v, row++, NULL);
	vd_buf_puts(&v->frame, "\0338");
	frame_flush(v);
}

static void
redraw_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	draw(w->data);
}

static void
running_clear(struct view *v)
{
	struct running *r;
	while ((r = TAILQ_FIRST(&v->running)) != NULL) {
		TAILQ_REMOVE(&v->running, r, link);
		free(r->why);
		free(r);
	}
	v->nrunning = 0;
}

void
vd_dep_progress_begin(enum vd_progress_mode mode, const char *title)
{
	struct view *v;

	if (view != NULL || mode == VD_PROGRESS_NONE)
		return;
	v = vd_xcalloc(1, sizeof(*v));
	v->mode = mode;
	v->loop = EV_DEFAULT; /* the deployer's loop (ev_child needs it) */
	v->out = stderr;
	v->title = vd_mask_brief(title, 80);
	v->start = ev_time();
	TAILQ_INIT(&v->running);
	vd_buf_init(&v->frame, 0);
	view = v;
	if (mode != VD_PROGRESS_TTY)
		return;
	term_size(v->out, &v->rows, &v->cols);
	if (v->rows < MIN_ROWS) {
		v->mode = VD_PROGRESS_PLAIN;
		return;
	}
	region_set(v);
	ev_timer_init(&v->redraw, redraw_cb, REDRAW, REDRAW);
	v->redraw.data = v;
	ev_timer_start(v->loop, &v->redraw);
	/* the view must not keep the deployer's loops alive */
	ev_unref(v->loop);
	draw(v);
}

void
vd_dep_progress_end(void)
{
	struct view *v = view;

	if (v == NULL)
		return;
	view = NULL;
	if (v->mode == VD_PROGRESS_TTY) {
		ev_ref(v->loop);
		ev_timer_stop(v->loop, &v->redraw);
		region_reset(v);
		frame_flush(v);
	}
	running_clear(v);
	vd_buf_free(&v->frame);
	free(v->title);
	free(v->gate);
	free(v->last);
	free(v);
}

enum vd_progress_mode
vd_dep_progress_mode(void)
{
	return view ? view->mode : VD_PROGRESS_NONE;
}

void
vd_dep_progress_gate(const char *label, size_t nchecks)
{
	if (view == NULL)
		return;
	free(view->gate);
	view->gate = vd_mask_brief(label, 40);
	view->total = nchecks;
	view->done = 0;
	running_clear(view);
	if (view->mode == VD_PROGRESS_TTY)
		draw(view);
}

static struct running *
find(const struct vd_check *chk)
{
	struct running *r;
	TAILQ_FOREACH(r, &view->running, link)
		if (r->chk == chk)
			return r;
	return NULL;
}

void
vd_dep_progress_event(const struct vd_run_event *ev)
{
	struct running *r;

	if (view == NULL || view->mode != VD_PROGRESS_TTY)
		return;
	switch (ev->kind) {
	case VD_RUN_STAGE:
		return;
	case VD_RUN_STARTED:
		r = vd_xcalloc(1, sizeof(*r));
		r->chk = ev->chk;
		r->since = ev_now(view->loop);
		TAILQ_INSERT_TAIL(&view->running, r, link);
		view->nrunning++;
		break;
	case VD_RUN_RETRY:
		r = find(ev->chk);
		if (r == NULL)
			return;
		r->attempt = ev->attempt;
		r->retry_at = ev_now(view->loop) + ev->next_in;
		r->since = r->retry_at;
		free(r->why);
		r->why = vd_mask_brief(
			ev->res && ev->res->reason ? ev->res->reason : "", 100);
		break;
	case VD_RUN_DONE:
		r = find(ev->chk);
		if (r) {
			TAILQ_REMOVE(&view->running, r, link);
			view->nrunning--;
			free(r->why);
			free(r);
		}
		view->done++;
		break;
	}
	draw(view);
}

void
vd_dep_progress_gate_end(const char *verdict)
{
	if (view == NULL || view->gate == NULL)
		return;
	free(view->last);
	view->last =
		vd_xasprintf("after the %s gate (%s)", view->gate, verdict);
	free(view->gate);
	view->gate = NULL;
	running_clear(view);
	if (view->mode == VD_PROGRESS_TTY)
		draw(view);
}
