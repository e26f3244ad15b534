#include <string.h>
#include <zlib.h>

#include "izlib.h"

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
