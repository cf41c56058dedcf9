/*
 * markdown.c - a Markdown summary (GitHub Actions shows it from
 * $GITHUB_STEP_SUMMARY): a verdict line and a table of checks.
 */
#include <stdlib.h>
#include "../report.h"
#include "../../lib/util.h"

static const char *
icon(const struct vd_check *chk, enum vd_status st)
{
	switch (st) {
	case VD_STATUS_PASS:
		return "pass";
	case VD_STATUS_SKIPPED:
		return "skipped";
	case VD_STATUS_FAIL:
		return chk->critical ? "**FAIL**" : "warn";
	case VD_STATUS_ERROR:
		return chk->critical ? "**ERROR**" : "warn";
	}
	return "?";
}

static int
md_write(FILE *f, const struct vd_report_in *in)
{
	const struct vd_run_summary *sum = in->sum;
	size_t i, bad = 0;
	char d[32];

	for (i = 0; i < sum->n; i++)
		if (sum->results[i].status != VD_STATUS_PASS)
			bad++;
	vd_format_duration(sum->duration, d, sizeof(d));
	fputs("### verdict: ", f);
	vd_md_escape(f, in->suite);
	fprintf(f, " — %s\n\n%zu checks, %zu not passing, %s\n\n",
		sum->passed ? "PASS" : "FAIL", sum->n, bad, d);
	fputs("| check | stage | status | time | reason |\n"
	      "| --- | --- | --- | ---: | --- |\n",
	      f);
	for (i = 0; i < sum->n; i++) {
		const struct vd_check *chk = sum->checks[i];
		const struct vd_result *res = &sum->results[i];
		fputs("| ", f);
		vd_md_escape(f, chk->name);
		fputs(" | ", f);
		vd_md_escape(f, chk->stage);
		fprintf(f, " | %s | ", icon(chk, res->status));
		vd_format_duration(res->duration, d, sizeof(d));
		fputs(res->status == VD_STATUS_SKIPPED ? "-" : d, f);
		fputs(" | ", f);
		vd_md_escape(f, res->reason);
		fputs(" |\n", f);
	}
	fputc('\n', f);
	/* a flow's steps, after the table */
	for (i = 0; i < sum->n; i++) {
		const struct vd_result *res = &sum->results[i];
		size_t k;
		if (res->nsteps == 0)
			continue;
		fputs("Steps of ", f);
		vd_md_escape(f, sum->checks[i]->name);
		fputs(":\n\n", f);
		for (k = 0; k < res->nsteps; k++) {
			char *st = vd_report_step_text(&res->steps[k]);
			fprintf(f, "%zu. ", k + 1);
			vd_md_escape(f, st);
			fputc('\n', f);
			free(st);
		}
		fputc('\n', f);
	}
	return ferror(f) ? VD_ERR_IO : 0;
}

const struct vd_report_writer vd_report_markdown = {
	.name = "markdown",
	.write = md_write,
};
