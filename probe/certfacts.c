/*
 * certfacts.c - leaf certificate facts for /probe's
 * probe_ssl_last_chain_info (see certfacts.h). Depends on OpenSSL, util.c
 * and result.c only.
 */
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "certfacts.h"
#include "../lib/util.h"

/* RFC 2253, most specific first: what Go's pkix.Name.String() prints. */
static char *
name_2253(const X509_NAME *n)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *out;
	long len;

	if (bio == NULL)
		abort();
	X509_NAME_print_ex(bio, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	len = BIO_get_mem_data(bio, &data);
	out = vd_xstrndup(data ? data : "", len > 0 ? (size_t)len : 0);
	BIO_free(bio);
	return out;
}

void
vd_cert_leaf_facts(struct vd_result *res, X509 *leaf)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0, i;
	char hex[2 * EVP_MAX_MD_SIZE + 1], *s;
	GENERAL_NAMES *gens;
	struct vd_buf b;
	int k;

	if (leaf == NULL)
		return;
	if (X509_digest(leaf, EVP_sha256(), md, &mdlen) == 1) {
		for (i = 0; i < mdlen; i++)
			snprintf(hex + 2 * (size_t)i, 3, "%02x", md[i]);
		hex[2 * (size_t)mdlen] = '\0';
		vd_result_fact_str(res, "tls_leaf_sha256", hex);
	}
	s = name_2253(X509_get_subject_name(leaf));
	vd_result_fact_str(res, "tls_leaf_subject", s);
	free(s);
	s = name_2253(X509_get_issuer_name(leaf));
	vd_result_fact_str(res, "tls_leaf_issuer", s);
	free(s);
	gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	vd_buf_init(&b, 4096);
	for (k = 0; gens && k < sk_GENERAL_NAME_num(gens); k++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, k);
		if (g->type != GEN_DNS)
			continue;
		vd_buf_printf(&b, "%s%.*s", b.len ? "," : "",
			      ASN1_STRING_length(g->d.ia5),
			      (const char *)ASN1_STRING_get0_data(g->d.ia5));
	}
	GENERAL_NAMES_free(gens);
	vd_result_fact_str(res, "tls_leaf_dns_names", b.data ? b.data : "");
	vd_buf_free(&b);
}

void
vd_cert_leaf_facts_pem(struct vd_result *res, const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *x;

	if (bio == NULL)
		abort();
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	vd_cert_leaf_facts(res, x);
	X509_free(x);
}
