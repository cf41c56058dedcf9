/*
 * util.c - allocators, buffers, whole-file reads, durations, sizes and
 * secret masking. Depends on libc only (and probe.h's error codes).
 */
#include "util.h"
#include "probe.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static void
oom(void)
{
	static const char msg[] = "verdict: out of memory\n";
	ssize_t r = write(2, msg, sizeof(msg) - 1);
	(void)r;
	abort();
}

void *
vd_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

void *
vd_xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (p == NULL)
		oom();
	return p;
}

void *
vd_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (q == NULL)
		oom();
	return q;
}

void *
vd_xreallocarray(void *p, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size)
		oom();
	return vd_xrealloc(p, nmemb * size);
}

char *
vd_xstrdup(const char *s)
{
	char *d = strdup(s);
	if (d == NULL)
		oom();
	return d;
}

char *
vd_xstrdup_null(const char *s)
{
	return s ? vd_xstrdup(s) : NULL;
}

char *
vd_xstrndup(const char *s, size_t n)
{
	char *d = strndup(s, n);
	if (d == NULL)
		oom();
	return d;
}

char *
vd_xvasprintf(const char *fmt, va_list ap)
{
	char *s;
	if (vasprintf(&s, fmt, ap) < 0)
		oom();
	return s;
}

char *
vd_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	s = vd_xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

