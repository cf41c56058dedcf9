/*
 * escape.c - escaping for the XML and Markdown report writers (and the
 * deployer's Markdown report). Depends on stdio only.
 */
#include "../report.h"

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if it is not one
 * (overlong forms, surrogates and code points past U+10FFFF included). */
static int
utf8_len(const unsigned char *s)
{
	int n, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

void
vd_xml_escape(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		int n;

		if (c >= 0x80) {
			/* an XML file must be well-formed UTF-8: a byte that
			 * starts no valid sequence becomes U+FFFD */
			n = utf8_len((const unsigned char *)s);
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
