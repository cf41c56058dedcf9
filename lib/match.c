/*
 * match.c - the one matcher (see match.h): PCRE2 with match, depth and
 * heap limits (JIT where the platform has it), and the text expectations
 * every check type shares. Depends on libc, PCRE2, cJSON and cfg.h only.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "match.h"
#include "util.h"

struct vd_regex {
	pcre2_code *code;
	char *src;
	unsigned refs; /* atomic: searches off the loop hold one */
};

/*
 * Each thread that searches has its own match context and JIT stack (a JIT
 * stack serves one search at a time). They live until the thread ends;
 * the loop thread's until exit.
 */
struct searcher {
	pcre2_match_context *ctx;
	pcre2_jit_stack *stack;
};

static pthread_key_t searcher_key;
static pthread_once_t searcher_once = PTHREAD_ONCE_INIT;

static void
searcher_free(void *p)
{
	struct searcher *s = p;
	pcre2_jit_stack_free(s->stack);
	pcre2_match_context_free(s->ctx);
	free(s);
}

static void
searcher_key_init(void)
{
	if (pthread_key_create(&searcher_key, searcher_free) != 0)
		abort();
}

static pcre2_match_context *
thread_match_ctx(void)
{
	struct searcher *s;

	pthread_once(&searcher_once, searcher_key_init);
	s = pthread_getspecific(searcher_key);
	if (s != NULL)
		return s->ctx;
	s = vd_xcalloc(1, sizeof(*s));
	s->ctx = pcre2_match_context_create(NULL);
	s->stack = pcre2_jit_stack_create((size_t)32 * 1024, VD_REGEX_JIT_STACK,
					  NULL);
	if (s->ctx == NULL || s->stack == NULL)
		abort();
	pcre2_set_match_limit(s->ctx, VD_REGEX_MATCH_LIMIT);
	pcre2_set_depth_limit(s->ctx, VD_REGEX_DEPTH_LIMIT);
	pcre2_set_heap_limit(s->ctx, VD_REGEX_HEAP_LIMIT);
	pcre2_jit_stack_assign(s->ctx, NULL, s->stack);
	if (pthread_setspecific(searcher_key, s) != 0)
		abort();
	return s->ctx;
}

