/*
 * fuzz_pg_error.c - libFuzzer target: libpq's connection error text (it
 * quotes what a PostgreSQL server said: severity, SQLSTATE, message,
 * DETAIL) through the parser and the redactor that build a postgres
 * check's reasons. Built by `make fuzz` only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../probe/checks/checks.h"
#include "../../lib/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *msg = vd_xstrndup((const char *)data, size);
	char *r = vd_pg_fuzz_conn_error(msg);
	if (r == NULL)
		abort();
	free(r);
	free(msg);
	return 0;
}
