/*
 * tls.c - the "tls" check: a non-blocking connect and an OpenSSL handshake
 * driven by ev_io, then facts about the certificate and the session, and
 * expectations on them. Verification is evaluated by us (a verify callback
 * that records every problem and never aborts the handshake) so that the
 * facts are reported even for a certificate that fails. Knows nothing of
 * suites or reports; trust store, client certificate and names come from
 * the prober's trust store (lib/trust.h), as for every TLS-speaking check.
 */
#include <curl/curl.h>
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "../certfacts.h"
#include "../../lib/cfg.h"
#include "../probe_int.h"
#include "../../lib/trust.h"
#include "../../lib/url.h"
#include "../../lib/util.h"
#include "checks.h"

#define MAX_VERIFY_ERRORS 8

struct tls_conf {
	char *host;
	char port[8];
	int verify;	    /* -1: as tls.verify; 0/1: expect.verify */
	long min_days_left; /* -1: not judged */
	int min_version;    /* TLS1_2_VERSION, ...; 0: not judged */
	char **protocols;   /* allowed protocol names; NULL: any */
	size_t nprotocols;
	char **ciphers; /* allowed cipher names (OpenSSL or IANA) */
	size_t nciphers;
};

struct verify_err {
	int code;  /* X509_V_ERR_* */
	int depth; /* 0: the leaf */
};

struct tls_run {
	struct vd_connect *conn;
	int fd;
	ev_io io;
	SSL *ssl;
	double hs_start; /* ev_now when the handshake began */
	struct verify_err errs[MAX_VERIFY_ERRORS];
	size_t nerrs;
};

/* --- the prober's probing context ---------------------------------- */

static int verify_cb(int ok, X509_STORE_CTX *xs);

/* The last OpenSSL error as words, and the queue cleared. */
static void
ssl_error_words(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	if (r)
		snprintf(buf, len, "%s", r);
	else if (e)
		snprintf(buf, len, "error %lu", e);
	else
		snprintf(buf, len, "unknown error");
	ERR_clear_error();
}

/*
 * One SSL_CTX per prober holds the probing policy only: trust store,
 * client certificate and names are per connection, from the prober's
 * trust store (vd_trust_ssl), so a rotated ca_file reaches tls checks as
 * it reaches http checks. Negotiate whatever the server offers, old
 * protocols included, so that an old one is reported (and judged by
 * min_version) rather than refused by the system's default policy.
 */
static void *
ctx_create(struct vd_prober *p)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	(void)p;
	if (ctx == NULL)
		abort();
	SSL_CTX_set_security_level(ctx, 0);
	SSL_CTX_set_min_proto_version(ctx, 0);
	SSL_CTX_set_cipher_list(ctx, "ALL:!aNULL:@SECLEVEL=0");
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, verify_cb);
	return ctx;
}

static void
ctx_destroy(void *state)
{
	SSL_CTX_free(state);
}

/* --- configuration --------------------------------------------------- */

static const struct {
	const char *name;
	int version;
} versions[] = {
	{"TLSv1", TLS1_VERSION},     {"TLSv1.0", TLS1_VERSION},
	{"TLSv1.1", TLS1_1_VERSION}, {"TLSv1.2", TLS1_2_VERSION},
	{"TLSv1.3", TLS1_3_VERSION},
};

static int
version_of(const char *name)
{
	size_t i;
	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		if (strcmp(versions[i].name, name) == 0)
			return versions[i].version;
	return 0;
}

static const char *
version_name(int version)
{
	size_t i;
	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		if (versions[i].version == version)
			return versions[i].name;
	return "?";
}

static void
tls_free(void *p)
{
	struct tls_conf *c = p;
	if (c == NULL)
		return;
	free(c->host);
	vd_strlist_free(c->protocols, c->nprotocols);
	vd_strlist_free(c->ciphers, c->nciphers);
	free(c);
}

