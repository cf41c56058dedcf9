/*
 * fuzz_cert.c - libFuzzer target: a peer's certificate (DER, as a TLS
 * server sends it, and the same bytes as PEM text, as libcurl hands it
 * over) through the code that turns it into facts and /probe's chain
 * info labels (probe/certfacts.c). Built by `make fuzz` only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "../../probe/certfacts.h"
#include "../../lib/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *p = data;
	X509 *x = d2i_X509(NULL, &p, (long)size);
	struct vd_result res;
	char *pem;

	vd_result_init(&res);
	if (x != NULL) {
		vd_cert_leaf_facts(&res, x);
		X509_free(x);
	}
	vd_result_clear(&res);
	vd_result_init(&res);
	pem = vd_xstrndup((const char *)data, size);
	vd_cert_leaf_facts_pem(&res, pem);
	free(pem);
	vd_result_clear(&res);
	return 0;
}
