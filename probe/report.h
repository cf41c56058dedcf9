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

/* The JSON report as a cJSON tree (the deployer embeds it); caller frees
 * with cJSON_Delete. */
struct cJSON;
struct cJSON *vd_report_json_tree(const struct vd_report_in *in);

#endif
