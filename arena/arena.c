//go:build cgo

/* arena.c: the C side of package arena. The header layout below MUST match
 * the offsets in layout.go; TestLayoutMatchesC checks it. */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "cgoguard_arena.h"

#define CG_ARENA_UNIT 8u
#define CG_ARENA_MAGIC 0x31414e4552414743ull /* "CGARENA1" little-endian */

struct cg_arena {
	uint64_t magic;      /*   0 */
	uint32_t version;    /*   8 */
	uint32_t id;         /*  12 */
	uint64_t map_size;   /*  16 */
	uint64_t data_off;   /*  24 */
	uint64_t capacity;   /*  32 */
	uint32_t flags;      /*  40 */
	uint32_t reserved0;  /*  44 */
	uint64_t reserved1[2];
	uint64_t state;      /*  64: generation << 32 | cursor in 8-byte units */
	uint64_t pad[7];
	uint64_t high_water; /* 128 */
	uint64_t exhausted;  /* 136 */
	uint64_t gen;        /* 144: generation mirror, written by Reset (Go) */
	uint64_t reserved2[5];
	char name[64];       /* 192 */
};

_Static_assert(offsetof(struct cg_arena, state) == 64, "state offset");
_Static_assert(offsetof(struct cg_arena, high_water) == 128, "high_water offset");
_Static_assert(offsetof(struct cg_arena, name) == 192, "name offset");
_Static_assert(sizeof(cg_ref) == 24, "cg_ref is 24 bytes");

/* used_units returns the cursor of state s clamped to the capacity: Go's
 * Arena.Alloc bumps the cursor with an atomic add, and an add that loses
 * the race for the last units leaves it past the capacity for a moment
 * (until it is taken back, or until the next reset). */
static uint64_t used_units(const cg_arena *a, uint64_t s) {
	uint64_t cur = s & 0xffffffffu;
	uint64_t cap_units = a->capacity / CG_ARENA_UNIT;
	return cur < cap_units ? cur : cap_units;
}

static void *arena_alloc(cg_arena *a, size_t n, size_t align, cg_ref *ref) {
	if (a == NULL || n == 0) {
		return NULL;
	}
	if (align == 0) {
		align = CG_ARENA_UNIT;
	}
	if ((align & (align - 1)) != 0 || align > CG_ARENA_MAX_ALIGN) {
		return NULL;
	}
	uint64_t au = align < CG_ARENA_UNIT ? 1 : align / CG_ARENA_UNIT;
	uint64_t cap_units = a->capacity / CG_ARENA_UNIT;
	if ((uint64_t)n > a->capacity) {
		__atomic_fetch_add(&a->exhausted, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	uint64_t nu = ((uint64_t)n + CG_ARENA_UNIT - 1) / CG_ARENA_UNIT;
	uint64_t s = __atomic_load_n(&a->state, __ATOMIC_ACQUIRE);
	for (;;) {
		uint64_t gen = s >> 32;
		uint64_t cur = s & 0xffffffffu;
		uint64_t start = (cur + au - 1) & ~(au - 1);
		uint64_t end = start + nu;
		/* A cursor past the capacity (see used_units) means full, too. */
		if (end > cap_units) {
			__atomic_fetch_add(&a->exhausted, 1, __ATOMIC_RELAXED);
			return NULL;
		}
		uint64_t next = (gen << 32) | end;
		if (__atomic_compare_exchange_n(&a->state, &s, next, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			uint64_t off = a->data_off + start * CG_ARENA_UNIT;
			if (ref != NULL) {
				ref->arena = a->id;
				ref->gen = (uint32_t)gen;
				ref->off = off;
				ref->len = (uint64_t)n;
			}
			return (char *)a + off;
		}
		/* s now holds the current state; retry. */
	}
}

void *cg_arena_alloc(cg_arena *a, size_t n, size_t align) {
	return arena_alloc(a, n, align, NULL);
}

void *cg_arena_alloc_ref(cg_arena *a, size_t n, size_t align, cg_ref *ref) {
	return arena_alloc(a, n, align, ref);
}

/* arena_check returns 0 if [off, off+len) lies in the part of generation gen
 * allocated so far, -ESTALE for another generation, -ERANGE otherwise. */
static int arena_check(cg_arena *a, uint32_t gen, uint64_t off, uint64_t len) {
	uint64_t s = __atomic_load_n(&a->state, __ATOMIC_ACQUIRE);
	if ((uint32_t)(s >> 32) != gen) {
		return -ESTALE;
	}
	uint64_t used_end = a->data_off + used_units(a, s) * CG_ARENA_UNIT;
	if (len == 0 || off < a->data_off || off > used_end || len > used_end - off) {
		return -ERANGE;
	}
	return 0;
}

void *cg_arena_resolve(cg_arena *a, cg_ref ref) {
	if (a == NULL || ref.arena != a->id) {
		return NULL;
	}
	if (arena_check(a, ref.gen, ref.off, ref.len) != 0) {
		return NULL;
	}
	return (char *)a + ref.off;
}

int cg_arena_ref(cg_arena *a, const void *p, size_t n, cg_ref *out) {
	if (a == NULL || p == NULL || out == NULL || n == 0) {
		return -EINVAL;
	}
	uintptr_t base = (uintptr_t)a;
	uintptr_t addr = (uintptr_t)p;
	if (addr < base) {
		return -ERANGE;
	}
	uint64_t s = __atomic_load_n(&a->state, __ATOMIC_ACQUIRE);
	uint32_t gen = (uint32_t)(s >> 32);
	uint64_t off = (uint64_t)(addr - base);
	int rc = arena_check(a, gen, off, (uint64_t)n);
	if (rc != 0) {
		return rc == -ESTALE ? -ERANGE : rc;
	}
	out->arena = a->id;
	out->gen = gen;
	out->off = off;
	out->len = (uint64_t)n;
	return 0;
}

size_t cg_arena_used(const cg_arena *a) {
	if (a == NULL) {
		return 0;
	}
	uint64_t s = __atomic_load_n(&a->state, __ATOMIC_ACQUIRE);
	return (size_t)(used_units(a, s) * CG_ARENA_UNIT);
}

size_t cg_arena_capacity(const cg_arena *a) {
	return a == NULL ? 0 : (size_t)a->capacity;
}

uint32_t cg_arena_generation(const cg_arena *a) {
	if (a == NULL) {
		return 0;
	}
	return (uint32_t)(__atomic_load_n(&a->state, __ATOMIC_ACQUIRE) >> 32);
}

/* cgarena_layout writes the header's field offsets, for the layout test. */
size_t cgarena_layout(size_t *out, size_t n) {
	size_t v[] = {
		offsetof(struct cg_arena, magic),     offsetof(struct cg_arena, version),
		offsetof(struct cg_arena, id),        offsetof(struct cg_arena, map_size),
		offsetof(struct cg_arena, data_off),  offsetof(struct cg_arena, capacity),
		offsetof(struct cg_arena, flags),     offsetof(struct cg_arena, state),
		offsetof(struct cg_arena, high_water), offsetof(struct cg_arena, exhausted),
		offsetof(struct cg_arena, gen),       offsetof(struct cg_arena, name),
		sizeof(struct cg_arena),
	};
	size_t count = sizeof v / sizeof v[0];
	for (size_t i = 0; i < n && i < count; i++) {
		out[i] = v[i];
	}
	return count;
}
