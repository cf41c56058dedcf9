/*
 * env_file.c - the "env_file" check: a KEY=VALUE file (.env) has its
 * required keys set, no placeholder values and no forbidden keys. Values
 * are never printed, kept or logged: reasons name keys only. Knows nothing
 * of suites, reports or exporters.
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/cfg.h"
#include "../../lib/util.h"
#include "checks.h"

struct env_conf {
	char *path;
	char **require;
	size_t nrequire;
	char **forbid;
	size_t nforbid;
	char **placeholders; /* extra glob patterns, case-insensitive */
	size_t nplaceholders;
	bool check_all; /* placeholders refused in every key, not only
			 * the required ones */
};

/* One key of the file. The value itself is never stored. */
struct env_entry {
	char *key;
	int line;
	bool empty;
	bool placeholder;
};

struct env_parsed {
	struct env_entry *e;
	size_t n, cap;
	struct vd_buf bad; /* malformed-line findings, "; "-separated */
	size_t nbad;
};

/* --- placeholders --- */

/* Globs matched against the whole value, case-insensitively. */
static const char *const builtin_placeholders[] = {
	/* anywhere in the value */
	"*changeme*",
	"*change-me*",
	"*change_me*",
	"*change[ _-]this*",
	"*replaceme*",
	"*replace[-_]me*",
	"*your[-_ ]*[-_ ]here*",
	/* the whole value */
	"todo",
	"todo[: ]*",
	"tbd",
	"fixme",
	"placeholder",
	"...",
	NULL,
};

static bool
isalnum_ascii(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	       (c >= 'a' && c <= 'z');
}

/* "<...>" anywhere: <password>, <your token> */
static bool
has_angle_placeholder(const char *v)
{
	const char *p, *q;
	for (p = strchr(v, '<'); p; p = strchr(p + 1, '<')) {
		for (q = p + 1; *q && (isalnum_ascii(*q) || strchr(" _.-", *q));
		     q++)
			;
		if (*q == '>' && q > p + 1)
			return true;
	}
	return false;
}

/* "xxx", "XXXXXXXX", or a run of six x's inside: sk-xxxxxxxxxxxx */
static bool
has_x_placeholder(const char *v)
{
	size_t run = 0, i, len = strlen(v);
	bool all = len >= 3;
	for (i = 0; i < len; i++) {
		if (v[i] == 'x' || v[i] == 'X') {
			if (++run >= 6)
				return true;
		} else {
			run = 0;
			all = false;
		}
	}
	return all;
}

static bool
is_placeholder(const struct env_conf *ec, const char *v)
{
	size_t i;
	if (has_angle_placeholder(v) || has_x_placeholder(v))
		return true;
	for (i = 0; builtin_placeholders[i]; i++)
		if (fnmatch(builtin_placeholders[i], v, FNM_CASEFOLD) == 0)
			return true;
	for (i = 0; i < ec->nplaceholders; i++)
		if (fnmatch(ec->placeholders[i], v, FNM_CASEFOLD) == 0)
			return true;
	return false;
}

/* --- parsing KEY=VALUE --- */

