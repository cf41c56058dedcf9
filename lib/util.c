/*
 * util.c - allocators, buffers, whole-file reads, durations, sizes and
 * secret masking, error names. Depends on libc only (and err.h).
 */
#include "util.h"
#include "err.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static void oom(void) __attribute__((noreturn));

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
	char chunk[8192];
	struct stat st;
	ssize_t n;
	int fd;

	vd_buf_init(out, max);
	/* O_NONBLOCK: opening a FIFO with no writer must not wait for one;
	 * fstat then refuses everything but a regular file before any read */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return VD_ERR_IO;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return VD_ERR_IO;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file (%s)", path,
			 S_ISDIR(st.st_mode)	? "a directory"
			 : S_ISFIFO(st.st_mode) ? "a FIFO"
			 : S_ISCHR(st.st_mode)	? "a character device"
			 : S_ISSOCK(st.st_mode) ? "a socket"
			 : S_ISBLK(st.st_mode)	? "a block device"
						: "another kind of file");
		close(fd);
		return VD_ERR_CONFIG;
	}
	while (!out->truncated) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: read error: %s", path,
				 strerror(errno));
			close(fd);
			vd_buf_free(out);
			return VD_ERR_IO;
		}
		if (n == 0)
			break;
		vd_buf_append(out, chunk, (size_t)n);
	}
	close(fd);
	if (out->truncated) {
		if (max % ((size_t)1024 * 1024) == 0)
			snprintf(err, errlen, "%s: larger than %zu MiB", path,
				 max / ((size_t)1024 * 1024));
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
	/* units from largest to smallest: each may appear once, in order */
	static const struct {
		const char *name;
		double mul; /* seconds */
	} units[] = {{"d", 86400}, {"h", 3600}, {"ms", 0.001},
		     {"m", 60},	   {"s", 1},	{"us", 0.000001}};
	double total = 0, last = 0;
	int parts = 0;

	if (s == NULL || *s == '\0')
		return -1;
	while (*s) {
		char *end;
		double v, mul = 0;
		size_t u;
		if (!isdigit((unsigned char)*s) && *s != '.')
			return -1;
		errno = 0;
		v = strtod(s, &end);
		if (end == s || errno != 0 || !isfinite(v) || v < 0)
			return -1;
		s = end;
		for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
			size_t l = strlen(units[u].name);
			if (strncmp(s, units[u].name, l) == 0) {
				mul = units[u].mul;
				s += l;
				break;
			}
		}
		if (mul == 0)
			return -1;
		/* "1h1h", "5s5s", "1s1m": ambiguous, or a typo */
		if (parts > 0 && mul >= last)
			return VD_DURATION_UNIT_ORDER;
		last = mul;
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

static void
secret_add_one(const char *s)
{
	size_t i;
	if (s == NULL || strlen(s) < VD_SECRET_MIN)
		return;
	for (i = 0; i < nsecrets; i++)
		if (strcmp(secrets[i], s) == 0)
			return;
	secrets = vd_xreallocarray(secrets, nsecrets + 1, sizeof(*secrets));
	secrets[nsecrets++] = vd_xstrdup(s);
}

/* s as a JSON string body (cJSON's escapes), or NULL when that is s. */
static char *
json_escaped(const char *s)
{
	struct vd_buf b;
	bool changed = false;
	vd_buf_init(&b, 0);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		changed |= c == '"' || c == '\\' || c < 0x20;
		if (c == '"' || c == '\\')
			vd_buf_printf(&b, "\\%c", c);
		else if (c == '\n')
			vd_buf_puts(&b, "\\n");
		else if (c == '\t')
			vd_buf_puts(&b, "\\t");
		else if (c == '\r')
			vd_buf_puts(&b, "\\r");
		else if (c < 0x20)
			vd_buf_printf(&b, "\\u%04x", c);
		else
			vd_buf_append(&b, s, 1);
	}
	if (!changed) {
		vd_buf_free(&b);
		return NULL;
	}
	return vd_buf_steal(&b);
}

/* s as XML text (& < > " ' as entities), or NULL when that is s. */
static char *
xml_escaped(const char *s)
{
	struct vd_buf b;
	if (strpbrk(s, "&<>\"'") == NULL)
		return NULL;
	vd_buf_init(&b, 0);
	for (; *s; s++) {
		switch (*s) {
		case '&':
			vd_buf_puts(&b, "&amp;");
			break;
		case '<':
			vd_buf_puts(&b, "&lt;");
			break;
		case '>':
			vd_buf_puts(&b, "&gt;");
			break;
		case '"':
			vd_buf_puts(&b, "&quot;");
			break;
		case '\'':
			vd_buf_puts(&b, "&apos;");
			break;
		default:
			vd_buf_append(&b, s, 1);
		}
	}
	return vd_buf_steal(&b);
}

