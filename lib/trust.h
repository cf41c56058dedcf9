/*
 * trust.h - the one trust store and the one place where the suite's "tls"
 * object (struct vd_tls_opts) is applied to a connection: to a libcurl
 * transfer (http, security_headers, cors, the deployer's requests) and to
 * an OpenSSL connection (the tls check) alike. Depends on OpenSSL,
 * libcurl and libc only.
 *
 * What the options mean, everywhere:
 *  - ca_file unset (NULL or ""): the default trust store, which is
 *    $SSL_CERT_FILE and/or $SSL_CERT_DIR when either is set (non-empty),
 *    else the system bundle (libcurl's built-in CA file; Debian:
 *    /etc/ssl/certs/ca-certificates.crt). ca_file set: only that file.
 *    Stores trust partial chains (a trusted intermediate or leaf in the
 *    file is enough), as libcurl's own stores do.
 *  - verify false: the peer's certificate is not enforced (libcurl does
 *    not fail the transfer); a tls check still reports what verification
 *    found.
 *  - cert_file/key_file: a PEM client certificate (with its chain) and
 *    key; key_file unset means the key is in cert_file.
 *  - server_name: the name sent in SNI and verified against the
 *    certificate, instead of the target's host (SNI is never sent for an
 *    address literal).
 *
 * Cost: a store or client identity is read and parsed once, when first
 * used, and again when its file changed (inode, size or mtime); files are
 * looked at with stat() at most once per recheck interval (1 s by default)
 * per file. Loading runs on the caller's thread (the loop), as it did
 * before this module: Debian 12's system bundle (144 certificates) costs
 * about 18 ms of CPU with OpenSSL 3.0 (80-130 ms of wall time on a 2-core
 * machine at load 11), a one-certificate private CA 0.1 ms, once per
 * change of the file and trust store. Directory stores ($SSL_CERT_DIR)
 * read a hashed file when a certificate is looked up during a handshake.
 */
#ifndef VD_TRUST_H
#define VD_TRUST_H

#include <stddef.h>

#include <curl/curl.h>
#include <openssl/ssl.h>

struct vd_tls_opts;
struct vd_trust;

/* An empty trust cache; the environment ($SSL_CERT_FILE, $SSL_CERT_DIR)
 * is read now. Aborts on out-of-memory. */
struct vd_trust *vd_trust_new(void);
/* Frees every store and identity. Connections set up earlier keep their
 * own references. NULL does nothing. */
void vd_trust_free(struct vd_trust *t);
/* How long a file is trusted not to have changed, seconds (default 1;
 * 0: stat() on every use). */
void vd_trust_set_recheck(struct vd_trust *t, double seconds);

/*
 * Applies opts (NULL: every default) to a libcurl handle: peer and host
 * verification, the trust store, the client certificate. With t, the
 * store and identity are t's shared, parsed copies (handed to libcurl's
 * SSL_CTX callback, which this takes over); with t NULL, libcurl reads
 * the same files itself for each connection. Returns 0, or VD_ERR_CONFIG
 * with err set ("could not load tls.ca_file /x: no such file") when a
 * file cannot be used (only with t).
 */
int vd_trust_curl(struct vd_trust *t, CURL *easy,
		  const struct vd_tls_opts *opts, char *err, size_t errlen);

/*
 * Applies opts (NULL: every default) to a client SSL object before its
 * handshake, from t (not NULL): the verify store (always set, so that
 * verification is evaluated even when opts->verify is false: the caller chooses
 * the verify mode), the client certificate, and the name: opts->server_name,
 * else host, as SNI (unless an address) and as the name or address
 * verified (no partial wildcards). Returns 0, or VD_ERR_CONFIG with err
 * set when a file cannot be used.
 */
int vd_trust_ssl(struct vd_trust *t, SSL *ssl, const struct vd_tls_opts *opts,
		 const char *host, char *err, size_t errlen);

#endif
