/*
 * report.h - report writers: text, json, junit, tap, markdown. Each is a
 * small vtable listed in one table (probe/report/registry.c). They read a
 * finished run; they never probe. Depends on probe.h only.
 */
#ifndef VD_REPORT_H
#define VD_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "probe.h"

struct vd_report_in {
	const char *suite; /* suite name */
	const struct vd_run_summary *sum;
	bool color;    /* text: ANSI colours (TTY and no NO_COLOR) */
	int verbosity; /* text: -1 quiet, 0 normal, 1 verbose */
};

struct vd_report_writer {
	const char *name;
	/* write: renders the report to f. Reasons and facts are masked
	 * already; names, stages, targets and tags MUST go through vd_mask
	 * (util.h) before escaping (the escapers below do), and every string
	 * MUST be escaped for the format. Returns 0, or VD_ERR_IO if f
	 * reported an error. */
	int (*write)(FILE *f, const struct vd_report_in *in);
};

/* Returns the writer called name, or NULL. */
const struct vd_report_writer *vd_report_find(const char *name);
extern const struct vd_report_writer *const vd_report_writers[];

extern const struct vd_report_writer vd_report_text;
extern const struct vd_report_writer vd_report_json;
extern const struct vd_report_writer vd_report_junit;
extern const struct vd_report_writer vd_report_tap;
extern const struct vd_report_writer vd_report_markdown;
/* GitHub Actions annotations (::error / ::warning per failed check);
 * not in vd_report_writers: not a --format */
extern const struct vd_report_writer vd_report_github;

/* Escaping for report writers, the deployer's report included
 * (probe/report/escape.c): each masks secrets first, then escapes; NULL
 * writes nothing. */
/* Writes s as XML character data / attribute text: & < > " ' escaped,
 * control characters other than tab, newline and CR dropped, bytes that
 * are not valid UTF-8 as U+FFFD. */
void vd_xml_escape(FILE *f, const char *s);
/* Writes s for a Markdown table cell: | and ` escaped, newlines as
 * spaces, HTML-significant < > & escaped, other control characters
 * dropped. */
void vd_md_escape(FILE *f, const char *s);

/* --- progress while a run works (probe/report/progress.c) --- */

enum vd_progress_mode {
	VD_PROGRESS_NONE,
	VD_PROGRESS_PLAIN, /* a line when something happens (pipes, CI) */
	VD_PROGRESS_TTY,   /* a live view redrawn in place, then erased */
};

/* Reads a --progress value: "auto" (tty when fd is a terminal and TERM
 * is set and not "dumb", else plain), "tty", "plain" or "none". Returns
 * 0, or -1 (nothing set) for anything else. */
int vd_progress_mode_parse(const char *s, int fd, enum vd_progress_mode *out);

struct vd_progress;

/* A view of a run of nchecks checks on out (stderr), driven by
 * vd_progress_event(). NONE gives NULL, which every call accepts. */
struct vd_progress *vd_progress_new(struct ev_loop *loop, FILE *out,
				    enum vd_progress_mode mode, size_t nchecks);
/* Shows one event of the run (a vd_run_progress_cb's work). Names and
 * reasons are masked. */
void vd_progress_event(struct vd_progress *p, const struct vd_run_event *ev);
/* Erases a terminal view (before the report) and frees. NULL: no-op. */
void vd_progress_free(struct vd_progress *p);

/* The JSON report as a cJSON tree (the deployer embeds it); caller frees
 * with cJSON_Delete. */
struct cJSON;
struct cJSON *vd_report_json_tree(const struct vd_report_in *in);

#endif
