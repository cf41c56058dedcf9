/*
 * report.c - the deployment report: JSON (stdout with --format json, and
 * --report FILE), a text summary, and Markdown appended to
 * $GITHUB_STEP_SUMMARY. Reads only the cJSON report that deploy.c built
 * (already masked); never probes, never records.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../probe/report.h"
#include "dep_int.h"

/* A Markdown table cell; "-" for a missing value. */
static void
md(FILE *f, const char *s)
{
	if (s == NULL)
		fputs("-", f);
	else
		vd_md_escape(f, s);
}

/* A Markdown table row of obj's members keys (NULL-terminated), without
 * its closing " |" when open (the caller adds to the last cell). */
static void
md_row(FILE *f, const cJSON *obj, const char *const *keys, bool open)
{
	const char *sep = "| ";
	for (; *keys; keys++) {
		fputs(sep, f);
		md(f, vd_dep_jstr(obj, *keys));
		sep = " | ";
	}
	if (!open)
		fputs(" |\n", f);
}

/* "| label | value |" of the summary table. */
static void
md_field(FILE *f, const char *label, const char *value)
{
	fprintf(f, "| %s | ", label);
	md(f, value);
	fputs(" |\n", f);
}

static const char *
headline(const char *result)
{
	if (vd_streq(result, "promoted"))
		return "promoted";
	if (vd_streq(result, "rolled_back"))
		return "ROLLED BACK";
	if (vd_streq(result, "rollback_done"))
		return "rolled back (manual), verified";
	if (vd_streq(result, "rollback_failed"))
		return "ROLLBACK FAILED";
	if (vd_streq(result, "inconclusive"))
		return "INCONCLUSIVE";
	if (vd_streq(result, "refused"))
		return "REFUSED";
	return "INTERRUPTED";
}

void
vd_dep_report_markdown(FILE *f, const cJSON *rep)
{
	static const char *const step_keys[] = {"step", "at", NULL};
	static const char *const check_keys[] = {"name", "status", "reason",
						 NULL};
	static const char *const notify_keys[] = {"notifier", "event", "state",
						  NULL};
	const cJSON *it, *gates, *c;

	fputs("### verdict deploy: ", f);
	md(f, vd_dep_jstr(rep, "environment"));
	fputs(" ", f);
	md(f, vd_dep_jstr(rep, "version"));
	fprintf(f, " — %s\n\n", headline(vd_dep_jstr(rep, "result")));
	fputs("| | |\n| --- | --- |\n", f);
	md_field(f, "deployment", vd_dep_jstr(rep, "deployment_id"));
	md_field(f, "kind", vd_dep_jstr(rep, "kind"));
	md_field(f, "previous known-good",
		 vd_dep_jstr(rep, "previous_version"));
	md_field(f, "known-good now", vd_dep_jstr(rep, "known_good_version"));
	fprintf(f, "| exit code | %.0f |\n", vd_dep_jnum(rep, "exit_code", -1));
	md_field(f, "reason", vd_dep_jstr(rep, "reason"));
	md_field(f, "started by", vd_dep_jstr(rep, "actor"));
	fprintf(f, "| duration | %.1fs |\n\n",
		vd_dep_jnum(rep, "duration_seconds", 0));

	fputs("| step | at |\n| --- | --- |\n", f);
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(rep, "steps")) {
		md_row(f, it, step_keys, false);
	}
	fputc('\n', f);
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(rep, "hooks")) {
		fputs("- hook **", f);
		md(f, vd_dep_jstr(it, "hook"));
		fputs("**: ", f);
		md(f, vd_dep_jstr(it, "result"));
		fprintf(f, " (%.1fs)\n",
			vd_dep_jnum(it, "duration_seconds", 0));
	}
	gates = cJSON_GetObjectItemCaseSensitive(rep, "gates");
	cJSON_ArrayForEach(it, gates) {
		fprintf(f, "\n#### %s: %s\n\n", it->string,
			vd_streq(vd_dep_jstr(it, "verdict"), "pass") ? "pass"
								     : "FAIL");
		fputs("| check | status | reason |\n| --- | --- | --- |\n", f);
		cJSON_ArrayForEach(
			c, cJSON_GetObjectItemCaseSensitive(it, "checks")) {
			md_row(f, c, check_keys, false);
		}
	}
	it = cJSON_GetObjectItemCaseSensitive(rep, "notifications");
	if (cJSON_GetArraySize(it) > 0) {
		fputs("\n| notification | event | state |\n| --- | --- | --- "
		      "|\n",
		      f);
		cJSON_ArrayForEach(c, it) {
			md_row(f, c, notify_keys, true);
			if (vd_dep_jstr(c, "error")) {
				fputs(": ", f);
				md(f, vd_dep_jstr(c, "error"));
			}
			fputs(" |\n", f);
		}
	}
	fputc('\n', f);
}

static int
write_json(FILE *f, const cJSON *rep)
{
	char *t = cJSON_Print(rep);
	int r;
	if (t == NULL)
		abort();
	r = fprintf(f, "%s\n", t) < 0 ? -1 : 0;
	free(t);
	return r;
}

static void
text(FILE *f, const cJSON *rep)
{
	const cJSON *n;
	size_t sent = 0, failed = 0;
	cJSON_ArrayForEach(
		n, cJSON_GetObjectItemCaseSensitive(rep, "notifications")) {
		if (vd_streq(vd_dep_jstr(n, "state"), "sent"))
			sent++;
		else
			failed++;
	}
	fprintf(f, "%s: %s %s: %s (exit %.0f)\n",
		vd_dep_jstr(rep, "environment"), vd_dep_jstr(rep, "kind"),
		vd_dep_jstr(rep, "version"),
		headline(vd_dep_jstr(rep, "result")),
		vd_dep_jnum(rep, "exit_code", -1));
	if (vd_dep_jstr(rep, "reason"))
		fprintf(f, "  reason: %s\n", vd_dep_jstr(rep, "reason"));
	fprintf(f, "  deployment: %s, %.1fs\n",
		vd_dep_jstr(rep, "deployment_id"),
		vd_dep_jnum(rep, "duration_seconds", 0));
	fprintf(f, "  known-good: %s\n",
		vd_dep_jstr_or(rep, "known_good_version", "none"));
	if (sent + failed)
		fprintf(f, "  notifications: %zu sent, %zu failed\n", sent,
			failed);
}

int
vd_dep_report_emit(const cJSON *rep, const char *format, const char *path)
{
	const char *summary = getenv("GITHUB_STEP_SUMMARY");
	int r = 0;

	if (format && strcmp(format, "json") == 0) {
		if (write_json(stdout, rep) < 0)
			r = -1;
	} else {
		text(stdout, rep);
	}
	if (fflush(stdout) != 0)
		r = -1;
	if (path) {
		FILE *f = fopen(path, "w");
		if (f == NULL || write_json(f, rep) < 0 || fclose(f) != 0) {
			fprintf(stderr, "verdict: report %s: %s\n", path,
				strerror(errno));
			r = -1;
		}
	}
	if (summary && *summary) {
		FILE *f = fopen(summary, "a");
		if (f == NULL) {
			fprintf(stderr, "verdict: %s: %s\n", summary,
				strerror(errno));
			r = -1;
		} else {
			vd_dep_report_markdown(f, rep);
			if (fclose(f) != 0)
				r = -1;
		}
	}
	return r;
}