void
vd_free_secret(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

void
vd_buf_init(struct vd_buf *b, size_t cap_max)
{
	b->data = vd_xmalloc(64);
	b->data[0] = '\0';
	b->len = 0;
	b->cap = 64;
	b->cap_max = cap_max;
	b->truncated = false;
}

void
vd_buf_free(struct vd_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
vd_buf_reset(struct vd_buf *b)
{
	b->len = 0;
	b->truncated = false;
	if (b->data)
		b->data[0] = '\0';
}

size_t
vd_buf_append(struct vd_buf *b, const void *p, size_t n)
{
	if (b->cap_max && b->len + n > b->cap_max) {
		n = b->cap_max - b->len;
		b->truncated = true;
	}
	if (b->len + n + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 64;
		while (b->len + n + 1 > ncap)
			ncap *= 2;
		b->data = vd_xrealloc(b->data, ncap);
		b->cap = ncap;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

void
vd_buf_puts(struct vd_buf *b, const char *s)
{
	vd_buf_append(b, s, strlen(s));
}

void
vd_buf_printf(struct vd_buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	s = vd_xvasprintf(fmt, ap);
	va_end(ap);
	vd_buf_puts(b, s);
	free(s);
}

char *
vd_buf_steal(struct vd_buf *b)
{
	char *s = b->data ? b->data : vd_xstrdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	b->truncated = false;
	return s;
}

int
vd_read_file(const char *path, size_t max, struct vd_buf *out, char *err,
	     size_t errlen)
{
	FILE *f;
	char chunk[8192];
	size_t n;

	vd_buf_init(out, max);
	f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return VD_ERR_IO;
	}
	while (!out->truncated && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		vd_buf_append(out, chunk, n);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error: %s", path,
			 strerror(errno));
		fclose(f);
		vd_buf_free(out);
		return VD_ERR_IO;
	}
	fclose(f);
	if (out->truncated) {
		if (max % (1024 * 1024) == 0)
			snprintf(err, errlen, "%s: larger than %zu MiB", path,
				 max / (1024 * 1024));
		else
			snprintf(err, errlen, "%s: larger than %zu bytes", path,
				 max);
		vd_buf_free(out);
		return VD_ERR_CONFIG;
	}
	return 0;
}

int
vd_parse_duration(const char *s, double *out)
{
	double total = 0;
	int parts = 0;

	if (s == NULL || *s == '\0')
		return -1;
	while (*s) {
		char *end;
		double v, mul;
		if (!isdigit((unsigned char)*s) && *s != '.')
			return -1;
		errno = 0;
		v = strtod(s, &end);
		if (end == s || errno != 0 || !isfinite(v) || v < 0)
			return -1;
		s = end;
		if (strncmp(s, "ms", 2) == 0) {
			mul = 0.001;
			s += 2;
		} else if (strncmp(s, "us", 2) == 0) {
			mul = 0.000001;
			s += 2;
		} else if (*s == 's') {
			mul = 1;
			s++;
		} else if (*s == 'm') {
			mul = 60;
			s++;
		} else if (*s == 'h') {
			mul = 3600;
			s++;
		} else if (*s == 'd') {
			mul = 86400;
			s++;
		} else {
			return -1;
		}
		total += v * mul;
		parts++;
	}
	if (parts == 0 || total > 366.0 * 86400)
		return -1;
	*out = total;
	return 0;
}

void
vd_format_duration(double secs, char *buf, size_t len)
{
	if (secs < 1.0) {
		snprintf(buf, len, "%.0fms", secs * 1000.0);
	} else if (secs < 60.0) {
		if (fabs(secs - round(secs)) < 0.0005)
			snprintf(buf, len, "%.0fs", secs);
		else
			snprintf(buf, len, "%.2fs", secs);
	} else {
		long m = (long)(secs / 60.0);
		double r = secs - (double)m * 60.0;
		if (r < 0.0005)
			snprintf(buf, len, "%ldm", m);
		else
			snprintf(buf, len, "%ldm%.0fs", m, r);
	}
}

int
vd_parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;
	unsigned long long mul = 1;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	if (*end == '\0' || strcmp(end, "B") == 0)
		mul = 1;
	else if (strcmp(end, "KiB") == 0)
		mul = 1024ULL;
	else if (strcmp(end, "MiB") == 0)
		mul = 1024ULL * 1024;
	else if (strcmp(end, "GiB") == 0)
		mul = 1024ULL * 1024 * 1024;
	else if (strcmp(end, "kB") == 0 || strcmp(end, "KB") == 0)
		mul = 1000ULL;
	else if (strcmp(end, "MB") == 0)
		mul = 1000ULL * 1000;
	else if (strcmp(end, "GB") == 0)
		mul = 1000ULL * 1000 * 1000;
	else
		return -1;
	if (v > SIZE_MAX / mul)
		return -1;
	*out = (size_t)(v * mul);
	return 0;
}

/* The process-wide secret list. Small; linear scans are fine. */
static char **secrets;
static size_t nsecrets;

void
vd_secret_add(const char *s)
{
	size_t i;
	if (s == NULL || strlen(s) < 3)
		return;
	for (i = 0; i < nsecrets; i++)
		if (strcmp(secrets[i], s) == 0)
			return;
	secrets = vd_xreallocarray(secrets, nsecrets + 1, sizeof(*secrets));
	secrets[nsecrets++] = vd_xstrdup(s);
}

void
vd_secret_clear(void)
{
	size_t i;
	for (i = 0; i < nsecrets; i++)
		vd_free_secret(secrets[i]);
	free(secrets);
	secrets = NULL;
	nsecrets = 0;
}

char *
vd_mask(const char *s)
{
	struct vd_buf b;
	size_t i;

	if (s == NULL)
		return NULL;
	if (nsecrets == 0)
		return vd_xstrdup(s);
	vd_buf_init(&b, 0);
	while (*s) {
		size_t best = 0;
		for (i = 0; i < nsecrets; i++) {
			size_t l = strlen(secrets[i]);
			if (l > best && strncmp(s, secrets[i], l) == 0)
				best = l;
		}
		if (best) {
			vd_buf_puts(&b, "***");
			s += best;
		} else {
			vd_buf_append(&b, s, 1);
			s++;
		}
	}
	return vd_buf_steal(&b);
}

void
vd_mask_stream_init(struct vd_mask_stream *ms)
{
	vd_buf_init(&ms->held, 0);
}

void
vd_mask_stream_free(struct vd_mask_stream *ms)
{
	if (ms->held.data)
		explicit_bzero(ms->held.data, ms->held.len);
	vd_buf_free(&ms->held);
}

/* Masks held into out; unless at the end, stops where the bytes left
 * could be the start of a secret, and keeps those. */
static void
mask_stream_run(struct vd_mask_stream *ms, struct vd_buf *out, bool end)
{
	const char *p = ms->held.data;
	size_t len = ms->held.len, i = 0, k;

	while (i < len) {
		size_t best = 0, left = len - i;
		bool maybe = false;
		for (k = 0; k < nsecrets; k++) {
			size_t l = strlen(secrets[k]);
			if (l <= left) {
				if (l > best &&
				    memcmp(p + i, secrets[k], l) == 0)
					best = l;
			} else if (!end &&
				   memcmp(p + i, secrets[k], left) == 0) {
				/* a longer secret may go on */
				maybe = true;
			}
		}
		if (maybe)
			break;
		if (best) {
			vd_buf_puts(out, "***");
			i += best;
		} else {
			vd_buf_append(out, p + i, 1);
			i++;
		}
	}
	if (i > 0) {
		explicit_bzero(ms->held.data, i);
		memmove(ms->held.data, ms->held.data + i, len - i);
		ms->held.len = len - i;
		ms->held.data[ms->held.len] = '\0';
	}
}

void
vd_mask_stream_feed(struct vd_mask_stream *ms, const char *p, size_t n,
		    struct vd_buf *out)
{
	vd_buf_append(&ms->held, p, n);
	mask_stream_run(ms, out, false);
}

void
vd_mask_stream_end(struct vd_mask_stream *ms, struct vd_buf *out)
{
	mask_stream_run(ms, out, true);
}

char *
vd_xvasprintf_masked(const char *fmt, va_list ap)
{
	char *raw = vd_xvasprintf(fmt, ap), *m = vd_mask(raw);
	free(raw);
	return m;
}

char *
vd_mask_url(const char *url)
{
	const char *scheme, *auth, *at, *colon, *end;
	char *pw, *out;

	if (url == NULL)
		return NULL;
	scheme = strstr(url, "://");
	if (scheme == NULL)
		return vd_mask(url);
	auth = scheme + 3;
	end = auth + strcspn(auth, "/?#");
	at = NULL;
	for (const char *p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	if (at == NULL)
		return vd_mask(url);
	colon = memchr(auth, ':', (size_t)(at - auth));
	if (colon == NULL)
		return vd_mask(url);
	pw = vd_xstrndup(colon + 1, (size_t)(at - colon - 1));
	vd_secret_add(pw);
	vd_free_secret(pw);
	out = vd_xasprintf("%.*s:***%s", (int)(colon - url), url, at);
	{
		char *m = vd_mask(out);
		free(out);
		out = m;
	}
	return out;
}

bool
vd_header_is_secret(const char *name)
{
	static const char *const words[] = {
		"authorization", "cookie", "token", "secret", "key",
		"password",	 "passwd", "auth",  NULL};
	char low[128];
	size_t i;

	for (i = 0; i < sizeof(low) - 1 && name[i]; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[i] = '\0';
	for (i = 0; words[i]; i++)
		if (strstr(low, words[i]))
			return true;
	return false;
}

bool
vd_env_name_is_secret(const char *name)
{
	static const char *const words[] = {"PASS",    "SECRET",     "TOKEN",
					    "KEY",     "CREDENTIAL", "AUTH",
					    "WEBHOOK", NULL};
	char up[256];
	size_t i;
	for (i = 0; i < sizeof(up) - 1 && name[i]; i++)
		up[i] = (char)toupper((unsigned char)name[i]);
	up[i] = '\0';
	for (i = 0; words[i]; i++)
		if (strstr(up, words[i]))
			return true;
	return false;
}

bool
vd_streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

bool
vd_strcaseeq(const char *a, const char *b)
{
	return a && b && strcasecmp(a, b) == 0;
}

bool
vd_startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int
vd_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	fl = fcntl(fd, F_GETFD);
	if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
		return -1;
	return 0;
}

/*
 * Estimates how many copies of atoms regcomp will build: a sequence adds
 * the sizes of its parts, a counted repetition multiplies the size of what
 * it repeats by its upper bound (an open bound counts as RE_DUP_MAX).
 */
static double
regex_expansion(const char *s)
{
	struct frame {
		double sum;  /* size of the group so far */
		double last; /* size of its last element */
	} st[64];
	int depth = 0;

	st[0].sum = st[0].last = 0;
	while (*s) {
		char c = *s++;
		if (c == '\\') {
			if (*s)
				s++;
			st[depth].last = 1;
			st[depth].sum += 1;
		} else if (c == '[') {
			if (*s == '^')
				s++;
			if (*s == ']')
				s++;
			while (*s && *s != ']')
				s++;
			if (*s)
				s++;
			st[depth].last = 1;
			st[depth].sum += 1;
		} else if (c == '(') {
			if (depth + 1 >= (int)(sizeof(st) / sizeof(st[0])))
				return 1e300;
			depth++;
			st[depth].sum = st[depth].last = 0;
		} else if (c == ')' && depth > 0) {
			double g = st[depth].sum > 1 ? st[depth].sum : 1;
			depth--;
			st[depth].last = g;
			st[depth].sum += g;
		} else if (c == '{') {
			char *end;
			unsigned long lo = strtoul(s, &end, 10), hi = lo;
			if (end == s) {
				st[depth].last = 1;
				st[depth].sum += 1;
				continue;
			}
			if (*end == ',') {
				const char *h = end + 1;
				hi = strtoul(h, &end, 10);
				if (end == h)
					hi = RE_DUP_MAX;
			}
			if (*end == '}')
				end++;
			s = end;
			if (hi < lo)
				hi = lo;
			/* the element is repeated: add hi - 1 more copies */
			st[depth].sum +=
				st[depth].last * (double)(hi ? hi - 1 : 0);
			st[depth].last *= (double)(hi ? hi : 1);
		} else if (c == '*' || c == '+' || c == '?' || c == '|' ||
			   c == '^' || c == '$') {
			continue;
		} else {
			st[depth].last = 1;
			st[depth].sum += 1;
		}
		if (st[depth].sum > 1e12)
			return 1e300;
	}
	while (depth > 0) {
		double g = st[depth].sum;
		depth--;
		st[depth].sum += g;
	}
	return st[0].sum;
}

int
vd_regcomp(regex_t *re, const char *src, int cflags)
{
	if (strlen(src) > 4096 ||
	    regex_expansion(src) > (double)VD_REGEX_MAX_EXPANSION)
		return VD_REGEX_TOO_COMPLEX;
	return regcomp(re, src, cflags);
}

void
vd_regerror(int rc, const regex_t *re, char *buf, size_t len)
{
	if (rc == VD_REGEX_TOO_COMPLEX)
		snprintf(buf, len,
			 "too complex (more than 4096 bytes, or counted "
			 "repetition {m,n} expanding past %d copies)",
			 VD_REGEX_MAX_EXPANSION);
	else
		regerror(rc, re, buf, len);
}
