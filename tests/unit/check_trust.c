/*
 * check_trust.c - the trust store (lib/trust.c): the words of every file
 * problem, a file that appears, changes or breaks reaching the next
 * connection (and only after the recheck interval), client identities
 * (a key that does not match, an encrypted key refused without a
 * prompt), the default store from $SSL_CERT_FILE, and "" meaning unset
 * in the "tls" object. Certificates are made here with OpenSSL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "../../lib/cfg.h"
#include "../../lib/err.h"
#include "../../lib/tls_opts.h"
#include "../../lib/trust.h"
#include "unit.h"

static char dir[64];
static SSL_CTX *ctx;

static char *
path_of(const char *name)
{
	static char buf[8][128];
	static int i;
	i = (i + 1) % 8;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

/* A self-signed certificate for cn, written to cert (and its key to key,
 * encrypted with pass when given). */
static void
make_cert(const char *cn, const char *cert, const char *key, const char *pass)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	FILE *f;

	ck_assert_ptr_nonnull(pk);
	ck_assert_ptr_nonnull(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, pk);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, n);
	ck_assert_int_gt(X509_sign(x, pk, EVP_sha256()), 0);
	f = fopen(cert, "w");
	ck_assert_ptr_nonnull(f);
	PEM_write_X509(f, x);
	fclose(f);
	if (key) {
		f = fopen(key, "w");
		ck_assert_ptr_nonnull(f);
		if (pass)
			PEM_write_PrivateKey(f, pk, EVP_aes_128_cbc(),
					     (unsigned char *)pass,
					     (int)strlen(pass), NULL, NULL);
		else
			PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL);
		fclose(f);
	}
	X509_free(x);
	EVP_PKEY_free(pk);
}

static void
write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/vd-trust.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ctx = SSL_CTX_new(TLS_client_method());
	ck_assert_ptr_nonnull(ctx);
}

