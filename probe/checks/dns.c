/*
 * dns.c - the "dns" check: resolves a name through the prober's resolver
 * (probe/resolve.c: the system's getaddrinfo, off the loop) and judges the
 * addresses it got with the shared operators (expect.c). Knows nothing of
 * suites, reports or the exporter.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../../lib/cfg.h"
#include "../../lib/util.h"
#include "../probe_int.h"
#include "checks.h"

/* Addresses shown in a fact or a reason at most; the rest are counted. */
#define DNS_SHOW_MAX 16

struct dns_conf {
	char *host;
	int family;		 /* AF_UNSPEC, AF_INET or AF_INET6 */
	struct vd_expect *addrs; /* NULL: any address will do */
	struct vd_expect *count; /* NULL: at least one */
};

struct dns_run {
	struct vd_resolve *res; /* NULL once delivered */
};

static void
dns_free(void *p)
{
	struct dns_conf *c = p;
	if (c == NULL)
		return;
	free(c->host);
	vd_expect_free(c->addrs);
	vd_expect_free(c->count);
	free(c);
}

static int
parse_expect(struct vd_cfg *parent, struct dns_conf *dc)
{
	struct vd_cfg c;
	const cJSON *v;
	int r = vd_cfg_child(parent, "expect", &c);

	if (r <= 0)
		return r;
	r = 0;
	v = vd_cfg_take(&c, "addresses");
	if (v)
		r = vd_expect_parse(&c, "addresses", v, &dc->addrs);
	v = vd_cfg_take(&c, "count");
	if (!r && v)
		r = vd_expect_parse(&c, "count", v, &dc->count);
	if (!r)
		r = vd_cfg_finish(&c);
	vd_cfg_release(&c);
	return r;
}

