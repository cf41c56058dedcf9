/*
 * trust.c - the trust store (CA stores and client identities, parsed once
 * and reloaded when their files change) and the one place the "tls"
 * options are applied to libcurl handles and OpenSSL connections. The
 * meaning of each option and what loading costs are in trust.h. Depends
 * on OpenSSL, libcurl and libc only (no loop: time is CLOCK_MONOTONIC).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "tls_opts.h"
#include "trust.h"
#include "util.h"

/* A CA store: a tls.ca_file, or the default (path NULL). */
struct store {
	char *path;
	X509_STORE *store; /* NULL: could not be loaded (why) */
	char *why;
	struct stat st; /* of the file when it was (re)loaded; zero: none */
	double checked; /* monotonic seconds of the last stat() */
	struct store *next;
};

/* A client certificate with its chain and key. */
struct ident {
	char *cert, *key; /* key NULL: in cert */
	X509 *leaf;	  /* NULL: could not be loaded (why) */
	STACK_OF(X509) * chain;
	EVP_PKEY *pkey;
	char *why;
	struct stat st_cert, st_key;
	double checked;
	struct ident *next;
};

/* What one libcurl SSL_CTX callback installs: a store and/or an identity.
 * One per combination in use; lives as long as the trust. */
struct binding {
	struct store *ca; /* NULL: no verification */
	struct ident *id; /* NULL: no client certificate */
	struct binding *next;
};

struct vd_trust {
	char *def_file; /* the default store's file, or NULL */
	char *def_dir;	/* ... and directory, or NULL */
	double recheck; /* seconds */
	struct store *stores;
	struct ident *idents;
	struct binding *bindings;
};

/* "" is unset: what "${OPTIONAL_VAR}" gives when the variable is not. */
static const char *
nz(const char *s)
{
	return s && *s ? s : NULL;
}

static bool
same_path(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static double
mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* stat() of path into st; zeroes st (and returns errno) when it fails. */
static int
stat_or_zero(const char *path, struct stat *st)
{
	if (path && stat(path, st) == 0)
		return 0;
	memset(st, 0, sizeof(*st));
	return path ? errno : 0;
}

/* OpenSSL's last error as words (or strerror(sys) if set); clears the
 * error queue. The caller frees it. */
static char *
why_words(int sys)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	char *w;

	if (sys)
		w = vd_xstrdup(strerror(sys));
	else if (r)
		w = vd_xstrdup(r);
	else if (e)
		w = vd_xasprintf("error %lu", e);
	else
		w = vd_xstrdup("unknown error");
	ERR_clear_error();
	return w;
}

/* The default store's locations: $SSL_CERT_FILE and $SSL_CERT_DIR when
 * either is set, else the system bundle. Strings are the caller's. */
static void
default_paths(char **file, char **dir)
{
	const char *ef = nz(getenv("SSL_CERT_FILE"));
	const char *ed = nz(getenv("SSL_CERT_DIR"));
	CURL *easy;
	char *ca = NULL;

	*file = *dir = NULL;
	if (ef || ed) {
		*file = vd_xstrdup_null(ef);
		*dir = vd_xstrdup_null(ed);
		return;
	}
	easy = curl_easy_init();
	if (easy && curl_easy_getinfo(easy, CURLINFO_CAINFO, &ca) == CURLE_OK &&
	    ca)
		*file = vd_xstrdup(ca);
	curl_easy_cleanup(easy);
	if (*file == NULL)
		*file = vd_xstrdup(X509_get_default_cert_file());
}

struct vd_trust *
vd_trust_new(void)
{
	struct vd_trust *t = vd_xcalloc(1, sizeof(*t));
	t->recheck = 1.0;
	default_paths(&t->def_file, &t->def_dir);
	return t;
}

static void
ident_clear(struct ident *id)
{
	X509_free(id->leaf);
	sk_X509_pop_free(id->chain, X509_free);
	EVP_PKEY_free(id->pkey);
	free(id->why);
	id->leaf = NULL;
	id->chain = NULL;
	id->pkey = NULL;
	id->why = NULL;
}

