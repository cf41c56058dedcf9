/*
 * log.c - the one logger (see log.h). Depends on libc and util.h only.
 */
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

void
vd_logv(const char *scope, const char *fmt, va_list ap)
{
	char *m = vd_xvasprintf_masked(fmt, ap);
	char *line = scope ? vd_xasprintf("verdict: %s: %s\n", scope, m)
			   : vd_xasprintf("verdict: %s\n", m);
	size_t len = strlen(line), off = 0;
	int saved = errno;

	while (off < len) {
		ssize_t n = write(STDERR_FILENO, line + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* stderr is gone: nothing better to do */
		off += (size_t)n;
	}
	errno = saved;
	free(line);
	free(m);
}

void
vd_log(const char *scope, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vd_logv(scope, fmt, ap);
	va_end(ap);
}
