/*
 * fuzz_serve_request.c - libFuzzer target: the request parser of `verdict
 * serve`'s HTTP front (head end, request line, headers, query arguments, the
 * Basic credentials, Accept-Encoding, the scrape-timeout header) on arbitrary
 * bytes. A parsed request must have a method, a path starting with '/'
 * and no more than VD_HTTP_MAX_ARGS arguments. Built by `make fuzz` only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../exporter/exporter_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vd_exp_http_request rq;
	const char *why = NULL;
	char *buf, *cred, *colon;
	size_t end;
	double t;
	unsigned st;

	if (size > 16 * 1024)
		return 0;
	buf = malloc(size ? size : 1);
	memcpy(buf, data, size);
	end = vd_exp_http_head_end(buf, size, 0);
	if (end == 0) {
		free(buf);
		return 0;
	}
	st = vd_exp_http_parse(buf, end, &rq, &why);
	if (st == 0) {
		if (rq.method == NULL || rq.path == NULL ||
		    rq.target_raw[0] != '/' || rq.nargs > VD_HTTP_MAX_ARGS)
			abort();
		cred = vd_exp_http_basic(rq.authorization, &colon);
		if (cred && (colon == NULL || *colon != ':'))
			abort();
		free(cred);
		if (rq.accept_encoding)
			(void)vd_exp_http_wants_gzip(rq.accept_encoding);
		(void)vd_exp_http_scrape_timeout(rq.scrape_timeout, &t);
	} else if (why == NULL || st < 400) {
		abort();
	}
	vd_exp_http_request_clear(&rq);
	free(buf);
	return 0;
}
