/*
 * text.c - the report people read: one aligned line per check, the reason
 * of every check that did not pass, a summary line. Colour only when the
 * caller says so (a TTY without NO_COLOR).
 */
#include <stdlib.h>
#include <string.h>

#include "../report.h"
#include "../../lib/util.h"

#define RED    "\033[31m"
#define GREEN  "\033[32m"
#define YELLOW "\033[33m"
#define DIM    "\033[2m"
#define BOLD   "\033[1m"
#define RESET  "\033[0m"

static const char *
status_color(const struct vd_check *chk, enum vd_status st)
{
	switch (st) {
	case VD_STATUS_PASS:
		return GREEN;
	case VD_STATUS_SKIPPED:
		return DIM;
	case VD_STATUS_FAIL:
	case VD_STATUS_ERROR:
		break;
	}
	return chk->critical ? RED : YELLOW;
}

static const char *
label(const struct vd_check *chk, enum vd_status st)
{
	switch (st) {
	case VD_STATUS_PASS:
		return "PASS";
	case VD_STATUS_FAIL:
		return chk->critical ? "FAIL" : "WARN";
	case VD_STATUS_ERROR:
		return chk->critical ? "ERROR" : "WARN";
	case VD_STATUS_SKIPPED:
		return "SKIP";
	}
	return "?";
}

static int
text_write(FILE *f, const struct vd_report_in *in)
{
	const struct vd_run_summary *sum = in->sum;
	size_t i, width = 4, n[4] = {0, 0, 0, 0};
	char d[32];
	const char *stage = NULL;
	bool many_stages = false;
	size_t warnings = 0; /* non-critical checks that did not pass */

	for (i = 0; i < sum->n; i++) {
		size_t l = strlen(sum->checks[i]->name);
		if (l > width)
			width = l;
		if (width > 40)
			width = 40;
		if (i &&
		    strcmp(sum->checks[i]->stage, sum->checks[0]->stage) != 0)
			many_stages = true;
	}
	if (in->verbosity >= 0) {
		char *m = vd_mask(in->suite);
		fprintf(f, "%s%s%s\n", in->color ? BOLD : "", m,
			in->color ? RESET : "");
		free(m);
	}
	for (i = 0; i < sum->n; i++) {
		const struct vd_check *chk = sum->checks[i];
		const struct vd_result *res = &sum->results[i];
		char *name;
		bool show;

		if (!chk->critical && (res->status == VD_STATUS_FAIL ||
				       res->status == VD_STATUS_ERROR))
			warnings++;
		else
			n[res->status]++;
		show = in->verbosity >= 0 || res->status != VD_STATUS_PASS;
		if (!show)
			continue;
		if (many_stages && in->verbosity >= 0 &&
		    (stage == NULL || strcmp(stage, chk->stage) != 0)) {
			char *m = vd_mask(chk->stage);
			stage = chk->stage;
			fprintf(f, "%s[%s]%s\n", in->color ? DIM : "", m,
				in->color ? RESET : "");
			free(m);
		}
		vd_format_duration(res->duration, d, sizeof(d));
		/* a name may hold an interpolated secret: mask, then cut */
		name = vd_mask(chk->name);
		fprintf(f, "  %s%-5s%s  %-*.*s  %7s",
			in->color ? status_color(chk, res->status) : "",
			label(chk, res->status), in->color ? RESET : "",
			(int)width, (int)width, name,
			res->status == VD_STATUS_SKIPPED ? "-" : d);
		free(name);
		if (res->attempts > 1)
			fprintf(f, "  (%d attempts)", res->attempts);
		if (res->reason && *res->reason &&
		    (res->status != VD_STATUS_PASS || in->verbosity > 0))
			fprintf(f, "  %s", res->reason);
		fputc('\n', f);
		if (in->verbosity > 0 && chk->target && *chk->target) {
			char *t = vd_mask(chk->target);
			fprintf(f, "         %-*s  %s\n", (int)width, "", t);
			free(t);
		}
	}
	vd_format_duration(sum->duration, d, sizeof(d));
	fprintf(f,
		"%s%s%s: %zu passed, %zu failed, %zu errors, %zu warnings, %zu "
		"skipped in %s\n",
		in->color ? (sum->passed ? GREEN : RED) : "",
		sum->passed ? "PASS" : "FAIL", in->color ? RESET : "",
		n[VD_STATUS_PASS], n[VD_STATUS_FAIL], n[VD_STATUS_ERROR],
		warnings, n[VD_STATUS_SKIPPED], d);
	return ferror(f) ? VD_ERR_IO : 0;
}

const struct vd_report_writer vd_report_text = {
	.name = "text",
	.write = text_write,
};