static int
parse_expect(struct vd_cfg *parent, struct tls_conf *tc, bool tls_verify)
{
	struct vd_cfg c;
	char *minv = NULL;
	bool verify = true;
	size_t i;
	int r = vd_cfg_child(parent, "expect", &c);

	if (r <= 0)
		return r;
	r = 0;
	if (vd_cfg_has(&c, "verify")) {
		r = vd_cfg_bool(&c, "verify", &verify);
		if (!r && verify && !tls_verify)
			r = vd_cfg_error(&c, "verify",
					 "true contradicts tls.verify: false");
		tc->verify = verify;
	}
	if (!r)
		r = vd_cfg_int(&c, "min_days_left", 0, 100000,
			       &tc->min_days_left);
	if (!r)
		r = vd_cfg_str(&c, "min_version", false, &minv);
	if (!r && minv) {
		tc->min_version = version_of(minv);
		if (tc->min_version == 0)
			r = vd_cfg_error(&c, "min_version",
					 "expected \"TLSv1\", \"TLSv1.1\", "
					 "\"TLSv1.2\" or \"TLSv1.3\"");
	}
	if (!r)
		r = vd_cfg_strlist(&c, "protocols", &tc->protocols,
				   &tc->nprotocols);
	for (i = 0; !r && i < tc->nprotocols; i++)
		if (version_of(tc->protocols[i]) == 0)
			r = vd_cfg_error(&c, "protocols",
					 "unknown protocol \"%s\" (expected "
					 "TLSv1, TLSv1.1, TLSv1.2, TLSv1.3)",
					 tc->protocols[i]);
	if (!r)
		r = vd_cfg_strlist(&c, "ciphers", &tc->ciphers, &tc->nciphers);
	if (!r)
		r = vd_cfg_finish(&c);
	vd_cfg_release(&c);
	free(minv);
	return r;
}

/*
 * "url": "https://host[:port]/..." instead of host and port: the port
 * from the URL (443 by default), the host verified (unless server_name).
 * The URL is not repeated in errors: it may carry credentials.
 */
static int
parse_url(struct vd_cfg *c, struct tls_conf *tc)
{
	char *url = NULL;
	struct vd_url u = {0};
	enum vd_url_err e;
	int r;

	r = vd_cfg_str(c, "url", true, &url);
	if (!r && vd_cfg_has(c, "host"))
		r = vd_cfg_error(c, "host", "not with url (give one of them)");
	if (!r && vd_cfg_has(c, "port"))
		r = vd_cfg_error(c, "port",
				 "not with url (the port is in the URL)");
	if (r)
		goto out;
	e = vd_url_split(url, true, &u, NULL);
	if (e != VD_URL_OK) {
		r = vd_cfg_error(c, "url",
				 "expected an https:// URL with a host");
		goto out;
	}
	if (strcasecmp(u.scheme, "https") != 0) {
		r = vd_cfg_error(c, "url",
				 "expected an https:// URL, not %.16s://",
				 u.scheme);
		goto out;
	}
	if (u.port == NULL) {
		r = vd_cfg_error(c, "url", "expected a port in 1-65535");
		goto out;
	}
	tc->host = vd_xstrdup(u.host);
	snprintf(tc->port, sizeof(tc->port), "%s", u.port);
out:
	vd_free_secret(url);
	vd_url_release(&u);
	return r;
}

static int
tls_parse(struct vd_check *chk, struct vd_cfg *c)
{
	struct tls_conf *tc = vd_xcalloc(1, sizeof(*tc));
	int r;

	chk->conf = tc;
	tc->verify = -1;
	tc->min_days_left = -1;
	if (vd_cfg_has(c, "url"))
		r = parse_url(c, tc);
	else
		r = vd_check_host_port(c, 443, &tc->host, tc->port);
	if (!r)
		r = parse_expect(c, tc, chk->tls.verify);
	if (!r) {
		free(chk->target);
		chk->target = vd_check_host_target(tc->host, tc->port);
	}
	return r;
}

/* --- verification ---------------------------------------------------- */

static int
verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(
		xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct tls_run *run = ssl ? SSL_get_app_data(ssl) : NULL;
	int code = X509_STORE_CTX_get_error(xs);
	int depth = X509_STORE_CTX_get_error_depth(xs);
	size_t i;

	if (ok || run == NULL)
		return 1;
	for (i = 0; i < run->nerrs; i++)
		if (run->errs[i].code == code && run->errs[i].depth == depth)
			return 1;
	if (run->nerrs < MAX_VERIFY_ERRORS) {
		run->errs[run->nerrs].code = code;
		run->errs[run->nerrs].depth = depth;
		run->nerrs++;
	}
	return 1; /* record, never abort: the facts are wanted anyway */
}

