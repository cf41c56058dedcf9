/*
 * fuzz_redis.c - libFuzzer target: what a Redis server sends. The input is
 * a byte stream of replies, fed in pieces to hiredis' reader with the
 * limits a redis check sets (declared sizes against max_body), each reply
 * shown as a reason would show it. Never a crash, a leak, or an allocation
 * max_body cannot justify (ASan aborts on a huge one). Built by `make
 * fuzz` only; depends on probe/.
 */
#include <stdint.h>
#include <stdlib.h>

#include "../../probe/checks/checks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the first byte picks max_body: 64 bytes to 64 KiB */
	size_t max_body;
	if (size == 0)
		return 0;
	max_body = (size_t)64 << (data[0] % 11);
	vd_redis_fuzz_replies((const char *)data + 1, size - 1, max_body);
	return 0;
}
