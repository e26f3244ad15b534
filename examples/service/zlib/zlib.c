#include <errno.h>
#include <zlib.h>

#include "cgoguard.h"
#include "exz.h"

/* The errno closest to a zlib status, so Go callers can use errors.Is. */
static int exz_errno(int rc) {
	switch (rc) {
	case Z_MEM_ERROR:
		return ENOMEM;
	case Z_BUF_ERROR:
		return ENOBUFS;
	case Z_DATA_ERROR:
	case Z_STREAM_ERROR:
		return EINVAL;
	}
	return EIO;
}

int exz_compress(void *arg) {
	struct exz_req *r = arg;
	uLongf out = (uLongf)r->dstlen;
	int rc = compress2(r->dst, &out, r->src, (uLong)r->n, r->level);
	if (rc != Z_OK)
		return cg_set_error_errno(rc, exz_errno(rc), "compress2: %s", zError(rc));
	r->dstlen = (size_t)out;
	return 0;
}

int exz_uncompress(void *arg) {
	struct exz_req *r = arg;
	uLongf out = (uLongf)r->dstlen;
	uLong in = (uLong)r->n;
	int rc = uncompress2(r->dst, &out, r->src, &in);
	/* uncompress2 says Z_BUF_ERROR for a full output buffer (a truncated
	 * input is Z_DATA_ERROR): not a failure, the caller grows dst. */
	if (rc == Z_BUF_ERROR && out == (uLongf)r->dstlen)
		return EXZ_MORE;
	if (rc != Z_OK)
		return cg_set_error_errno(rc, exz_errno(rc), "uncompress2: %s", zError(rc));
	r->dstlen = (size_t)out;
	return 0;
}

size_t exz_bound(size_t n) { return (size_t)compressBound((uLong)n); }

const char *exz_version(void) { return zlibVersion(); }
