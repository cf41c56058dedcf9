/* escape.c - escaping for XML and Markdown report writers. */
#include "escape.h"

void
vd_xml_escape(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
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
}

void
vd_md_escape(FILE *f, const char *s)
{
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
}
