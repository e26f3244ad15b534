#ifndef EXAMPLE_ISOLATED_ZLIB_H
#define EXAMPLE_ISOLATED_ZLIB_H
#include <stddef.h>

/* One zlib call: src/n in, dst/dstlen out (capacity in, size out). The
 * struct and both buffers live in the pool's arena, which the worker maps
 * at the same address as the server, so these pointers are valid in both. */
struct iz_req {
	const unsigned char *src;
	size_t n;
	unsigned char *dst;
	size_t dstlen;
	int level;
};

/* Guarded functions (int fn(void *arg), arg a struct iz_req): 0 on success,
 * else the negative zlib status with a message (cg_set_error). */
int iz_compress(void *arg);
int iz_uncompress(void *arg);
/* iz_crash runs inflate on a stream whose state was never initialised:
 * zlib follows a garbage pointer and the worker dies of SIGSEGV. */
int iz_crash(void *arg);
size_t iz_bound(size_t n);
#endif
