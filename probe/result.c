/*
 * result.c - results, facts, names of statuses/reasons/phases, and the
 * parts of struct vd_check every module shares. Depends on util.h.
 */
#include <stdlib.h>
#include <string.h>

#include "../lib/cfg.h"
#include "probe.h"
#include "../lib/util.h"

const char *
vd_status_name(enum vd_status st)
{
	switch (st) {
	case VD_STATUS_PASS:
		return "pass";
	case VD_STATUS_FAIL:
		return "fail";
	case VD_STATUS_ERROR:
		return "error";
	case VD_STATUS_SKIPPED:
		return "skipped";
	}
	return "error";
}

static const char *const reason_names[VD_REASON_COUNT] = {
	[VD_REASON_NONE] = "none",
	[VD_REASON_TIMEOUT] = "timeout",
	[VD_REASON_DNS] = "dns",
	[VD_REASON_REFUSED] = "refused",
	[VD_REASON_CONNECT] = "connect",
	[VD_REASON_TLS] = "tls",
	[VD_REASON_PROTOCOL] = "protocol",
	[VD_REASON_STATUS] = "status",
	[VD_REASON_BODY] = "body",
	[VD_REASON_HEADER] = "header",
	[VD_REASON_SLOW] = "slow",
	[VD_REASON_REDIRECT] = "redirect",
	[VD_REASON_AUTH] = "auth",
	[VD_REASON_UNAVAILABLE] = "unavailable",
	[VD_REASON_VALUE] = "value",
	[VD_REASON_POLICY] = "policy",
	[VD_REASON_SKIPPED] = "skipped",
	[VD_REASON_INTERNAL] = "internal",
	[VD_REASON_LIMIT] = "limit",
};

const char *
vd_reason_name(enum vd_reason r)
{
	if ((unsigned)r >= VD_REASON_COUNT)
		return "internal";
	return reason_names[r];
}

#define KIND(k) (1u << (k))
/* What can heal by waiting: the target not up yet, or not ready. */
#define HEAL_KINDS                                                             \
	(KIND(VD_REASON_TIMEOUT) | KIND(VD_REASON_DNS) |                       \
	 KIND(VD_REASON_REFUSED) | KIND(VD_REASON_CONNECT) |                   \
	 KIND(VD_REASON_PROTOCOL) | KIND(VD_REASON_UNAVAILABLE) |              \
	 KIND(VD_REASON_AUTH) | KIND(VD_REASON_VALUE))
#define HEAL_STATUS (1u << 5) /* 5xx */

bool
vd_retry_wanted(const struct vd_check *chk, const struct vd_result *res)
{
	unsigned kinds = chk->retry_on_set ? chk->retry_kinds : HEAL_KINDS;
	unsigned status = chk->retry_on_set ? chk->retry_status : HEAL_STATUS;
	bool handshake = chk->retry_on_set ? chk->retry_handshake : true;
	const struct vd_fact *f;

	if (res->status == VD_STATUS_PASS ||
	    (unsigned)res->reason_kind >= VD_REASON_COUNT)
		return false;
	if (kinds & KIND(res->reason_kind))
		return true;
	if (res->reason_kind == VD_REASON_TLS)
		return handshake && res->status == VD_STATUS_ERROR &&
		       vd_result_fact(res, "tls_verify_error") == NULL;
	if (res->reason_kind != VD_REASON_STATUS)
		return false;
	f = vd_result_fact(res, "http_status");
	if (f == NULL || f->kind != VD_FACT_NUM)
		return status != 0; /* no HTTP code to judge by */
	return f->num >= 100 && f->num < 600 &&
	       (status & (1u << (unsigned)(f->num / 100)));
}

bool
vd_retry_on_add(struct vd_check *chk, const char *name)
{
	unsigned k;

	if (!chk->retry_on_set) {
		chk->retry_on_set = true;
		chk->retry_kinds = chk->retry_status = 0;
		chk->retry_handshake = false;
	}
	if (strcmp(name, "any") == 0) {
		chk->retry_kinds = ~0u;
		chk->retry_status = 0x3e;
		chk->retry_handshake = true;
		return true;
	}
	if (strcmp(name, "default") == 0 || strcmp(name, "handshake") == 0) {
		if (name[0] == 'd') {
			chk->retry_kinds |= HEAL_KINDS;
			chk->retry_status |= HEAL_STATUS;
		}
		chk->retry_handshake = true;
		return true;
	}
	if (name[0] >= '1' && name[0] <= '5' && strcmp(name + 1, "xx") == 0) {
		chk->retry_status |= 1u << (unsigned)(name[0] - '0');
		return true;
	}
	for (k = VD_REASON_NONE + 1; k < VD_REASON_COUNT; k++) {
		if (k == VD_REASON_SKIPPED)
			continue;
		if (strcmp(name, reason_names[k]) == 0) {
			chk->retry_kinds |= KIND(k);
			return true;
		}
	}
	return false;
}

const char *
vd_phase_name(enum vd_phase ph)
{
	switch (ph) {
	case VD_PHASE_RESOLVE:
		return "resolve";
	case VD_PHASE_CONNECT:
		return "connect";
	case VD_PHASE_TLS:
		return "tls";
	case VD_PHASE_FIRST_BYTE:
		return "first_byte";
	case VD_PHASE_TOTAL:
	case VD_PHASE_COUNT:
		break;
	}
	return "total";
}

void
vd_result_init(struct vd_result *res)
{
	int i;
	memset(res, 0, sizeof(*res));
	for (i = 0; i < VD_PHASE_COUNT; i++)
		res->timings[i] = -1;
}