static int
dns_parse(struct vd_check *chk, struct vd_cfg *c)
{
	struct dns_conf *dc = vd_xcalloc(1, sizeof(*dc));
	char *family = NULL;
	int r;

	chk->conf = dc;
	dc->family = AF_UNSPEC;
	r = vd_cfg_str(c, "host", true, &dc->host);
	if (!r && (*dc->host == '\0' || strpbrk(dc->host, " /:\t\r\n")))
		r = vd_cfg_error(c, "host", "expected a host name");
	if (!r)
		r = vd_cfg_str(c, "family", false, &family);
	if (!r && family) {
		if (strcmp(family, "ipv4") == 0)
			dc->family = AF_INET;
		else if (strcmp(family, "ipv6") == 0)
			dc->family = AF_INET6;
		else if (strcmp(family, "any") != 0)
			r = vd_cfg_error(c, "family",
					 "expected \"any\", \"ipv4\" or "
					 "\"ipv6\"");
	}
	free(family);
	if (!r)
		r = parse_expect(c, dc);
	if (!r) {
		free(chk->target);
		chk->target = vd_xstrdup(dc->host);
	}
	return r;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The distinct addresses of ai in family (AF_UNSPEC: both), sorted as
 * text, as a JSON array of strings. */
static cJSON *
addresses(const struct addrinfo *ai, int family)
{
	char **v = NULL;
	size_t n = 0, i;
	cJSON *arr = cJSON_CreateArray();

	if (arr == NULL)
		abort();
	for (; ai; ai = ai->ai_next) {
		char buf[INET6_ADDRSTRLEN + 8];
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    (family != AF_UNSPEC && ai->ai_family != family))
			continue;
		vd_addr_format(ai->ai_addr, buf, sizeof(buf));
		v = vd_xreallocarray(v, n + 1, sizeof(*v));
		v[n++] = vd_xstrdup(buf);
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	for (i = 0; i < n; i++)
		if (i == 0 || strcmp(v[i], v[i - 1]) != 0)
			cJSON_AddItemToArray(arr, cJSON_CreateString(v[i]));
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return arr;
}

/* "127.0.0.1, ::1" (the first DNS_SHOW_MAX, then "and N more"). */
static char *
joined(const cJSON *arr)
{
	const cJSON *it;
	struct vd_buf b;
	int n = 0, all = cJSON_GetArraySize(arr);

	vd_buf_init(&b, 0);
	cJSON_ArrayForEach(it, arr) {
		if (n == DNS_SHOW_MAX) {
			vd_buf_printf(&b, " and %d more", all - n);
			break;
		}
		vd_buf_printf(&b, "%s%s", n++ ? ", " : "", it->valuestring);
	}
	return vd_buf_steal(&b);
}

static const char *
family_name(int family)
{
	return family == AF_INET ? "IPv4 " : family == AF_INET6 ? "IPv6 " : "";
}

static void
judge(struct vd_attempt *att, cJSON *arr)
{
	const struct dns_conf *dc = att->check->conf;
	int n = cJSON_GetArraySize(arr);
	char *list = joined(arr), why[512];
	cJSON *num = cJSON_CreateNumber(n);
	enum vd_match m = VD_MATCH_YES;
	const char *what = "";

	if (num == NULL)
		abort();
	vd_result_fact_num(att->result, "address_count", n);
	vd_result_fact_str(att->result, "addresses", list);
	why[0] = '\0';
	if (dc->count) {
		m = vd_expect_judge(dc->count, num, why, sizeof(why));
		what = "count";
	}
	if (m == VD_MATCH_YES && dc->addrs) {
		m = vd_expect_judge(dc->addrs, arr, why, sizeof(why));
		what = "addresses";
	}
	if (m == VD_MATCH_YES)
		vd_attempt_finish(att, VD_STATUS_PASS, VD_REASON_NONE, "%s: %s",
				  dc->host, list);
	else
		vd_attempt_finish_mismatch(att, m, VD_REASON_VALUE, "%s %s: %s",
					   dc->host, what, why);
	cJSON_Delete(num);
	free(list);
}

static void
resolved_cb(struct addrinfo *ai, int gai_err, void *udata)
{
	struct vd_attempt *att = udata;
	struct dns_run *run = att->data;
	const struct dns_conf *dc = att->check->conf;
	cJSON *arr;

	run->res = NULL; /* the resolver frees its handle after this call */
	att->result->timings[VD_PHASE_RESOLVE] = ev_now(att->loop) - att->start;
	if (ai == NULL && gai_err == EAI_SYSTEM &&
	    (errno == EMFILE || errno == ENFILE)) {
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_INTERNAL,
				  "out of file descriptors (resolving %s)",
				  dc->host);
		return;
	}
	if (ai == NULL) {
		/* an answer that the name does not exist (or has no address)
		 * is one to judge; a failure to get an answer is not */
		bool answered = gai_err == EAI_NONAME
#ifdef EAI_NODATA
				|| gai_err == EAI_NODATA
#endif
			;
		vd_attempt_finish(
			att, answered ? VD_STATUS_FAIL : VD_STATUS_ERROR,
			answered ? VD_REASON_VALUE : VD_REASON_DNS,
			"could not resolve %s: %s", dc->host,
			gai_err == EAI_SYSTEM ? strerror(errno)
					      : gai_strerror(gai_err));
		return;
	}
	arr = addresses(ai, dc->family);
	freeaddrinfo(ai);
	if (cJSON_GetArraySize(arr) == 0)
		vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_VALUE,
				  "%s has no %saddress", dc->host,
				  family_name(dc->family));
	else
		judge(att, arr);
	cJSON_Delete(arr);
}

static void
dns_start(struct vd_attempt *att)
{
	const struct dns_conf *dc = att->check->conf;
	struct dns_run *run = vd_xcalloc(1, sizeof(*run));

	att->data = run;
	run->res = vd_resolve_start(att->prober, dc->host, "0", SOCK_STREAM,
				    resolved_cb, att);
}

static void
dns_cancel(struct vd_attempt *att)
{
	struct dns_run *run = att->data;
	if (run == NULL)
		return;
	vd_resolve_cancel(run->res);
	free(run);
}

static void
dns_timeout_detail(struct vd_attempt *att, char *buf, size_t len)
{
	(void)att;
	snprintf(buf, len, "resolving the name");
}

static const struct vd_check_key dns_keys[] = {
	{"host", VD_KEY_REQUIRED},
	{"family", 0},
	{"expect", 0},
	{NULL, 0},
};

const struct vd_check_type vd_check_dns = {
	.name = "dns",
	.parse = dns_parse,
	.start = dns_start,
	.cancel = dns_cancel,
	.free = dns_free,
	.timeout_detail = dns_timeout_detail,
	.keys = dns_keys,
};