void
vd_secret_add(const char *s)
{
	char *e;
	if (s == NULL || strlen(s) < VD_SECRET_MIN)
		return;
	secret_add_one(s);
	/* outputs mask before they escape; these catch any that would not */
	e = json_escaped(s);
	secret_add_one(e);
	vd_free_secret(e);
	e = xml_escaped(s);
	secret_add_one(e);
	vd_free_secret(e);
}

char *
vd_base64(const void *data, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	char *out = vd_xmalloc((n + 2) / 3 * 4 + 1), *o = out;
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 |
			     p[i + 2];
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = tab[(v >> 6) & 63];
		*o++ = tab[v & 63];
	}
	if (i < n) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

/* Decodes standard base64 (padding optional); NULL when s is not that. */
static char *
base64_decode(const char *s, size_t *n)
{
	size_t len = strlen(s), i, o = 0;
	unsigned v = 0;
	int bits = 0;
	char *out;

	while (len > 0 && s[len - 1] == '=')
		len--;
	out = vd_xmalloc(len * 3 / 4 + 1);
	for (i = 0; i < len; i++) {
		const char *t = strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "abcdefghijklmnopqrstuvwxyz0123456789+/",
				       s[i]);
		if (t == NULL) {
			/* not NUL-terminated yet: no vd_free_secret (found by
			 * fuzz_mask) */
			explicit_bzero(out, len * 3 / 4 + 1);
			free(out);
			return NULL;
		}
		v = (v << 6) | (unsigned)(t - "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					      "abcdefghijklmnopqrstuvwxyz"
					      "0123456789+/");
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((v >> bits) & 0xff);
		}
	}
	out[o] = '\0';
	*n = o;
	return out;
}

void
vd_secret_add_basic(const char *user, const char *password)
{
	char *pair, *b64;
	vd_secret_add(password);
	if (password == NULL || *password == '\0')
		return;
	pair = vd_xasprintf("%s:%s", user ? user : "", password);
	b64 = vd_base64(pair, strlen(pair));
	vd_secret_add(pair);
	vd_secret_add(b64);
	vd_free_secret(pair);
	vd_free_secret(b64);
}

