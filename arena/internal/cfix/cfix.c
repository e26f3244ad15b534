//go:build cgo

/* cfix.c: C code that uses the arena C API, for the arena tests. */

#include <pthread.h>
#include <stdlib.h>

#include "cgoguard.h" /* the public umbrella header, which includes the arena section */
#include "cfix.h"

struct worker {
	cg_arena *a;
	int tag;
	int count;
	size_t size;
	size_t align;
	cg_ref *refs;
	int got;
};

static void *worker_main(void *p) {
	struct worker *w = p;
	for (int i = 0; i < w->count; i++) {
		cg_ref ref;
		unsigned char *b = cg_arena_alloc_ref(w->a, w->size, w->align, &ref);
		if (b == NULL) {
			break;
		}
		for (size_t j = 0; j < w->size; j++) {
			b[j] = cfix_pattern(w->tag, i, j);
		}
		w->refs[w->got++] = ref;
	}
	return NULL;
}

int cfix_alloc_threads(void *a, int threads, int count, size_t size, size_t align, int tag0, cg_ref *refs, int *got) {
	pthread_t tid[64];
	struct worker w[64];
	if (threads <= 0 || threads > 64) {
		return -1;
	}
	int started = 0;
	for (int t = 0; t < threads; t++) {
		w[t] = (struct worker){a, tag0 + t, count, size, align, refs + (size_t)t * (size_t)count, 0};
		if (pthread_create(&tid[t], NULL, worker_main, &w[t]) != 0) {
			break;
		}
		started++;
	}
	for (int t = 0; t < started; t++) {
		pthread_join(tid[t], NULL);
		got[t] = w[t].got;
	}
	return started;
}

long long cfix_alloc(void *a, size_t n, size_t align) {
	unsigned char *p = cg_arena_alloc(a, n, align);
	return p == NULL ? -1 : (long long)(p - (unsigned char *)a);
}

long long cfix_resolve(void *a, cg_ref ref) {
	unsigned char *p = cg_arena_resolve(a, ref);
	return p == NULL ? -1 : (long long)(p - (unsigned char *)a);
}

int cfix_ref(void *a, long long off, size_t n, cg_ref *out) {
	return cg_arena_ref(a, off < 0 ? NULL : (unsigned char *)a + off, n, out);
}

size_t cfix_used(void *a) { return cg_arena_used(a); }
size_t cfix_capacity(void *a) { return cg_arena_capacity(a); }
unsigned cfix_generation(void *a) { return cg_arena_generation(a); }
