#include <zlib.h>
#include "exz.h"

int exz_compress(const unsigned char *src, size_t n, unsigned char *dst, size_t *dstlen, int level) {
	uLongf out = (uLongf)*dstlen;
	int rc = compress2(dst, &out, src, (uLong)n, level);
	*dstlen = (size_t)out;
	return rc;
}

int exz_uncompress(const unsigned char *src, size_t n, unsigned char *dst, size_t *dstlen) {
	uLongf out = (uLongf)*dstlen;
	uLong in = (uLong)n;
	int rc = uncompress2(dst, &out, src, &in);
	*dstlen = (size_t)out;
	return rc;
}

size_t exz_bound(size_t n) { return (size_t)compressBound((uLong)n); }

const char *exz_version(void) { return zlibVersion(); }