static void
teardown(void)
{
	char cmd[128];
	SSL_CTX_free(ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* vd_trust_ssl() on a new SSL object; err gets the words. */
static int
apply(struct vd_trust *t, const struct vd_tls_opts *o, char *err, size_t len)
{
	SSL *ssl = SSL_new(ctx);
	int r;
	ck_assert_ptr_nonnull(ssl);
	r = vd_trust_ssl(t, ssl, o, "127.0.0.1", err, len);
	SSL_free(ssl);
	return r;
}

START_TEST(test_ca_file_lifecycle)
{
	struct vd_trust *t = vd_trust_new();
	struct vd_tls_opts o = {.verify = true, .ca_file = path_of("ca.pem")};
	char err[512], want[512];
	CURL *easy = curl_easy_init();

	vd_trust_set_recheck(t, 0);
	snprintf(want, sizeof(want),
		 "could not load tls.ca_file %s: No such file or directory",
		 o.ca_file);
	ck_assert_int_eq(apply(t, &o, err, sizeof(err)), VD_ERR_CONFIG);
	ck_assert_str_eq(err, want);
	/* libcurl transfers say the same */
	ck_assert_int_eq(vd_trust_curl(t, easy, &o, err, sizeof(err)),
			 VD_ERR_CONFIG);
	ck_assert_str_eq(err, want);

	/* the file appears: the next connection has it */
	make_cert("ca one", o.ca_file, NULL, NULL);
	ck_assert_int_eq(apply(t, &o, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(vd_trust_curl(t, easy, &o, err, sizeof(err)), 0);

	/* it is rewritten with garbage: the next connection is refused */
	write_text(o.ca_file, "not a certificate\n");
	ck_assert_int_eq(apply(t, &o, err, sizeof(err)), VD_ERR_CONFIG);
	ck_assert(strncmp(err, "could not load tls.ca_file ", 27) == 0);

	/* without verification a transfer needs no store */
	o.verify = false;
	ck_assert_int_eq(vd_trust_curl(t, easy, &o, err, sizeof(err)), 0);
	curl_easy_cleanup(easy);
	vd_trust_free(t);
}
END_TEST

START_TEST(test_recheck_interval)
{
	struct vd_trust *t = vd_trust_new();
	struct vd_tls_opts o = {.verify = true, .ca_file = path_of("ca.pem")};
	char err[512];

	/* a loaded file is not looked at again within the interval */
	vd_trust_set_recheck(t, 3600);
	make_cert("ca one", o.ca_file, NULL, NULL);
	ck_assert_int_eq(apply(t, &o, err, sizeof(err)), 0);
	write_text(o.ca_file, "broken\n");
	ck_assert_int_eq(apply(t, &o, err, sizeof(err)), 0);
	/* ... and is once it has passed */
	vd_trust_set_recheck(t, 0);
	ck_assert_int_eq(apply(t, &o, err, sizeof(err)), VD_ERR_CONFIG);
	vd_trust_free(t);
}
END_TEST

START_TEST(test_identity)
{
	struct vd_trust *t = vd_trust_new();
	struct vd_tls_opts o = {.verify = true,
				.ca_file = path_of("ca.pem"),
				.cert_file = path_of("c.pem"),
				.key_file = path_of("c.key")};
	char err[512], want[512];
	CURL *easy = curl_easy_init();

	vd_trust_set_recheck(t, 0);
	make_cert("ca", o.ca_file, NULL, NULL);
	make_cert("client", o.cert_file, o.key_file, NULL);
	ck_assert_int_eq(apply(t, &o, err, sizeof(err)), 0);
	ck_assert_int_eq(vd_trust_curl(t, easy, &o, err, sizeof(err)), 0);

	/* a key of another certificate */
	make_cert("other", path_of("o.pem"), path_of("o.key"), NULL);
	o.key_file = path_of("o.key");
	ck_assert_int_eq(apply(t, &o, err, sizeof(err)), VD_ERR_CONFIG);
	snprintf(want, sizeof(want),
		 "could not use tls.key_file %s: key values mismatch",
		 o.key_file);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(vd_trust_curl(t, easy, &o, err, sizeof(err)),
			 VD_ERR_CONFIG);
	ck_assert_str_eq(err, want);

	/* an encrypted key: refused, never a prompt */
	make_cert("enc", path_of("e.pem"), path_of("e.key"), "s3cret");
	o.cert_file = path_of("e.pem");
	o.key_file = path_of("e.key");
	ck_assert_int_eq(apply(t, &o, err, sizeof(err)), VD_ERR_CONFIG);
	ck_assert(strncmp(err, "could not use tls.key_file ", 27) == 0);

	/* no key_file: the key is in cert_file */
	make_cert("both", path_of("b.pem"), path_of("b.key"), NULL);
	{
		char cmd[256];
		snprintf(cmd, sizeof(cmd), "cat %s >> %s", path_of("b.key"),
			 path_of("b.pem"));
		ck_assert_int_eq(system(cmd), 0);
	}
	o.cert_file = path_of("b.pem");
	o.key_file = NULL;
	ck_assert_int_eq(apply(t, &o, err, sizeof(err)), 0);

	/* a missing cert_file */
	o.cert_file = path_of("none.pem");
	ck_assert_int_eq(apply(t, &o, err, sizeof(err)), VD_ERR_CONFIG);
	snprintf(want, sizeof(want),
		 "could not load tls.cert_file %s: No such file or directory",
		 o.cert_file);
	ck_assert_str_eq(err, want);
	curl_easy_cleanup(easy);
	vd_trust_free(t);
}
END_TEST

START_TEST(test_default_from_env)
{
	struct vd_trust *t;
	struct vd_tls_opts o = {.verify = true, .ca_file = (char *)""};
	char err[512], want[512];
	const char *missing = path_of("missing.pem");

	/* "" is the default store, which $SSL_CERT_FILE names */
	setenv("SSL_CERT_FILE", missing, 1);
	unsetenv("SSL_CERT_DIR");
	t = vd_trust_new();
	snprintf(want, sizeof(want),
		 "could not load the default trust store (file %s): No such "
		 "file or directory",
		 missing);
	ck_assert_int_eq(apply(t, &o, err, sizeof(err)), VD_ERR_CONFIG);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(apply(t, NULL, err, sizeof(err)), VD_ERR_CONFIG);
	ck_assert_str_eq(err, want);
	vd_trust_free(t);

	make_cert("env ca", path_of("env.pem"), NULL, NULL);
	setenv("SSL_CERT_FILE", path_of("env.pem"), 1);
	t = vd_trust_new();
	ck_assert_int_eq(apply(t, &o, err, sizeof(err)), 0);
	vd_trust_free(t);

	/* unset (or empty): the system bundle */
	setenv("SSL_CERT_FILE", "", 1);
	t = vd_trust_new();
	ck_assert_int_eq(apply(t, NULL, err, sizeof(err)), 0);
	vd_trust_free(t);
	unsetenv("SSL_CERT_FILE");
}
END_TEST

START_TEST(test_cfg_empty_is_unset)
{
	cJSON *root =
		cJSON_Parse("{\"tls\": {\"ca_file\": \"\", \"cert_file\": \"\","
			    " \"key_file\": \"\", \"server_name\": \"\"}}");
	struct vd_cfg_err e;
	struct vd_cfg c;
	struct vd_tls_opts o = {.verify = true};

	memset(&e, 0, sizeof(e));
	vd_cfg_init(&c, root, "f.json", "checks[0]", &e);
	ck_assert_int_eq(vd_cfg_tls(&c, &o), 0);
	ck_assert_ptr_null(o.ca_file);
	ck_assert_ptr_null(o.cert_file);
	ck_assert_ptr_null(o.key_file);
	ck_assert_ptr_null(o.server_name);
	ck_assert(o.verify);
	vd_cfg_release(&c);
	cJSON_Delete(root);
}
END_TEST

Suite *
trust_suite(void)
{
	Suite *s = suite_create("trust");
	TCase *tc = tcase_create("trust");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ca_file_lifecycle);
	tcase_add_test(tc, test_recheck_interval);
	tcase_add_test(tc, test_identity);
	tcase_add_test(tc, test_default_from_env);
	tcase_add_test(tc, test_cfg_empty_is_unset);
	suite_add_tcase(s, tc);
	return s;
}
