/*
 * page.c - a rendered /metrics page shared by the responses sending it:
 * its references and its gzip form. Depends on zlib and exporter_int.h's
 * types only (not on the server or the front).
 */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "exporter_int.h"

void
vd_exp_page_unref(void *arg)
{
	struct vd_exp_page *pg = arg;
	if (pg == NULL || --pg->refs > 0)
		return;
	(*pg->live)--;
	free(pg->out.data);
	free(pg->gz.data);
	free(pg);
}

bool
vd_exp_gzip(const char *in, size_t len, struct vd_exp_out *out)
{
	z_stream z;
	int r;

	memset(&z, 0, sizeof(z));
	/* 15 + 16: a gzip wrapper; level 1: the text format still shrinks
	 * about fifteenfold, at the least CPU */
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return false;
	out->len = 0;
	vd_exp_out_reserve(out, deflateBound(&z, len));
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)len;
	z.next_out = (unsigned char *)out->data;
	z.avail_out = (uInt)(out->cap - out->len);
	r = deflate(&z, Z_FINISH);
	out->len = z.total_out;
	deflateEnd(&z);
	return r == Z_STREAM_END;
}