void
vd_trust_free(struct vd_trust *t)
{
	struct store *s, *sn;
	struct ident *id, *idn;
	struct binding *b, *bn;

	if (t == NULL)
		return;
	for (s = t->stores; s; s = sn) {
		sn = s->next;
		X509_STORE_free(s->store);
		free(s->why);
		free(s->path);
		free(s);
	}
	for (id = t->idents; id; id = idn) {
		idn = id->next;
		ident_clear(id);
		free(id->cert);
		free(id->key);
		free(id);
	}
	for (b = t->bindings; b; b = bn) {
		bn = b->next;
		free(b);
	}
	free(t->def_file);
	free(t->def_dir);
	free(t);
}

void
vd_trust_set_recheck(struct vd_trust *t, double seconds)
{
	t->recheck = seconds;
}

/* --- CA stores -------------------------------------------------------- */

/* (Re)loads s from its file (or the default locations). The flags are
 * the ones libcurl sets on the stores it fills itself. */
static void
store_load(struct vd_trust *t, struct store *s, const struct stat *st,
	   int stat_errno)
{
	X509_STORE *x = X509_STORE_new();
	const char *file = s->path ? s->path : t->def_file;
	char *w = NULL;

	if (x == NULL)
		abort();
	ERR_clear_error();
	if (stat_errno || (file && X509_STORE_load_file(x, file) != 1) ||
	    (s->path == NULL && t->def_dir &&
	     X509_STORE_load_path(x, t->def_dir) != 1)) {
		w = why_words(stat_errno);
		X509_STORE_free(x);
		x = NULL;
	}
	ERR_clear_error();
	if (x)
		X509_STORE_set_flags(x, X509_V_FLAG_TRUSTED_FIRST |
						X509_V_FLAG_PARTIAL_CHAIN);
	X509_STORE_free(s->store);
	free(s->why);
	s->store = x;
	s->why = NULL;
	if (x == NULL && s->path)
		s->why = vd_xasprintf("could not load tls.ca_file %s: %s",
				      s->path, w);
	else if (x == NULL)
		s->why = vd_xasprintf(
			"could not load the default trust store (%s%s%s%s%s): "
			"%s",
			t->def_file ? "file " : "",
			t->def_file ? t->def_file : "",
			t->def_file && t->def_dir ? ", " : "",
			t->def_dir ? "directory " : "",
			t->def_dir ? t->def_dir : "", w);
	free(w);
	s->st = *st;
}

/* The store for path (NULL: the default), loaded on first use and again
 * when its file changed, looked at once per recheck interval at most. */
static struct store *
store_get(struct vd_trust *t, const char *path)
{
	struct store *s;
	double now = mono_now();
	struct stat st;
	int err;

	for (s = t->stores; s; s = s->next)
		if (same_path(s->path, path))
			break;
	if (s && now - s->checked < t->recheck)
		return s;
	err = stat_or_zero(path ? path : t->def_file, &st);
	if (s == NULL) {
		s = vd_xcalloc(1, sizeof(*s));
		s->path = vd_xstrdup_null(path);
		s->next = t->stores;
		t->stores = s;
		store_load(t, s, &st, err);
	} else if (!same_file(&s->st, &st)) {
		store_load(t, s, &st, err);
	}
	s->checked = now;
	return s;
}

/* --- client identities ------------------------------------------------ */