/* Words for a verification error, stable enough for people and alerts. */
static const char *
verify_words(int code)
{
	switch (code) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return "expired";
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return "not yet valid";
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		return "self-signed";
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_UNTRUSTED:
		return "unknown CA";
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		return "hostname mismatch";
	case X509_V_ERR_CERT_REVOKED:
		return "revoked";
	case X509_V_ERR_INVALID_PURPOSE:
		return "not a TLS server certificate";
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
		return "bad signature";
	default:
		return X509_verify_cert_error_string(code);
	}
}

/* "expired; hostname mismatch": each distinct word once. */
static char *
verify_summary(const struct tls_run *run)
{
	struct vd_buf b;
	size_t i, j;

	vd_buf_init(&b, 0);
	for (i = 0; i < run->nerrs; i++) {
		const char *w = verify_words(run->errs[i].code);
		bool seen = false;
		for (j = 0; j < i; j++)
			if (strcmp(verify_words(run->errs[j].code), w) == 0)
				seen = true;
		if (seen)
			continue;
		vd_buf_printf(&b, "%s%s", b.len ? "; " : "", w);
		if (run->errs[i].depth > 0 && strcmp(w, "unknown CA") != 0)
			vd_buf_printf(&b, " (chain certificate %d)",
				      run->errs[i].depth);
	}
	return vd_buf_steal(&b);
}

/* --- facts ------------------------------------------------------------ */

/* Unix seconds of an ASN1_TIME, or -1. */
static double
asn1_unix(const ASN1_TIME *t)
{
	struct tm tm;
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	return (double)timegm(&tm);
}

static char *
name_str(const X509_NAME *n)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *out;
	long len;

	if (bio == NULL)
		abort();
	/* the layout `openssl x509 -subject` prints: "C = X, CN = y" */
	X509_NAME_print_ex(bio, n, 0,
			   (XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB) |
				   ASN1_STRFLGS_UTF8_CONVERT);
	len = BIO_get_mem_data(bio, &data);
	out = vd_xstrndup(data ? data : "", len > 0 ? (size_t)len : 0);
	BIO_free(bio);
	return out;
}

static char *
sans_str(X509 *leaf)
{
	GENERAL_NAMES *gens =
		X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	struct vd_buf b;
	int i;

	vd_buf_init(&b, 4096);
	for (i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const char *sep = b.len ? ", " : "";
		char ip[INET6_ADDRSTRLEN];
		if (g->type == GEN_DNS || g->type == GEN_URI ||
		    g->type == GEN_EMAIL) {
			const ASN1_IA5STRING *s = g->d.ia5;
			vd_buf_printf(&b, "%s%s:%.*s", sep,
				      g->type == GEN_DNS   ? "DNS"
				      : g->type == GEN_URI ? "URI"
							   : "email",
				      ASN1_STRING_length(s),
				      (const char *)ASN1_STRING_get0_data(s));
		} else if (g->type == GEN_IPADD) {
			int len = ASN1_STRING_length(g->d.ip);
			const unsigned char *d = ASN1_STRING_get0_data(g->d.ip);
			if ((len == 4 &&
			     inet_ntop(AF_INET, d, ip, sizeof(ip))) ||
			    (len == 16 &&
			     inet_ntop(AF_INET6, d, ip, sizeof(ip))))
				vd_buf_printf(&b, "%sIP:%s", sep, ip);
		}
	}
	GENERAL_NAMES_free(gens);
	return vd_buf_steal(&b);
}

