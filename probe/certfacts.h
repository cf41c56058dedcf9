/*
 * certfacts.h - the facts of a leaf certificate that /probe reports as
 * blackbox_exporter's probe_ssl_last_chain_info: SHA-256 fingerprint,
 * subject and issuer (RFC 2253, as Go prints them) and DNS names. Shared
 * by the tls check and the HTTP client; depends on OpenSSL and probe.h.
 */
#ifndef VD_CERTFACTS_H
#define VD_CERTFACTS_H

#include <openssl/x509.h>

#include "probe.h"

/* Adds tls_leaf_sha256, tls_leaf_subject, tls_leaf_issuer and
 * tls_leaf_dns_names (comma-separated) for leaf. NULL leaf: nothing. */
void vd_cert_leaf_facts(struct vd_result *res, X509 *leaf);
/* The same from a PEM text (libcurl's CURLINFO_CERTINFO "Cert:" entry);
 * a PEM that does not parse adds nothing. */
void vd_cert_leaf_facts_pem(struct vd_result *res, const char *pem);

#endif
