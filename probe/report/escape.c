/*
 * escape.c - masking then escaping for the XML and Markdown report
 * writers (and the deployer's Markdown report). Depends on stdio and
 * util.h's masking only.
 */
#include <stdlib.h>
#include <string.h>

#include "../report.h"
#include "../../lib/util.h"

void
vd_xml_escape(FILE *f, const char *str)
{
	/* mask first: an escaped secret would no longer match */
	char *m = vd_mask(str);
	const char *s = m;

	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		int n;

		if (c >= 0x80) {
			/* an XML file must be well-formed UTF-8: a byte that
			 * starts no valid sequence becomes U+FFFD */
			n = vd_utf8_seq(s);
			if (n == 0) {
				fputs("\xef\xbf\xbd", f);
			} else {
				fwrite(s, 1, (size_t)n, f);
				s += n - 1;
			}
			continue;
		}
		switch (c) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&apos;", f);
			break;
		default:
			/* XML 1.0 forbids most control characters */
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
				break;
			fputc(c, f);
		}
	}
	free(m);
}

void
vd_md_escape(FILE *f, const char *str)
{
	char *m = vd_mask(str);
	const char *s = m;

	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '|':
			fputs("\\|", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '`':
			fputs("\\`", f);
			break;
		case '\n':
		case '\r':
			fputc(' ', f);
			break;
		default:
			if (c >= 0x20)
				fputc(c, f);
		}
	}
	free(m);
}

char *
vd_report_step_text(const struct vd_step *s)
{
	char d[32] = "", st[32] = "";
	bool said = s->reason && *s->reason &&
		    !(s->status == VD_STATUS_PASS &&
		      strncmp(s->reason, "status ", 7) == 0);

	if (s->timings[VD_PHASE_TOTAL] >= 0)
		vd_format_duration(s->timings[VD_PHASE_TOTAL], d, sizeof(d));
	if (s->http_status > 0)
		snprintf(st, sizeof(st), "status %ld", s->http_status);
	return vd_xasprintf("%s: %s%s%s%s%s%s%s", s->name,
			    vd_status_name(s->status), *st ? ", " : "", st,
			    *d ? ", " : "", d, said ? ": " : "",
			    said ? s->reason : "");
}