static void
format_date(double t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (t < 0 || gmtime_r(&tt, &tm) == NULL) {
		snprintf(buf, len, "unknown");
		return;
	}
	strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

struct facts {
	double not_after, not_before;
	double days_left;
	const char *version;
	const char *cipher;
	const char *cipher_std;
	bool verified;
	char *verify_error;
	char *sans;
};

/* Records every fact on the result; fills f for the judging. */
static void
collect(struct vd_attempt *att, struct tls_run *run, struct facts *f)
{
	struct vd_result *res = att->result;
	X509 *leaf = SSL_get0_peer_certificate(run->ssl);
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(run->ssl);
	const SSL_CIPHER *cipher = SSL_get_current_cipher(run->ssl);
	double earliest = -1;
	int i;

	memset(f, 0, sizeof(*f));
	f->not_after = f->not_before = -1;
	f->version = SSL_get_version(run->ssl);
	f->cipher = cipher ? SSL_CIPHER_get_name(cipher) : "unknown";
	f->cipher_std = cipher ? SSL_CIPHER_standard_name(cipher) : NULL;
	vd_result_fact_str(res, "tls_version", f->version);
	vd_result_fact_str(res, "tls_cipher", f->cipher);

	if (leaf == NULL) {
		run->nerrs = 0;
		f->verify_error = vd_xstrdup("no certificate");
		vd_result_fact_bool(res, "tls_verify", false);
		vd_result_fact_str(res, "tls_verify_error", f->verify_error);
		return;
	}
	f->verify_error = run->nerrs ? verify_summary(run) : NULL;
	f->verified =
		run->nerrs == 0 && SSL_get_verify_result(run->ssl) == X509_V_OK;
	if (!f->verified && f->verify_error == NULL)
		f->verify_error = vd_xstrdup(X509_verify_cert_error_string(
			SSL_get_verify_result(run->ssl)));
	vd_result_fact_bool(res, "tls_verify",
			    f->verified && att->check->tls.verify);
	if (f->verify_error)
		vd_result_fact_str(res, "tls_verify_error", f->verify_error);

	f->not_after = asn1_unix(X509_get0_notAfter(leaf));
	f->not_before = asn1_unix(X509_get0_notBefore(leaf));
	for (i = 0; chain && i < sk_X509_num(chain); i++) {
		double na =
			asn1_unix(X509_get0_notAfter(sk_X509_value(chain, i)));
		if (na >= 0 && (earliest < 0 || na < earliest))
			earliest = na;
	}
	if (earliest < 0)
		earliest = f->not_after;
	f->days_left = floor((f->not_after - vd_now_unix()) / 86400.0);
	vd_result_fact_num(res, "tls_not_after", f->not_after);
	vd_result_fact_num(res, "tls_not_before", f->not_before);
	vd_result_fact_num(res, "tls_earliest_not_after", earliest);
	vd_result_fact_num(res, "tls_days_left", f->days_left);
	{
		char *s = name_str(X509_get_subject_name(leaf));
		vd_result_fact_str(res, "tls_subject", s);
		free(s);
		s = name_str(X509_get_issuer_name(leaf));
		vd_result_fact_str(res, "tls_issuer", s);
		free(s);
	}
	f->sans = sans_str(leaf);
	vd_result_fact_str(res, "tls_sans", f->sans);
	if (att->check->detail)
		vd_cert_leaf_facts(res, leaf);
	vd_result_fact_num(res, "tls_chain_length",
			   chain ? (double)sk_X509_num(chain) : 1);
}

static bool
in_list(char **list, size_t n, const char *a, const char *b)
{
	size_t i;
	for (i = 0; i < n; i++)
		if ((a && strcmp(list[i], a) == 0) ||
		    (b && strcmp(list[i], b) == 0))
			return true;
	return false;
}

static char *
join(char **list, size_t n)
{
	struct vd_buf b;
	size_t i;
	vd_buf_init(&b, 0);
	for (i = 0; i < n; i++)
		vd_buf_printf(&b, "%s%s", i ? ", " : "", list[i]);
	return vd_buf_steal(&b);
}

static const char *
verify_name(const struct vd_check *chk, const struct tls_conf *tc)
{
	return chk->tls.server_name ? chk->tls.server_name : tc->host;
}

/* Judges the facts; finishes the attempt. */
static void
judge(struct vd_attempt *att, struct tls_run *run)
{
	const struct vd_check *chk = att->check;
	const struct tls_conf *tc = chk->conf;
	bool want_verify = tc->verify >= 0 ? tc->verify != 0 : chk->tls.verify;
	struct facts f;
	char date[64];
	char *list;
	int ver = SSL_version(run->ssl);

	collect(att, run, &f);
	format_date(f.not_after, date, sizeof(date));
	if (want_verify && !f.verified) {
		bool mismatch = f.verify_error &&
				strstr(f.verify_error, "hostname mismatch");
		bool expired = f.verify_error &&
			       strstr(f.verify_error, "expired") &&
			       f.days_left < 0;
		char extra[512] = "";
		if (expired)
			snprintf(extra, sizeof(extra),
				 " (notAfter %s, %.0f days ago)", date,
				 -f.days_left);
		else if (mismatch)
			snprintf(extra, sizeof(extra),
				 " (wanted %s, certificate has %.300s)",
				 verify_name(chk, tc),
				 f.sans && *f.sans ? f.sans : "no names");
		vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_TLS,
				  "certificate verification failed: %s%s",
				  f.verify_error, extra);
		goto out;
	}
	if (tc->min_days_left >= 0 && f.days_left < (double)tc->min_days_left) {
		if (f.days_left < 0)
			vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_TLS,
					  "certificate expired %.0f days ago "
					  "(notAfter %s), min_days_left %ld",
					  -f.days_left, date,
					  tc->min_days_left);
		else
			vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_TLS,
					  "certificate expires in %.0f days "
					  "(notAfter %s), min_days_left %ld",
					  f.days_left, date, tc->min_days_left);
		goto out;
	}
	if (tc->min_version && ver < tc->min_version) {
		vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_TLS,
				  "negotiated %s, older than min_version %s",
				  f.version, version_name(tc->min_version));
		goto out;
	}
	if (tc->nprotocols &&
	    !in_list(tc->protocols, tc->nprotocols, f.version, NULL)) {
		list = join(tc->protocols, tc->nprotocols);
		vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_TLS,
				  "negotiated %s, not one of the allowed "
				  "protocols (%s)",
				  f.version, list);
		free(list);
		goto out;
	}
	if (tc->nciphers &&
	    !in_list(tc->ciphers, tc->nciphers, f.cipher, f.cipher_std)) {
		list = join(tc->ciphers, tc->nciphers);
		vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_TLS,
				  "negotiated cipher %s, not one of the "
				  "allowed ciphers (%s)",
				  f.cipher, list);
		free(list);
		goto out;
	}
	if (f.verified)
		vd_attempt_finish(att, VD_STATUS_PASS, VD_REASON_NONE,
				  "%s %s, certificate verified, expires in "
				  "%.0f days (%s)",
				  f.version, f.cipher, f.days_left, date);
	else
		vd_attempt_finish(att, VD_STATUS_PASS, VD_REASON_NONE,
				  "%s %s, certificate not verified (%s), "
				  "expires in %.0f days (%s)",
				  f.version, f.cipher,
				  f.verify_error ? f.verify_error
						 : "verification off",
				  f.days_left, date);
