/* registry.c - the one table of report writers. */
#include <string.h>

#include "../report.h"

const struct vd_report_writer *const vd_report_writers[] = {
	&vd_report_text, &vd_report_json,     &vd_report_junit,
	&vd_report_tap,	 &vd_report_markdown, NULL,
};

const struct vd_report_writer *
vd_report_find(const char *name)
{
	size_t i;
	for (i = 0; vd_report_writers[i]; i++)
		if (strcmp(vd_report_writers[i]->name, name) == 0)
			return vd_report_writers[i];
	return NULL;
}