void
vd_result_clear(struct vd_result *res)
{
	size_t i;
	free(res->reason);
	for (i = 0; i < res->nfacts; i++) {
		free(res->facts[i].key);
		free(res->facts[i].str);
	}
	free(res->facts);
	for (i = 0; i < res->nsteps; i++) {
		free(res->steps[i].name);
		free(res->steps[i].reason);
	}
	free(res->steps);
	vd_result_init(res);
}

void
vd_result_copy(struct vd_result *dst, const struct vd_result *src)
{
	size_t i;
	vd_result_clear(dst);
	*dst = *src;
	dst->reason = vd_xstrdup_null(src->reason);
	dst->facts = NULL;
	dst->nfacts = dst->facts_cap = 0;
	if (src->nfacts) {
		dst->facts = vd_xcalloc(src->nfacts, sizeof(*dst->facts));
		dst->facts_cap = src->nfacts;
		for (i = 0; i < src->nfacts; i++) {
			dst->facts[i] = src->facts[i];
			dst->facts[i].key = vd_xstrdup(src->facts[i].key);
			dst->facts[i].str = vd_xstrdup_null(src->facts[i].str);
		}
		dst->nfacts = src->nfacts;
	}
	dst->steps = NULL;
	dst->nsteps = 0;
	if (src->nsteps) {
		dst->steps = vd_xcalloc(src->nsteps, sizeof(*dst->steps));
		for (i = 0; i < src->nsteps; i++) {
			dst->steps[i] = src->steps[i];
			dst->steps[i].name = vd_xstrdup(src->steps[i].name);
			dst->steps[i].reason = vd_xstrdup(src->steps[i].reason);
		}
		dst->nsteps = src->nsteps;
	}
}

/* Masked, valid UTF-8, one line: what reports and labels may show. */
static char *
one_line_masked(const char *s)
{
	char *m = vd_mask(s ? s : ""), *f = vd_utf8_fix(m);
	free(m);
	for (char *c = f; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
	return f;
}

void
vd_result_step(struct vd_result *res, const char *name, enum vd_status st,
	       long http_status, const double timings[VD_PHASE_COUNT],
	       const char *reason)
{
	struct vd_step *s;
	int i;

	res->steps = vd_xreallocarray(res->steps, res->nsteps + 1,
				      sizeof(*res->steps));
	s = &res->steps[res->nsteps++];
	s->name = one_line_masked(name);
	s->status = st;
	s->http_status = http_status;
	for (i = 0; i < VD_PHASE_COUNT; i++)
		s->timings[i] = timings ? timings[i] : -1;
	s->reason = one_line_masked(reason);
}

static struct vd_fact *
fact_slot(struct vd_result *res, const char *key)
{
	size_t i;
	struct vd_fact *f;
	for (i = 0; i < res->nfacts; i++) {
		if (strcmp(res->facts[i].key, key) == 0) {
			free(res->facts[i].str);
			res->facts[i].str = NULL;
			return &res->facts[i];
		}
	}
	if (res->nfacts == res->facts_cap) {
		res->facts_cap = res->facts_cap ? res->facts_cap * 2 : 8;
		res->facts = vd_xreallocarray(res->facts, res->facts_cap,
					      sizeof(*res->facts));
	}
	f = &res->facts[res->nfacts++];
	memset(f, 0, sizeof(*f));
	f->key = vd_xstrdup(key);
	return f;
}

void
vd_result_fact_str(struct vd_result *res, const char *key, const char *val)
{
	struct vd_fact *f = fact_slot(res, key);
	char *m = vd_mask(val ? val : "");
	f->kind = VD_FACT_STR;
	/* facts quote peers (header values): valid UTF-8 on one line, for
	 * the JSON report and the exporter's labels (found by fuzz_http) */
	f->str = vd_utf8_fix(m);
	free(m);
	for (char *c = f->str; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
}

void
vd_result_fact_num(struct vd_result *res, const char *key, double val)
{
	struct vd_fact *f = fact_slot(res, key);
	f->kind = VD_FACT_NUM;
	f->num = val;
}

void
vd_result_fact_bool(struct vd_result *res, const char *key, bool val)
{
	struct vd_fact *f = fact_slot(res, key);
	f->kind = VD_FACT_BOOL;
	f->b = val;
}

const struct vd_fact *
vd_result_fact(const struct vd_result *res, const char *key)
{
	size_t i;
	for (i = 0; i < res->nfacts; i++)
		if (strcmp(res->facts[i].key, key) == 0)
			return &res->facts[i];
	return NULL;
}

void
vd_check_free(struct vd_check *chk)
{
	if (chk == NULL)
		return;
	if (chk->type && chk->type->free)
		chk->type->free(chk->conf);
	free(chk->name);
	free(chk->stage);
	vd_strlist_free(chk->tags, chk->ntags);
	vd_tls_opts_free(&chk->tls);
	free(chk->target);
	free(chk);
}

bool
vd_check_matches(const struct vd_check *chk, const char *name_or_tag)
{
	size_t i;
	if (strcmp(chk->name, name_or_tag) == 0)
		return true;
	for (i = 0; i < chk->ntags; i++)
		if (strcmp(chk->tags[i], name_or_tag) == 0)
			return true;
	return false;
}

const struct vd_check_type *
vd_check_type_find(const char *name)
{
	size_t i;
	for (i = 0; vd_check_types[i]; i++)
		if (strcmp(vd_check_types[i]->name, name) == 0)
			return vd_check_types[i];
	return NULL;
}
