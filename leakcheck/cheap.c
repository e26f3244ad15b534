//go:build cgo

/* cheap.c: the C heap as glibc sees it, for package leakcheck. */

#include <malloc.h>

/* leakcheck_cheap returns the bytes in use on the C heap: allocated chunks
 * in all arenas (uordblks) plus blocks served by mmap (hblkhd). */
unsigned long long leakcheck_cheap(void) {
	struct mallinfo2 mi = mallinfo2();
	return (unsigned long long)mi.uordblks + (unsigned long long)mi.hblkhd;
}
