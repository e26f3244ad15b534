#ifndef EXAMPLE_ZLIB_H
#define EXAMPLE_ZLIB_H
#include <stddef.h>

/* One zlib call: src/n in, dst/dstlen out (capacity in, size out). The Go
 * side pins the buffers for the length of the call; C keeps no pointer. */
struct exz_req {
	const unsigned char *src;
	size_t n;
	unsigned char *dst;
	size_t dstlen;
	int level;
};

/* Guarded functions (int fn(void *arg), arg a struct exz_req): 0 on success,
 * EXZ_MORE when dst was too small for the output (exz_uncompress; grow it
 * and call again), else the negative zlib status with a message
 * (cg_set_error). */
#define EXZ_MORE 1
int exz_compress(void *arg);
int exz_uncompress(void *arg);
/* Upper bound of the compressed size of n bytes. */
size_t exz_bound(size_t n);
const char *exz_version(void);
#endif
