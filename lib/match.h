/*
 * match.h - the one matcher: regular expressions with bounded time and
 * memory (PCRE2), and text expectations ("a string, or {equals|contains|
 * regex}") parsed and judged the same way for every check type.
 * Depends on libc, PCRE2, cJSON and cfg.h only.
 */
#ifndef VD_MATCH_H
#define VD_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

struct vd_cfg;

/* Limits that bound one search, whatever the pattern and the subject. */
#define VD_REGEX_MAX_PATTERN 4096    /* bytes of pattern source */
#define VD_REGEX_MATCH_LIMIT 1000000 /* PCRE2 match_limit */
#define VD_REGEX_DEPTH_LIMIT 10000   /* PCRE2 depth_limit (backtracking) */
#define VD_REGEX_HEAP_LIMIT  8192    /* KiB of backtracking memory */
#define VD_REGEX_JIT_STACK                                                     \
	((size_t)1024 * 1024) /* bytes, per searching thread */

/* A compiled pattern. Immutable once made: one may be searched from
 * several threads at once. */
struct vd_regex;

/* ^ and $ also match at line breaks and . does not match a newline
 * (output of commands); otherwise . matches any byte. */
#define VD_REGEX_MULTILINE 0x1

/*
 * Compiles src (PCRE2 syntax, bytes, no UTF mode) with flags
 * (VD_REGEX_*). Returns the pattern, or
 * NULL with a one-line reason in err ("missing closing parenthesis at
 * offset 3", "longer than 4096 bytes", ...). Compiling is bounded by
 * PCRE2's own limits (compiled size, nesting), so no pattern can take the
 * machine at load.
 */
struct vd_regex *vd_regex_new(const char *src, unsigned flags, char *err,
			      size_t errlen);
/* Drops a reference (the one vd_regex_new() gave, or one from
 * vd_regex_ref()); the last one frees. NULL does nothing. */
void vd_regex_free(struct vd_regex *re);
/* Another reference, for a search that may outlive the pattern's owner
 * (a worker thread still searching after its check was freed). */
struct vd_regex *vd_regex_ref(const struct vd_regex *re);
/* The source it was compiled from (owned by re). */
const char *vd_regex_source(const struct vd_regex *re);

enum vd_match {
	VD_MATCH_NO = 0,
	VD_MATCH_YES = 1,
	/* the search hit a limit: no answer. *limit names it */
	VD_MATCH_LIMIT = -1,
};

/*
 * Searches s[0, len) for re (anywhere, as regexec does). Returns
 * VD_MATCH_YES or VD_MATCH_NO, or VD_MATCH_LIMIT with *limit set to a
 * phrase naming the limit ("match limit", "backtracking depth limit", ...)
 * when the subject made the search too costly. Thread-safe.
 */
enum vd_match vd_regex_search(const struct vd_regex *re, const char *s,
			      size_t len, const char **limit);

/*
 * Like vd_regex_search, and on a match copies the first capture group
 * (else the whole match) into a new string in *out. Returns as
 * vd_regex_search; *out is NULL unless VD_MATCH_YES.
 */
enum vd_match vd_regex_capture(const struct vd_regex *re, const char *s,
			       size_t len, char **out, const char **limit);

/* --- text expectations ------------------------------------------------ */

enum vd_text_rule {
	VD_TEXT_PRESENT, /* true */
	VD_TEXT_ABSENT,	 /* false */
	VD_TEXT_EQUALS,	 /* "x" or {"equals": "x"} */
	VD_TEXT_CONTAINS,
	VD_TEXT_REGEX,
};

/* What a key accepts besides {"equals"|"contains"|"regex": string}. */
#define VD_TEXT_ALLOW_STRING 0x1 /* a bare string: equals */
#define VD_TEXT_ALLOW_BOOL   0x2 /* true: present, false: absent */
#define VD_TEXT_STRING_CONTAINS                                                \
	0x4 /* a bare string means contains, not equals */

struct vd_text_match {
	enum vd_text_rule rule;
	char *text;	     /* equals/contains text, or the regex source */
	struct vd_regex *re; /* VD_TEXT_REGEX */
};

/*
 * Parses v (the value of key in c) into m. allow says which short forms
 * are accepted. Returns 0, or VD_ERR_CONFIG with an error at c.key naming
 * what is expected. m needs vd_text_match_release() either way.
 */
int vd_text_match_parse(struct vd_cfg *c, const char *key, const cJSON *v,
			unsigned allow, struct vd_text_match *m);
void vd_text_match_release(struct vd_text_match *m);

/*
 * Judges s (s may be NULL: absent; len bytes otherwise). Returns
 * VD_MATCH_YES, VD_MATCH_NO with why filled ("missing", "does not contain
 * \"x\"", "does not match /re/", ...), or VD_MATCH_LIMIT with why naming
 * the limit. why is always a complete phrase without the subject.
 */
enum vd_match vd_text_match_judge(const struct vd_text_match *m, const char *s,
				  size_t len, char *why, size_t whylen);

/* "contains \"x\"", "a match for /re/", "\"x\"", "present", "absent". */
void vd_text_match_describe(const struct vd_text_match *m, char *buf,
			    size_t len);

/* --- operators on JSON values (probe/expect.c) ----------------------- */

/* Equal JSON values: numbers by value (1 equals 1.0), everything else
 * with cJSON_Compare (case-sensitive). */
bool vd_json_equal(const cJSON *a, const cJSON *b);
/* v on one line, masked, then cut to 60 bytes plus "..."; caller frees. */
char *vd_json_brief(const cJSON *v);

/*
 * An expected JSON value: a scalar or a list means equals (numbers by
 * value); an object is a set of operators that must all hold: equals, not,
 * lt, le, gt, ge (numbers; durations and sizes as strings compare too),
 * exists, contains (substring, or element of an array), regex, one_of,
 * type, length (a number or an operator object), any, all (an operator
 * object for the elements of an array).
 */
struct vd_expect;

/* Parses v (the value of key in c). Returns 0, or VD_ERR_CONFIG with an
 * error naming the operator's place (*out is then NULL). */
int vd_expect_parse(struct vd_cfg *c, const char *key, const cJSON *v,
		    struct vd_expect **out);
/* NULL does nothing. */
void vd_expect_free(struct vd_expect *e);
/* True when {"exists": false} is among the operators. */
bool vd_expect_wants_absent(const struct vd_expect *e);
/*
 * Judges got (NULL: absent). Returns VD_MATCH_YES, VD_MATCH_NO with why
 * saying what was found ("0 is not > 0", "missing", "got 1, expected 2",
 * "element 2: 0 is not > 0"), or VD_MATCH_LIMIT (a regex hit a limit).
 */
enum vd_match vd_expect_judge(const struct vd_expect *e, const cJSON *got,
			      char *why, size_t len);

#endif