static bool
key_char(char c, bool first)
{
	if (c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
		return true;
	return !first && ((c >= '0' && c <= '9') || c == '.' || c == '-');
}

static void
bad_line(struct env_parsed *ep, int line, const char *what)
{
	if (ep->nbad++ < VD_CHECK_MAX_FINDINGS)
		vd_buf_printf(&ep->bad, "%sline %d: %s",
			      ep->bad.len ? "; " : "", line, what);
}

static void
add_entry(struct env_parsed *ep, const struct env_conf *ec, const char *key,
	  size_t klen, int line, const char *val)
{
	struct env_entry *e = NULL;
	size_t i;

	for (i = 0; i < ep->n; i++)
		if (strlen(ep->e[i].key) == klen &&
		    memcmp(ep->e[i].key, key, klen) == 0)
			e = &ep->e[i]; /* the last assignment wins */
	if (e == NULL) {
		if (ep->n == ep->cap) {
			ep->cap = ep->cap ? ep->cap * 2 : 16;
			ep->e = vd_xreallocarray(ep->e, ep->cap,
						 sizeof(*ep->e));
		}
		e = &ep->e[ep->n++];
		e->key = vd_xstrndup(key, klen);
	}
	e->line = line;
	e->empty = val == NULL || *val == '\0';
	e->placeholder = !e->empty && is_placeholder(ec, val);
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * A quoted value starting after the opening quote q at p: copies the value
 * into scratch (*o bytes) and returns the position after the closing quote,
 * or NULL when the quote never closes. Double quotes take \n \t \r and
 * \<char> escapes; single quotes are literal. Either may span lines
 * (counted in *line).
 */
static const char *
parse_quoted(const char *p, const char *end, char q, char *scratch, size_t *o,
	     int *line)
{
	while (p < end) {
		if (*p == q)
			return p + 1;
		if (q == '"' && *p == '\\' && p + 1 < end) {
			p++;
			if (*p == '\n')
				(*line)++;
			scratch[(*o)++] = *p == 'n'   ? '\n'
					  : *p == 't' ? '\t'
					  : *p == 'r' ? '\r'
						      : *p;
			p++;
			continue;
		}
		if (*p == '\n')
			(*line)++;
		scratch[(*o)++] = *p++;
	}
	return NULL;
}

/* A bare value from p to eol: a '#' after a blank (or first) starts a
 * comment; trailing blanks are dropped. Returns its length in scratch. */
static size_t
parse_bare(const char *p, const char *eol, char *scratch)
{
	const char *ve = eol, *h;
	for (h = p; h < ve; h++)
		if (*h == '#' && (h == p || is_blank(h[-1]))) {
			ve = h;
			break;
		}
	while (ve > p && (is_blank(ve[-1]) || ve[-1] == '\r'))
		ve--;
	memcpy(scratch, p, (size_t)(ve - p));
	return (size_t)(ve - p);
}

/* Blanks around a value do not make one: "  " counts as empty. */
static char *
trim_value(char *s, size_t len)
{
	char *e = s + len;
	s[len] = '\0';
	while (*s && (is_blank(*s) || *s == '\n' || *s == '\r'))
		s++;
	while (e > s && (is_blank(e[-1]) || e[-1] == '\n' || e[-1] == '\r'))
		e--;
	*e = '\0';
	return s;
}

static const char *
line_end(const char *p, const char *end)
{
	const char *eol = memchr(p, '\n', (size_t)(end - p));
	return eol ? eol : end;
}

/*
 * Parses text (len bytes) into ep. Decoded values go through scratch
 * (len + 1 bytes, wiped here and by the caller) and are judged at once,
 * never kept.
 */
static void
env_parse(const struct env_conf *ec, const char *text, size_t len,
	  char *scratch, struct env_parsed *ep)
{
	const char *p = text, *end = text + len, *eol, *key;
	int line = 0;

	if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	for (; p < end; p = eol < end ? eol + 1 : end) {
		size_t klen = 0, o = 0;
		int first = ++line;

		eol = line_end(p, end);
		while (p < eol && is_blank(*p))
			p++;
		if (p == eol || *p == '#' || (*p == '\r' && p + 1 == eol))
			continue;
		if (eol - p > 7 && memcmp(p, "export", 6) == 0 &&
		    is_blank(p[6])) {
			p += 7;
			while (p < eol && is_blank(*p))
				p++;
		}
		key = p;
		while (p < eol && key_char(*p, p == key))
			p++;
		klen = (size_t)(p - key);
		while (p < eol && is_blank(*p))
			p++;
		if (klen == 0 || (p < eol && *p != '=' && *p != '\r')) {
			bad_line(ep, first, "not KEY=VALUE");
			continue;
		}
		if (p == eol || *p == '\r') {
			/* "KEY" alone: set, without a value */
			add_entry(ep, ec, key, klen, first, NULL);
			continue;
		}
		p++; /* '=' */
		while (p < eol && is_blank(*p))
			p++;
		if (p < eol && (*p == '"' || *p == '\'')) {
			p = parse_quoted(p + 1, end, *p, scratch, &o, &line);
			if (p == NULL) {
				bad_line(ep, first, "unterminated quote");
				explicit_bzero(scratch, o);
				return;
			}
			eol = line_end(p, end);
		} else {
			o = parse_bare(p, eol, scratch);
		}
		add_entry(ep, ec, key, klen, first, trim_value(scratch, o));
		explicit_bzero(scratch, o);
	}
}

static const struct env_entry *
find_entry(const struct env_parsed *ep, const char *key)
{
	size_t i;
	for (i = 0; i < ep->n; i++)
		if (strcmp(ep->e[i].key, key) == 0)
			return &ep->e[i];
	return NULL;
}

static bool
in_list(char **list, size_t n, const char *s)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

static void
finding(struct vd_buf *b, size_t *count, const char *key, const char *what)
{
	if ((*count)++ < VD_CHECK_MAX_FINDINGS)
		vd_buf_printf(b, "%s%s %s", b->len ? "; " : "", key, what);
}

static void
env_start(struct vd_attempt *att)
{
	const struct vd_check *chk = att->check;
	const struct env_conf *ec = chk->conf;
	struct env_parsed ep;
	struct vd_buf f;
	size_t i, nf, len = 0;
	char *text = NULL, *scratch;

	if (!vd_check_file_read(att, ec->path, chk->max_body, &text, &len))
		return;
	memset(&ep, 0, sizeof(ep));
	vd_buf_init(&ep.bad, 0);
	scratch = vd_xmalloc(len + 1);
	env_parse(ec, text, len, scratch, &ep);
	vd_check_file_free(scratch, len); /* wipes len + 1 bytes */
	vd_check_file_free(text, len);

	vd_buf_init(&f, 0);
	nf = ep.nbad;
	vd_buf_puts(&f, ep.bad.data);
	for (i = 0; i < ec->nrequire; i++) {
		const struct env_entry *e = find_entry(&ep, ec->require[i]);
		if (e == NULL)
			finding(&f, &nf, ec->require[i], "missing");
		else if (e->empty)
			finding(&f, &nf, ec->require[i], "empty");
		else if (e->placeholder)
			finding(&f, &nf, ec->require[i], "is a placeholder");
	}
	for (i = 0; i < ec->nforbid; i++)
		if (find_entry(&ep, ec->forbid[i]))
			finding(&f, &nf, ec->forbid[i], "is set (forbidden)");
	for (i = 0; ec->check_all && i < ep.n; i++)
		if (ep.e[i].placeholder &&
		    !in_list(ec->require, ec->nrequire, ep.e[i].key))
			finding(&f, &nf, ep.e[i].key, "is a placeholder");
	vd_result_fact_num(att->result, "keys", (double)ep.n);
	vd_check_findings_finish(att, &f, nf, "%zu keys, %zu required present",
				 ep.n, ec->nrequire);
	vd_buf_free(&f);
	for (i = 0; i < ep.n; i++)
		free(ep.e[i].key);
	free(ep.e);
	vd_buf_free(&ep.bad);
}

static void
env_cancel(struct vd_attempt *att)
{
	(void)att; /* everything happens inside start */
}

static void
env_free(void *p)
{
	struct env_conf *ec = p;
	if (ec == NULL)
		return;
	free(ec->path);
	vd_strlist_free(ec->require, ec->nrequire);
	vd_strlist_free(ec->forbid, ec->nforbid);
	vd_strlist_free(ec->placeholders, ec->nplaceholders);
	free(ec);
}

static int
check_keys(struct vd_cfg *c, const char *name, char **keys, size_t n)
{
	size_t i;
	const char *k;
	for (i = 0; i < n; i++) {
		for (k = keys[i]; *k && key_char(*k, k == keys[i]); k++)
			;
		if (*k || k == keys[i])
			return vd_cfg_error(c, name,
					    "\"%s\" is not a variable name "
					    "(letters, digits, _ . -)",
					    keys[i]);
	}
	return 0;
}

static int
env_parse_conf(struct vd_check *chk, struct vd_cfg *c)
{
	struct env_conf *ec = vd_xcalloc(1, sizeof(*ec));
	int r;

	chk->conf = ec;
	ec->check_all = true;
	r = vd_check_file_path(c, &ec->path);
	if (!r)
		r = vd_cfg_strlist(c, "require", &ec->require, &ec->nrequire);
	if (!r)
		r = check_keys(c, "require", ec->require, ec->nrequire);
	if (!r)
		r = vd_cfg_strlist(c, "forbid", &ec->forbid, &ec->nforbid);
	if (!r)
		r = check_keys(c, "forbid", ec->forbid, ec->nforbid);
	if (!r)
		r = vd_cfg_strlist(c, "placeholders", &ec->placeholders,
				   &ec->nplaceholders);
	if (!r)
		r = vd_cfg_bool(c, "check_all", &ec->check_all);
	if (!r) {
		free(chk->target);
		chk->target = vd_mask(ec->path);
	}
	return r;
}

static const struct vd_check_key env_file_keys[] = {
	{"path", VD_KEY_REQUIRED},
	{"require", 0},
	{"forbid", 0},
	{"placeholders", 0},
	{"check_all", 0},
	{"max_body", 0},
	{NULL, 0}, /* the end */
};

const struct vd_check_type vd_check_env_file = {
	.name = "env_file",
	.parse = env_parse_conf,
	.start = env_start,
	.cancel = env_cancel,
	.free = env_free,
	.keys = env_file_keys,
};