/* A key file is never prompted for: an encrypted key is an error. */
static int
no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* (Re)loads the certificate chain and key of id. */
static void
ident_load(struct ident *id, const struct stat *st_cert,
	   const struct stat *st_key, int err_cert, int err_key)
{
	const char *kpath = id->key ? id->key : id->cert;
	BIO *b = NULL;
	X509 *x;
	char *w;

	ident_clear(id);
	id->st_cert = *st_cert;
	id->st_key = *st_key;
	ERR_clear_error();
	b = err_cert ? NULL : BIO_new_file(id->cert, "r");
	id->leaf = b ? PEM_read_bio_X509_AUX(b, NULL, no_password, NULL) : NULL;
	if (id->leaf == NULL) {
		w = why_words(err_cert);
		id->why = vd_xasprintf("could not load tls.cert_file %s: %s",
				       id->cert, w);
		free(w);
		goto out;
	}
	id->chain = sk_X509_new_null();
	if (id->chain == NULL)
		abort();
	while ((x = PEM_read_bio_X509(b, NULL, no_password, NULL)) != NULL)
		if (!sk_X509_push(id->chain, x))
			abort();
	ERR_clear_error(); /* the end of the file */
	BIO_free(b);
	b = err_key ? NULL : BIO_new_file(kpath, "r");
	id->pkey =
		b ? PEM_read_bio_PrivateKey(b, NULL, no_password, NULL) : NULL;
	if (id->pkey == NULL ||
	    X509_check_private_key(id->leaf, id->pkey) != 1) {
		w = why_words(id->pkey ? 0 : err_key);
		ident_clear(id);
		id->why = vd_xasprintf("could not use tls.key_file %s: %s",
				       kpath, w);
		free(w);
	}
out:
	BIO_free(b);
	ERR_clear_error();
}

static struct ident *
ident_get(struct vd_trust *t, const char *cert, const char *key)
{
	struct ident *id;
	double now = mono_now();
	struct stat sc, sk;
	int ec, ek;

	for (id = t->idents; id; id = id->next)
		if (strcmp(id->cert, cert) == 0 && same_path(id->key, key))
			break;
	if (id && now - id->checked < t->recheck)
		return id;
	ec = stat_or_zero(cert, &sc);
	ek = stat_or_zero(key ? key : cert, &sk);
	if (id == NULL) {
		id = vd_xcalloc(1, sizeof(*id));
		id->cert = vd_xstrdup(cert);
		id->key = vd_xstrdup_null(key);
		id->next = t->idents;
		t->idents = id;
		ident_load(id, &sc, &sk, ec, ek);
	} else if (!same_file(&id->st_cert, &sc) ||
		   !same_file(&id->st_key, &sk)) {
		ident_load(id, &sc, &sk, ec, ek);
	}
	id->checked = now;
	return id;
}

/* --- libcurl ------------------------------------------------------------ */

static struct binding *
binding_get(struct vd_trust *t, struct store *ca, struct ident *id)
{
	struct binding *b;
	for (b = t->bindings; b; b = b->next)
		if (b->ca == ca && b->id == id)
			return b;
	b = vd_xcalloc(1, sizeof(*b));
	b->ca = ca;
	b->id = id;
	b->next = t->bindings;
	t->bindings = b;
	return b;
}

/* libcurl calls this after creating the SSL_CTX of a connection, before
 * the SSL object (which copies the verify store and the certificate).
 * The verify store takes precedence over the SSL_CTX's own store, which
 * libcurl 7.88 fills (here: with nothing) after sending the ClientHello.
 * The entries are read now, so a reload since vd_trust_curl() counts. */
static CURLcode
ssl_ctx_cb(CURL *easy, void *ssl_ctx, void *userp)
{
	struct binding *b = userp;
	SSL_CTX *ctx = ssl_ctx;
	(void)easy;

	if (b->ca) {
		if (b->ca->store == NULL)
			return CURLE_SSL_CACERT_BADFILE;
		if (!SSL_CTX_set1_verify_cert_store(ctx, b->ca->store))
			return CURLE_OUT_OF_MEMORY;
	}
	if (b->id) {
		if (b->id->leaf == NULL ||
		    SSL_CTX_use_cert_and_key(ctx, b->id->leaf, b->id->pkey,
					     b->id->chain, 1) != 1) {
			ERR_clear_error();
			return CURLE_SSL_CERTPROBLEM;
		}
	}
	return CURLE_OK;
}

static void
copy_err(char *err, size_t errlen, const char *why)
{
	if (errlen)
		snprintf(err, errlen, "%s", why);
}

