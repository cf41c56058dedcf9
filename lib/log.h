/*
 * log.h - the one logger: a line on stderr, "verdict: SCOPE: message",
 * secrets masked (lib/util.h's vd_mask), written with one write(2) so that
 * lines never interleave. For operators' messages (serve's events, the
 * deployer's steps, command-line errors), not for reports. Depends on
 * libc and util.h only.
 */
#ifndef VD_LOG_H
#define VD_LOG_H

#include <stdarg.h>

/* scope: the command or module speaking ("serve", "deploy"), or NULL for
 * a bare "verdict: message". */
void vd_log(const char *scope, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void vd_logv(const char *scope, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#endif
