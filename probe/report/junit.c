/*
 * junit.c - JUnit XML as CI systems read it: one <testsuite> per stage,
 * one <testcase> per check; <failure> for fail, <error> for error,
 * <skipped> for skipped and for non-critical checks that did not pass
 * (warnings must not fail a CI job that reads this file).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../report.h"

static void
iso8601(FILE *f, double t)
{
	time_t s = (time_t)t;
	struct tm tm;
	char buf[32];
	gmtime_r(&s, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fputs(buf, f);
}

/* A flow's steps, one a line, as the test case's output. */
static void
write_steps(FILE *f, const struct vd_result *res)
{
	size_t k;
	if (res->nsteps == 0)
		return;
	fputs("      <system-out>", f);
	for (k = 0; k < res->nsteps; k++) {
		char *st = vd_report_step_text(&res->steps[k]);
		fputs("step ", f);
		vd_xml_escape(f, st);
		fputc('\n', f);
		free(st);
	}
	fputs("</system-out>\n", f);
}

static void
write_case(FILE *f, const struct vd_report_in *in, size_t i)
{
	const struct vd_check *chk = in->sum->checks[i];
	const struct vd_result *res = &in->sum->results[i];
	const char *reason = res->reason ? res->reason : "";

	fputs("    <testcase classname=\"", f);
	vd_xml_escape(f, in->suite);
	fputc('.', f);
	vd_xml_escape(f, chk->stage);
	fputs("\" name=\"", f);
	vd_xml_escape(f, chk->name);
	fprintf(f, "\" time=\"%.6f\"", res->duration);
	if (res->status == VD_STATUS_PASS && res->nsteps == 0) {
		fputs("/>\n", f);
		return;
	}
	if (res->status == VD_STATUS_PASS) {
		fputs(">\n", f);
		write_steps(f, res);
		fputs("    </testcase>\n", f);
		return;
	}
	fputs(">\n", f);
	if (res->status == VD_STATUS_SKIPPED) {
		fputs("      <skipped message=\"", f);
		vd_xml_escape(f, reason);
		fputs("\"/>\n", f);
	} else if (!chk->critical) {
		fputs("      <skipped message=\"warning (critical: false): ",
		      f);
		vd_xml_escape(f, reason);
		fputs("\"/>\n", f);
	} else {
		const char *tag =
			res->status == VD_STATUS_FAIL ? "failure" : "error";
		fprintf(f, "      <%s message=\"", tag);
		vd_xml_escape(f, reason);
		fprintf(f, "\" type=\"%s\">", vd_reason_name(res->reason_kind));
		fputs("type: ", f);
		vd_xml_escape(f, chk->type->name);
		fputs("\ntarget: ", f);
		vd_xml_escape(f, chk->target);
		fprintf(f, "\nattempts: %d\nreason: ", res->attempts);
		vd_xml_escape(f, reason);
		fprintf(f, "</%s>\n", tag);
	}
	write_steps(f, res);
	fputs("    </testcase>\n", f);
}

static int
junit_write(FILE *f, const struct vd_report_in *in)
{
	const struct vd_run_summary *sum = in->sum;
	size_t i, j, tot[4] = {0, 0, 0, 0};
	unsigned stage, nstages = 0;

	for (i = 0; i < sum->n; i++) {
		enum vd_status st = sum->results[i].status;
		if (!sum->checks[i]->critical && st != VD_STATUS_PASS)
			st = VD_STATUS_SKIPPED;
		tot[st]++;
		if (sum->checks[i]->stage_index + 1 > nstages)
			nstages = sum->checks[i]->stage_index + 1;
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"",
	      f);
	vd_xml_escape(f, in->suite);
	fprintf(f,
		"\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
		"skipped=\"%zu\" time=\"%.6f\">\n",
		sum->n, tot[VD_STATUS_FAIL], tot[VD_STATUS_ERROR],
		tot[VD_STATUS_SKIPPED], sum->duration);
	for (stage = 0; stage < nstages; stage++) {
		size_t c[4] = {0, 0, 0, 0}, n = 0;
		double t = 0;
		const char *sname = NULL;
		for (j = 0; j < sum->n; j++) {
			enum vd_status st = sum->results[j].status;
			if (sum->checks[j]->stage_index != stage)
				continue;
			if (!sum->checks[j]->critical && st != VD_STATUS_PASS)
				st = VD_STATUS_SKIPPED;
			sname = sum->checks[j]->stage;
			c[st]++;
			n++;
			if (sum->results[j].duration > t)
				t = sum->results[j].duration;
		}
		if (n == 0)
			continue;
		fputs("  <testsuite name=\"", f);
		vd_xml_escape(f, in->suite);
		fputc('.', f);
		vd_xml_escape(f, sname);
		fprintf(f,
			"\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
			"skipped=\"%zu\" time=\"%.6f\" timestamp=\"",
			n, c[VD_STATUS_FAIL], c[VD_STATUS_ERROR],
			c[VD_STATUS_SKIPPED], t);
		iso8601(f, sum->started);
		fputs("\">\n", f);
		for (j = 0; j < sum->n; j++)
			if (sum->checks[j]->stage_index == stage)
				write_case(f, in, j);
		fputs("  </testsuite>\n", f);
	}
	fputs("</testsuites>\n", f);
	return ferror(f) ? VD_ERR_IO : 0;
}

const struct vd_report_writer vd_report_junit = {
	.name = "junit",
	.write = junit_write,
};
