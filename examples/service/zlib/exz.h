#ifndef EXAMPLE_ZLIB_H
#define EXAMPLE_ZLIB_H
#include <stddef.h>

/* Compress n bytes of src into dst (capacity *dstlen) at level; on return
   *dstlen is the compressed size. Returns a zlib status (Z_OK = 0). */
int exz_compress(const unsigned char *src, size_t n, unsigned char *dst, size_t *dstlen, int level);
/* Inflate n bytes of src into dst (capacity *dstlen). */
int exz_uncompress(const unsigned char *src, size_t n, unsigned char *dst, size_t *dstlen);
/* Upper bound of the compressed size of n bytes. */
size_t exz_bound(size_t n);
const char *exz_version(void);
#endif
