#ifndef CFIX_H
#define CFIX_H

#include <stddef.h>
#include "cgoguard_arena.h"

static inline unsigned char cfix_pattern(int tag, int seq, size_t j) {
	return (unsigned char)((unsigned)tag * 31u + (unsigned)seq * 7u + (unsigned)j);
}

int cfix_alloc_threads(void *a, int threads, int count, size_t size, size_t align, int tag0, cg_ref *refs, int *got);
long long cfix_alloc(void *a, size_t n, size_t align);
long long cfix_resolve(void *a, cg_ref ref);
int cfix_ref(void *a, long long off, size_t n, cg_ref *out);
size_t cfix_used(void *a);
size_t cfix_capacity(void *a);
unsigned cfix_generation(void *a);

#endif
