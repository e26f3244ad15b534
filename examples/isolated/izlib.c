#include <errno.h>
#include <string.h>
#include <zlib.h>

#include "cgoguard.h"
#include "izlib.h"

/* The errno closest to a zlib status, so Go callers can use errors.Is. */
static int iz_errno(int rc) {
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

int iz_compress(void *arg) {
	struct iz_req *r = arg;
	uLongf out = (uLongf)r->dstlen;
	int rc = compress2(r->dst, &out, r->src, (uLong)r->n, r->level);
	if (rc != Z_OK)
		return cg_set_error_errno(rc, iz_errno(rc), "compress2: %s", zError(rc));
	r->dstlen = (size_t)out;
	return 0;
}

int iz_uncompress(void *arg) {
	struct iz_req *r = arg;
	uLongf out = (uLongf)r->dstlen;
	uLong in = (uLong)r->n;
	int rc = uncompress2(r->dst, &out, r->src, &in);
	if (rc != Z_OK)
		return cg_set_error_errno(rc, iz_errno(rc), "uncompress2: %s", zError(rc));
	r->dstlen = (size_t)out;
	return 0;
}

/* The stream's fields come from a volatile source so the compiler cannot
 * see through the garbage. */
static volatile unsigned long iz_garbage = 0xdead0000ul;

int iz_crash(void *arg) {
	(void)arg;
	z_stream s;
	unsigned char in[16] = {0x78, 0x9c}, out[16];
	memset(&s, 0, sizeof(s));
	s.next_in = in;
	s.avail_in = sizeof(in);
	s.next_out = out;
	s.avail_out = sizeof(out);
	s.zalloc = (alloc_func)iz_garbage;
	s.zfree = (free_func)iz_garbage;
	s.state = (struct internal_state *)iz_garbage;
	return inflate(&s, Z_NO_FLUSH);
}

size_t iz_bound(size_t n) { return (size_t)compressBound((uLong)n); }
