/*
 * tap.c - TAP version 13: one test point per check; skipped checks carry
 * a SKIP directive, non-critical failures a TODO directive (they do not
 * fail the run); a YAML block tells the reason.
 */
#include <stdlib.h>
#include <string.h>

#include "../report.h"
#include "../../lib/util.h"

/* TAP descriptions end at '#' and at a newline. */
static void
tap_text(FILE *f, const char *str)
{
	char *m = vd_mask(str); /* before escaping */
	const char *s = m;

	for (; s && *s; s++) {
		if (*s == '#')
			fputs("\\#", f);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
	free(m);
}

/* A YAML double-quoted scalar. */
static void
yaml_str(FILE *f, const char *str)
{
	char *m = vd_mask(str);
	const char *s = m;

	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
	free(m);
}

static int
tap_write(FILE *f, const struct vd_report_in *in)
{
	const struct vd_run_summary *sum = in->sum;
	size_t i;

	fprintf(f, "TAP version 13\n1..%zu\n", sum->n);
	for (i = 0; i < sum->n; i++) {
		const struct vd_check *chk = sum->checks[i];
		const struct vd_result *res = &sum->results[i];
		bool ok = res->status == VD_STATUS_PASS;

		fprintf(f, "%s %zu - ",
			ok || res->status == VD_STATUS_SKIPPED ? "ok"
							       : "not ok",
			i + 1);
		tap_text(f, chk->name);
		if (res->status == VD_STATUS_SKIPPED) {
			fputs(" # SKIP ", f);
			tap_text(f, res->reason);
		} else if (!ok && !chk->critical) {
			fputs(" # TODO not critical: ", f);
			tap_text(f, res->reason);
		}
		fputc('\n', f);
		if (!ok && res->status != VD_STATUS_SKIPPED) {
			fputs("  ---\n  status: ", f);
			fputs(vd_status_name(res->status), f);
			fputs("\n  reason: ", f);
			yaml_str(f, res->reason);
			fputs("\n  type: ", f);
			yaml_str(f, chk->type->name);
			fputs("\n  target: ", f);
			yaml_str(f, chk->target);
			fprintf(f,
				"\n  attempts: %d\n  duration_seconds: %.6f\n  "
				"...\n",
				res->attempts, res->duration);
		}
	}
	return ferror(f) ? VD_ERR_IO : 0;
}

const struct vd_report_writer vd_report_tap = {
	.name = "tap",
	.write = tap_write,
};
