/*
 * github.c - GitHub Actions workflow commands: one ::error annotation per
 * critical check that failed or errored, one ::warning per non-critical
 * one; nothing for passed or skipped checks. verdict.c writes them to
 * stderr when GITHUB_ACTIONS=true. Depends on report.h only.
 */
#include "../report.h"

/* A workflow command's data: %, CR and LF escaped (GitHub's rules). */
static void
gh_escape_data(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '%':
			fputs("%25", f);
			break;
		case '\r':
			fputs("%0D", f);
			break;
		case '\n':
			fputs("%0A", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

/* A property value: the data escapes, plus : and , which end it. */
static void
gh_escape_prop(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == ':')
			fputs("%3A", f);
		else if (*s == ',')
			fputs("%2C", f);
		else {
			char one[2] = {*s, '\0'};
			gh_escape_data(f, one);
		}
	}
}

static int
gh_write(FILE *f, const struct vd_report_in *in)
{
	const struct vd_run_summary *sum = in->sum;
	size_t i;

	for (i = 0; i < sum->n; i++) {
		const struct vd_check *chk = sum->checks[i];
		const struct vd_result *res = &sum->results[i];
		if (res->status != VD_STATUS_FAIL &&
		    res->status != VD_STATUS_ERROR)
			continue;
		fputs(chk->critical ? "::error title=" : "::warning title=", f);
		fputs("verdict ", f);
		gh_escape_prop(f, in->suite);
		fputs("%3A ", f); /* ':' is escaped in a property */
		gh_escape_prop(f, chk->name);
		fprintf(f, " %s::", vd_status_name(res->status));
		gh_escape_data(f, chk->name);
		fputs(": ", f);
		gh_escape_data(f, res->reason);
		fputs(" (stage ", f);
		gh_escape_data(f, chk->stage);
		fprintf(f, ", %d attempt%s)\n", res->attempts,
			res->attempts == 1 ? "" : "s");
	}
	return ferror(f) ? VD_ERR_IO : 0;
}

const struct vd_report_writer vd_report_github = {
	.name = "github",
	.write = gh_write,
};