void
vd_secret_add_authorization(const char *value)
{
	const char *cred;
	char *dec, *colon;
	size_t n;

	if (value == NULL)
		return;
	vd_secret_add(value);
	/* "Scheme credentials": the credentials alone, as a target may
	 * echo them without the scheme */
	cred = value + strcspn(value, " \t");
	cred += strspn(cred, " \t");
	if (*cred == '\0')
		return;
	vd_secret_add(cred);
	if (strncasecmp(value, "Basic", 5) != 0 || cred == value)
		return;
	dec = base64_decode(cred, &n);
	if (dec == NULL)
		return;
	colon = memchr(dec, ':', n);
	if (colon && strlen(dec) == n) {
		*colon = '\0';
		vd_secret_add_basic(dec, colon + 1);
	}
	vd_free_secret(dec);
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
			const char *t = secrets[i];
			size_t l = 0;
			while (t[l] && s[l] == t[l])
				l++;
			/* the whole secret, or the start of one that a
			 * "%.80s" cut short: the text ends there or goes on
			 * with what follows a cut (a quote, "...", ")") */
			if (l > best &&
			    (t[l] == '\0' ||
			     (l >= VD_SECRET_PREFIX_MIN &&
			      (s[l] == '\0' || strchr("\"').,; \n", s[l])))))
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
vd_mask_brief(const char *s, size_t max)
{
	char *m = vd_mask(s ? s : ""), *out;
	size_t n = strlen(m), k;

	if (n <= max)
		return m;
	/* cut on a character boundary: back over at most 3 continuation
	 * bytes, never inside a UTF-8 sequence */
	n = max;
	for (k = 0; k < 3 && n > 0 && ((unsigned char)m[n] & 0xc0) == 0x80; k++)
		n--;
	if (((unsigned char)m[n] & 0xc0) == 0x80)
		n = max; /* not UTF-8 anyway: the reason's fixer sees to it */
	out = vd_xasprintf("%.*s...", (int)n, m);
	free(m);
	return out;
}

const char *
vd_mask_brief_to(const char *s, size_t max, char *out, size_t outlen)
{
	char *m = vd_mask_brief(s, max);
	snprintf(out, outlen, "%s", m);
	vd_free_secret(m);
	return out;
}

char *
vd_xvasprintf_masked(const char *fmt, va_list ap)
{
	char *raw = vd_xvasprintf(fmt, ap), *m = vd_mask(raw);
	vd_free_secret(raw);
	return m;
}

/* Percent-decodes n bytes of s (as curl does with URL user info). */
static char *
pct_decode(const char *s, size_t n)
{
	char *out = vd_xmalloc(n + 1);
	size_t i, o = 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n &&
		    isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2])) {
			char hex[3] = {s[i + 1], s[i + 2], '\0'};
			out[o++] = (char)strtol(hex, NULL, 16);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

bool
vd_query_name_is_secret(const char *name, size_t n)
{
	static const char *const words[] = {
		"token", "key",	 "pass",       "pwd",	  "secret", "sig",
		"auth",	 "cred", "credential", "session", NULL};
	char low[128];
	size_t i;

	if (n >= sizeof(low))
		n = sizeof(low) - 1;
	for (i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[n] = '\0';
	for (i = 0; words[i]; i++)
		if (strstr(low, words[i]))
			return true;
	return false;
}

/* Appends the query q (n bytes, no '?') to b with the values of
 * secret-looking parameters replaced by *** and registered. */
static void
mask_query(struct vd_buf *b, const char *q, size_t n)
{
	const char *end = q + n;
	while (q < end) {
		const char *amp = memchr(q, '&', (size_t)(end - q));
		const char *pend = amp ? amp : end;
		const char *eq = memchr(q, '=', (size_t)(pend - q));
		if (eq && vd_query_name_is_secret(q, (size_t)(eq - q)) &&
		    eq + 1 < pend) {
			char *raw =
				vd_xstrndup(eq + 1, (size_t)(pend - eq - 1));
			char *dec = pct_decode(raw, strlen(raw));
			vd_secret_add(raw);
			vd_secret_add(dec);
			vd_free_secret(raw);
			vd_free_secret(dec);
			vd_buf_append(b, q, (size_t)(eq + 1 - q));
			vd_buf_puts(b, "***");
		} else {
			vd_buf_append(b, q, (size_t)(pend - q));
		}
		if (amp == NULL)
			break;
		vd_buf_append(b, "&", 1);
		q = amp + 1;
	}
}

char *
vd_mask_url(const char *url)
{
	const char *auth, *at, *colon, *end, *p, *q, *frag;
	struct vd_buf b;
	size_t n;
	char *m;

	if (url == NULL)
		return NULL;
	vd_buf_init(&b, 0);
	p = url;
	/* where the authority starts: after "scheme:" and its slashes
	 * (libcurl also takes "http:/h" and "http:\\h"), or at the start
	 * when no slash follows ("user:pw@host") */
	auth = url;
	n = strspn(url, "abcdefghijklmnopqrstuvwxyz"
			"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
	if (n > 0 && url[n] == ':' && strspn(url + n + 1, "/\\") > 0)
		auth = url + n + 1 + strspn(url + n + 1, "/\\");
	end = auth + strcspn(auth, "/?#");
	at = NULL;
	for (const char *c = auth; c < end; c++)
		if (*c == '@')
			at = c;
	colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (colon != NULL) {
		char *user = pct_decode(auth, (size_t)(colon - auth));
		char *pw = vd_xstrndup(colon + 1, (size_t)(at - colon - 1));
		char *dpw = pct_decode(pw, strlen(pw));
		vd_secret_add(pw);
		/* curl sends the decoded pair as Basic credentials */
		vd_secret_add_basic(user, dpw);
		vd_free_secret(user);
		vd_free_secret(pw);
		vd_free_secret(dpw);
		vd_buf_append(&b, url, (size_t)(colon - url));
		vd_buf_puts(&b, ":***");
		p = at;
	}
	q = strchr(p, '?');
	if (q != NULL) {
		frag = strchr(q, '#');
		vd_buf_append(&b, p, (size_t)(q + 1 - p));
		mask_query(&b, q + 1,
			   frag ? (size_t)(frag - q - 1) : strlen(q + 1));
		if (frag)
			vd_buf_puts(&b, frag);
	} else {
		vd_buf_puts(&b, p);
	}
	m = vd_mask(b.data);
	vd_buf_free(&b);
	return m;
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

void
vd_secret_add_header(const char *name, const char *value)
{
	if (strcasecmp(name, "Authorization") == 0 ||
	    strcasecmp(name, "Proxy-Authorization") == 0)
		vd_secret_add_authorization(value);
	else if (vd_header_is_secret(name))
		vd_secret_add(value);
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

int
vd_utf8_seq(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
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

char *
vd_utf8_fix(const char *s)
{
	struct vd_buf b;
	vd_buf_init(&b, 0);
	while (*s) {
		int n = vd_utf8_seq(s);
		if (n == 0) {
			vd_buf_puts(&b, "\xef\xbf\xbd");
			s++;
		} else {
			vd_buf_append(&b, s, (size_t)n);
			s += n;
		}
	}
	return vd_buf_steal(&b);
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

const char *
vd_strerror(int err)
{
	switch (err) {
	case VD_OK:
		return "success";
	case VD_ERR_CONFIG:
		return "invalid configuration";
	case VD_ERR_IO:
		return "input/output error";
	case VD_ERR_SYSTEM:
		return "system error";
	case VD_ERR_USAGE:
		return "usage error";
	}
	return "unknown error";
}