out:
	free(f.verify_error);
	free(f.sans);
}

/* --- the handshake ------------------------------------------------------ */

/* Words for a failed handshake step; clears the error queue. */
static void
handshake_failed(struct vd_attempt *att, struct tls_run *run, int ret)
{
	int e = SSL_get_error(run->ssl, ret);
	unsigned long code = ERR_peek_last_error();
	char why[256];
	const char *hint = "";

	ev_io_stop(att->loop, &run->io);
	att->result->timings[VD_PHASE_TLS] = ev_now(att->loop) - run->hs_start;
	if (e == SSL_ERROR_SYSCALL && code == 0) {
		int err = errno;
		ERR_clear_error();
		if (ret == 0 || err == 0)
			vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_TLS,
					  "TLS handshake failed: the peer "
					  "closed the connection");
		else
			vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_TLS,
					  "TLS handshake failed: %s",
					  strerror(err));
		return;
	}
	if (ERR_GET_LIB(code) == ERR_LIB_SSL) {
		int r = ERR_GET_REASON(code);
		if (r == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
			ERR_clear_error();
			vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_TLS,
					  "TLS handshake failed: the peer "
					  "closed the connection");
			return;
		}
		/* what OpenSSL says when the peer answers in plain text */
		if (r == SSL_R_WRONG_VERSION_NUMBER ||
		    r == SSL_R_PACKET_LENGTH_TOO_LONG ||
		    r == SSL_R_RECORD_LENGTH_MISMATCH ||
		    r == SSL_R_HTTP_REQUEST || r == SSL_R_HTTPS_PROXY_REQUEST)
			hint = " (is the peer speaking TLS on this port?)";
	}
	ssl_error_words(why, sizeof(why));
	vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_TLS,
			  "TLS handshake failed: %s%s", why, hint);
}

