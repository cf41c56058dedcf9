/*
 * slowdns.so.c - an LD_PRELOAD shim for benchmarks: a slow resolver on
 * loopback without touching /etc/hosts, resolv.conf or nsswitch.
 * getaddrinfo() of a name ending in ".slow.test" sleeps 2 s (or
 * SLOWDNS_MS milliseconds) in the calling thread, then answers as for
 * "127.0.0.1"; every other name, and any call with AI_NUMERICHOST (which
 * never queries a resolver: it must stay instant), goes to the real
 * getaddrinfo (dlsym RTLD_NEXT). Depends on libc and libdl only. Built
 * by the Makefile as $(BUILD)/tools/slowdns.so (-shared -fPIC, never with
 * sanitizers):
 *   LD_PRELOAD=build/x/tools/slowdns.so verdict run suite.json
 */
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int gai_fn(const char *, const char *, const struct addrinfo *,
		   struct addrinfo **);

static const char suffix[] = ".slow.test";

/* The delay in milliseconds: SLOWDNS_MS when it is a number, else 2000. */
static long
delay_ms(void)
{
	const char *s = getenv("SLOWDNS_MS");
	char *end;
	long ms;

	if (!s || !*s)
		return 2000;
	errno = 0;
	ms = strtol(s, &end, 10);
	if (errno || *end || ms < 0)
		return 2000;
	return ms;
}

/* True for "x.slow.test" and "x.slow.test." (case-insensitive). */
static int
is_slow(const char *name)
{
	size_t n, k = sizeof(suffix) - 1;

	if (!name)
		return 0;
	n = strlen(name);
	if (n > 0 && name[n - 1] == '.')
		n--;
	return n > k && strncasecmp(name + n - k, suffix, k) == 0;
}

int
getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
	    struct addrinfo **res)
{
	gai_fn *real = (gai_fn *)dlsym(RTLD_NEXT, "getaddrinfo");
	struct timespec ts;
	long ms;

	if (!real)
		return EAI_SYSTEM;
	if (!is_slow(node) || (hints && (hints->ai_flags & AI_NUMERICHOST)))
		return real(node, service, hints, res);
	ms = delay_ms();
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	return real("127.0.0.1", service, hints, res);
}