struct vd_regex *
vd_regex_new(const char *src, unsigned flags, char *err, size_t errlen)
{
	pcre2_compile_context *cc;
	pcre2_code *code;
	struct vd_regex *re;
	PCRE2_SIZE off = 0;
	int ec = 0;
	size_t n = strlen(src);

	if (n > VD_REGEX_MAX_PATTERN) {
		snprintf(err, errlen, "longer than %d bytes",
			 VD_REGEX_MAX_PATTERN);
		return NULL;
	}
	cc = pcre2_compile_context_create(NULL);
	if (cc == NULL)
		abort();
	pcre2_set_max_pattern_length(cc, VD_REGEX_MAX_PATTERN);
	/* Bytes, always: (*UTF) in a pattern would make invalid UTF-8 in a
	 * body an error instead of a mismatch. As POSIX regexec did, "."
	 * matches a newline, except where lines matter (MULTILINE). */
	code = pcre2_compile((PCRE2_SPTR)src, n,
			     PCRE2_NEVER_UTF | ((flags & VD_REGEX_MULTILINE)
							? PCRE2_MULTILINE
							: PCRE2_DOTALL),
			     &ec, &off, cc);
	pcre2_compile_context_free(cc);
	if (code == NULL) {
		PCRE2_UCHAR msg[160];
		if (pcre2_get_error_message(ec, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "error %d", ec);
		snprintf(err, errlen, "%s at offset %zu", (char *)msg,
			 (size_t)off);
		return NULL;
	}
	/* Without JIT (not built, or no executable memory) the interpreter
	 * runs under the same limits. */
	(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	re = vd_xcalloc(1, sizeof(*re));
	re->code = code;
	re->src = vd_xstrdup(src);
	re->refs = 1;
	return re;
}

struct vd_regex *
vd_regex_ref(const struct vd_regex *cre)
{
	struct vd_regex *re = (struct vd_regex *)cre;
	__atomic_add_fetch(&re->refs, 1, __ATOMIC_RELAXED);
	return re;
}

void
vd_regex_free(struct vd_regex *re)
{
	if (re == NULL ||
	    __atomic_sub_fetch(&re->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	pcre2_code_free(re->code);
	free(re->src);
	free(re);
}

const char *
vd_regex_source(const struct vd_regex *re)
{
	return re->src;
}

static const char *
limit_name(int rc)
{
	switch (rc) {
	case PCRE2_ERROR_MATCHLIMIT:
		return "match step limit";
	case PCRE2_ERROR_DEPTHLIMIT:
		return "backtracking depth limit";
	case PCRE2_ERROR_HEAPLIMIT:
		return "backtracking memory limit";
	case PCRE2_ERROR_JIT_STACKLIMIT:
		return "JIT stack limit";
	case PCRE2_ERROR_NOMEMORY:
		return "memory limit";
	default:
		return "an internal matching error";
	}
}

static enum vd_match
search(const struct vd_regex *re, const char *s, size_t len, char **out,
       const char **limit)
{
	pcre2_match_data *md;
	enum vd_match m;
	int rc;

	if (out)
		*out = NULL;
	if (limit)
		*limit = NULL;
	if (s == NULL) {
		s = "";
		len = 0;
	}
	md = pcre2_match_data_create_from_pattern(re->code, NULL);
	if (md == NULL)
		abort();
	rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, 0, 0, md,
			 thread_match_ctx());
	if (rc >= 0) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
		uint32_t np = pcre2_get_ovector_count(md);
		m = VD_MATCH_YES;
		if (out) {
			/* the first group that took part, else the match */
			uint32_t g = (rc > 1 && np > 1 && ov[2] != PCRE2_UNSET)
					     ? 1
					     : 0;
			size_t a = ov[2 * (size_t)g], b = ov[2 * (size_t)g + 1];
			*out = vd_xstrndup(s + a, b >= a ? b - a : 0);
		}
	} else if (rc == PCRE2_ERROR_NOMATCH || rc == PCRE2_ERROR_PARTIAL) {
		m = VD_MATCH_NO;
	} else {
		m = VD_MATCH_LIMIT;
		if (limit)
			*limit = limit_name(rc);
	}
	pcre2_match_data_free(md);
	return m;
}

enum vd_match
vd_regex_search(const struct vd_regex *re, const char *s, size_t len,
		const char **limit)
{
	return search(re, s, len, NULL, limit);
}

enum vd_match
vd_regex_capture(const struct vd_regex *re, const char *s, size_t len,
		 char **out, const char **limit)
{
	return search(re, s, len, out, limit);
}

/* --- text expectations ------------------------------------------------ */

static int
parse_error(struct vd_cfg *c, const char *key, unsigned allow)
{
	return vd_cfg_error(
		c, key,
		"expected %s%s{\"equals\"|\"contains\"|\"regex\": string}",
		(allow & VD_TEXT_ALLOW_BOOL)
			? "true (present), false (absent), "
			: "",
		(allow & VD_TEXT_ALLOW_STRING)
			? ((allow & VD_TEXT_STRING_CONTAINS)
				   ? "a string (contained), or "
				   : "a string (equal), or ")
			: "");
}

int
vd_text_match_parse(struct vd_cfg *c, const char *key, const cJSON *v,
		    unsigned allow, struct vd_text_match *m)
{
	const cJSON *op;
	char err[200], sub[300];

	memset(m, 0, sizeof(*m));
	if ((allow & VD_TEXT_ALLOW_BOOL) && cJSON_IsBool(v)) {
		m->rule = cJSON_IsTrue(v) ? VD_TEXT_PRESENT : VD_TEXT_ABSENT;
		return 0;
	}
	if ((allow & VD_TEXT_ALLOW_STRING) && cJSON_IsString(v)) {
		m->rule = (allow & VD_TEXT_STRING_CONTAINS) ? VD_TEXT_CONTAINS
							    : VD_TEXT_EQUALS;
		m->text = vd_xstrdup(v->valuestring);
		return 0;
	}
	if (!cJSON_IsObject(v) || cJSON_GetArraySize(v) != 1 ||
	    !cJSON_IsString(v->child))
		return parse_error(c, key, allow);
	op = v->child;
	if (strcmp(op->string, "equals") == 0) {
		m->rule = VD_TEXT_EQUALS;
	} else if (strcmp(op->string, "contains") == 0) {
		m->rule = VD_TEXT_CONTAINS;
	} else if (strcmp(op->string, "regex") == 0) {
		m->rule = VD_TEXT_REGEX;
		m->re = vd_regex_new(op->valuestring, 0, err, sizeof(err));
		if (m->re == NULL) {
			snprintf(sub, sizeof(sub), "%s.regex", key);
			return vd_cfg_error(
				c, sub, "invalid regular expression: %s", err);
		}
	} else {
		return parse_error(c, key, allow);
	}
	m->text = vd_xstrdup(op->valuestring);
	return 0;
}

void
vd_text_match_release(struct vd_text_match *m)
{
	if (m == NULL)
		return;
	free(m->text);
	vd_regex_free(m->re);
	memset(m, 0, sizeof(*m));
}

enum vd_match
vd_text_match_judge(const struct vd_text_match *m, const char *s, size_t len,
		    char *why, size_t whylen)
{
	const char *limit = NULL;
	enum vd_match r;

	if (whylen)
		why[0] = '\0';
	if (m->rule == VD_TEXT_ABSENT) {
		if (s == NULL)
			return VD_MATCH_YES;
		snprintf(why, whylen, "present, expected absent");
		return VD_MATCH_NO;
	}
	if (s == NULL) {
		snprintf(why, whylen, "missing");
		return VD_MATCH_NO;
	}
	switch (m->rule) {
	case VD_TEXT_PRESENT:
	case VD_TEXT_ABSENT:
		return VD_MATCH_YES;
	case VD_TEXT_EQUALS:
		if (strlen(m->text) == len && memcmp(m->text, s, len) == 0)
			return VD_MATCH_YES;
		snprintf(why, whylen, "expected \"%.80s\"", m->text);
		return VD_MATCH_NO;
	case VD_TEXT_CONTAINS:
		if (memmem(s, len, m->text, strlen(m->text)) != NULL)
			return VD_MATCH_YES;
		snprintf(why, whylen, "expected it to contain \"%.80s\"",
			 m->text);
		return VD_MATCH_NO;
	case VD_TEXT_REGEX:
		r = vd_regex_search(m->re, s, len, &limit);
		if (r == VD_MATCH_NO)
			snprintf(why, whylen, "expected a match for /%.80s/",
				 m->text);
		else if (r == VD_MATCH_LIMIT)
			snprintf(why, whylen,
				 "matching /%.80s/ hit the %s (the subject "
				 "is too costly for this pattern)",
				 m->text, limit);
		return r;
	}
	return VD_MATCH_NO;
}

void
vd_text_match_describe(const struct vd_text_match *m, char *buf, size_t len)
{
	switch (m->rule) {
	case VD_TEXT_PRESENT:
		snprintf(buf, len, "present");
		break;
	case VD_TEXT_ABSENT:
		snprintf(buf, len, "absent");
		break;
	case VD_TEXT_EQUALS:
		snprintf(buf, len, "\"%.80s\"", m->text);
		break;
	case VD_TEXT_CONTAINS:
		snprintf(buf, len, "to contain \"%.80s\"", m->text);
		break;
	case VD_TEXT_REGEX:
		snprintf(buf, len, "a match for /%.80s/", m->text);
		break;
	}
}
