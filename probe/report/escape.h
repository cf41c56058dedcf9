/* escape.h - escaping shared by the report writers. Internal. */
#ifndef VD_REPORT_ESCAPE_H
#define VD_REPORT_ESCAPE_H

#include <stdio.h>

/* Writes s as XML character data / attribute text: & < > " ' escaped,
 * control characters other than tab and newline dropped. */
void vd_xml_escape(FILE *f, const char *s);
/* Writes s for a Markdown table cell: | escaped, newlines as spaces,
 * HTML-significant < > & escaped. */
void vd_md_escape(FILE *f, const char *s);

#endif
