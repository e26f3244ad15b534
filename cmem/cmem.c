//go:build cgo

/* cmem.c: the C side of package cmem, plain libc calls. */

#include <stdlib.h>

void *cmem_malloc(size_t n) { return malloc(n); }
void *cmem_calloc(size_t count, size_t size) { return calloc(count, size); }
void cmem_free(void *p) { free(p); }