static void
step(struct vd_attempt *att, struct tls_run *run)
{
	int ret, e;

	ERR_clear_error();
	errno = 0;
	ret = SSL_connect(run->ssl);
	if (ret == 1) {
		ev_io_stop(att->loop, &run->io);
		att->result->timings[VD_PHASE_TLS] =
			ev_now(att->loop) - run->hs_start;
		judge(att, run);
		return;
	}
	e = SSL_get_error(run->ssl, ret);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		int want = e == SSL_ERROR_WANT_READ ? EV_READ : EV_WRITE;
		if ((run->io.events & (EV_READ | EV_WRITE)) != want ||
		    !ev_is_active(&run->io)) {
			ev_io_stop(att->loop, &run->io);
			ev_io_set(&run->io, run->fd, want);
			ev_io_start(att->loop, &run->io);
		}
		return;
	}
	handshake_failed(att, run, ret);
}

static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct vd_attempt *att = w->data;
	(void)loop;
	(void)revents;
	step(att, att->data);
}

static void
connected_cb(int fd, void *udata)
{
	struct vd_attempt *att = udata;
	const struct vd_check *chk = att->check;
	const struct tls_conf *tc = chk->conf;
	struct tls_run *run = att->data;
	char err[512];
	SSL_CTX *ctx;

	run->fd = fd;
	ev_io_init(&run->io, io_cb, fd, EV_WRITE);
	run->io.data = att;
	ctx = vd_prober_shared(att->prober, "tls_ctx", ctx_create, ctx_destroy);
	ERR_clear_error();
	run->ssl = SSL_new(ctx);
	if (run->ssl == NULL || SSL_set_fd(run->ssl, fd) != 1) {
		char why[256];
		ssl_error_words(why, sizeof(why));
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_INTERNAL,
				  "could not set up TLS: %s", why);
		return;
	}
	SSL_set_app_data(run->ssl, run);
	if (vd_trust_ssl(vd_prober_trust(att->prober), run->ssl, &chk->tls,
			 tc->host, err, sizeof(err)) != 0) {
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_INTERNAL,
				  "%s", err);
		return;
	}
	SSL_set_connect_state(run->ssl);
	run->hs_start = ev_now(att->loop);
	step(att, run);
}

static void
tls_start(struct vd_attempt *att)
{
	const struct tls_conf *tc = att->check->conf;
	struct tls_run *run = vd_xcalloc(1, sizeof(*run));

	run->fd = -1;
	att->data = run;
	if (!att->check->tls.verify)
		vd_result_fact_bool(att->result, "tls_verify", false);
	run->conn =
		vd_connect_start(att, tc->host, tc->port, connected_cb, att);
}

static void
tls_cancel(struct vd_attempt *att)
{
	struct tls_run *run = att->data;
	if (run == NULL)
		return;
	vd_connect_free(run->conn);
	if (run->fd >= 0)
		ev_io_stop(att->loop, &run->io);
	/* No close_notify: a probe ends with a plain close (a write to a
	 * peer that is gone would only risk SIGPIPE). */
	SSL_free(run->ssl);
	if (run->fd >= 0)
		close(run->fd);
	free(run);
}

static const struct vd_check_key tls_keys[] = {
	{"host", VD_KEY_TARGET}, /* or url: one of them is required */
	{"port", 0},
	{"url", 0},
	{"expect", 0},
	{NULL, 0},
};

const struct vd_check_type vd_check_tls = {
	.name = "tls",
	.parse = tls_parse,
	.start = tls_start,
	.cancel = tls_cancel,
	.free = tls_free,
	.flags = VD_TYPE_TLS,
	.target = VD_TARGET_HOST,
	.keys = tls_keys,
};