int
vd_trust_curl(struct vd_trust *t, CURL *easy, const struct vd_tls_opts *opts,
	      char *err, size_t errlen)
{
	bool verify = opts == NULL || opts->verify;
	const char *ca = opts ? nz(opts->ca_file) : NULL;
	const char *cert = opts ? nz(opts->cert_file) : NULL;
	const char *key = opts ? nz(opts->key_file) : NULL;
	struct store *s = NULL;
	struct ident *id = NULL;

	if (errlen)
		err[0] = '\0';
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
	if (t == NULL) {
		char *file = NULL, *dir = NULL;
		if (ca == NULL)
			default_paths(&file, &dir);
		curl_easy_setopt(easy, CURLOPT_CAINFO, ca ? ca : file);
		curl_easy_setopt(easy, CURLOPT_CAPATH, dir);
		curl_easy_setopt(easy, CURLOPT_SSLCERT, cert);
		curl_easy_setopt(easy, CURLOPT_SSLKEY, cert ? key : NULL);
		free(file);
		free(dir);
		return 0;
	}
	/* libcurl must not read any file itself: the callback installs ours */
	curl_easy_setopt(easy, CURLOPT_CAINFO, NULL);
	curl_easy_setopt(easy, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(easy, CURLOPT_SSLCERT, NULL);
	curl_easy_setopt(easy, CURLOPT_SSLKEY, NULL);
	if (verify) {
		s = store_get(t, ca);
		if (s->store == NULL) {
			copy_err(err, errlen, s->why);
			return VD_ERR_CONFIG;
		}
	}
	if (cert) {
		id = ident_get(t, cert, key);
		if (id->leaf == NULL) {
			copy_err(err, errlen, id->why);
			return VD_ERR_CONFIG;
		}
	}
	if (s == NULL && id == NULL) {
		curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, NULL);
		return 0;
	}
	curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
	curl_easy_setopt(easy, CURLOPT_SSL_CTX_DATA, binding_get(t, s, id));
	return 0;
}

/* --- OpenSSL connections ------------------------------------------------ */

static bool
is_ip(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, s, buf) == 1 ||
	       inet_pton(AF_INET6, s, buf) == 1;
}

int
vd_trust_ssl(struct vd_trust *t, SSL *ssl, const struct vd_tls_opts *opts,
	     const char *host, char *err, size_t errlen)
{
	const char *ca = opts ? nz(opts->ca_file) : NULL;
	const char *cert = opts ? nz(opts->cert_file) : NULL;
	const char *key = opts ? nz(opts->key_file) : NULL;
	const char *sn = opts ? nz(opts->server_name) : NULL;
	const char *name = sn ? sn : host;
	struct store *s = store_get(t, ca);
	X509_VERIFY_PARAM *param;

	if (errlen)
		err[0] = '\0';
	if (s->store == NULL) {
		copy_err(err, errlen, s->why);
		return VD_ERR_CONFIG;
	}
	if (!SSL_set1_verify_cert_store(ssl, s->store))
		abort();
	if (cert) {
		struct ident *id = ident_get(t, cert, key);
		if (id->leaf == NULL) {
			copy_err(err, errlen, id->why);
			return VD_ERR_CONFIG;
		}
		if (SSL_use_cert_and_key(ssl, id->leaf, id->pkey, id->chain,
					 1) != 1) {
			char *w = why_words(0);
			if (errlen)
				snprintf(err, errlen,
					 "could not use tls.cert_file %s: %s",
					 cert, w);
			free(w);
			return VD_ERR_CONFIG;
		}
	}
	if (name == NULL || *name == '\0')
		return 0;
	param = SSL_get0_param(ssl);
	X509_VERIFY_PARAM_set_hostflags(param,
					X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (is_ip(name)) {
		X509_VERIFY_PARAM_set1_ip_asc(param, name);
	} else {
		X509_VERIFY_PARAM_set1_host(param, name, 0);
		SSL_set_tlsext_host_name(ssl, name);
	}
	return 0;
}
