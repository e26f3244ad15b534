/* cgoguard_arena.h: the arena section of the cgoguard C API; included by cgoguard.h.
 *
 * An arena is one bump-allocated memory region shared by Go code, C code
 * and, when it is backed by a shared-memory file, other processes. Go
 * creates it (arena.New) and hands C a cg_arena* (Arena.CPtr). C code then
 * allocates from it concurrently with Go, with the same atomic cursor, and
 * turns references it is handed back into pointers. Defined by the Go
 * package github.com/cgoguard/cgoguard/arena, which the program must import.
 *
 * Memory from an arena is never freed one block at a time: the whole arena
 * is reset (Arena.Reset in Go), which bumps its generation and invalidates
 * every reference and pointer handed out before. Memory is not zeroed on
 * reuse. A cg_arena* MUST NOT be used after the Go side closed the arena.
 *
 * References (cg_ref)
 *
 * A reference names a block independently of the address it is mapped at,
 * so it can cross process boundaries. It is four little-endian fields, 24
 * bytes, exactly the layout of struct cg_ref below and of the Go encoding
 * arena.Ref.MarshalBinary:
 *
 *     bytes  0..3   arena   arena id (nonzero; shared by every mapping of the arena)
 *     bytes  4..7   gen     generation the block was allocated in (nonzero)
 *     bytes  8..15  off     offset of the block from the start of the arena mapping
 *                           (the first block starts at 4096, after the header page)
 *     bytes 16..23  len     length of the block in bytes (nonzero)
 *
 * Its text form (arena.Ref.MarshalText) is "cgref:<arena as 8 lower-case
 * hex digits>:<gen>:<off>:<len>" with decimal numbers, e.g.
 * "cgref:1a2b3c4d:1:4096:64".
 *
 * A reference resolves only in the arena whose id it carries, only while
 * that arena is still in the same generation, and only if the whole block
 * lies inside the part of the arena allocated so far.
 *
 * Concurrency: every function below may be called from any thread at the
 * same time as Go code and other processes use the same arena. The header
 * holds one 64-bit state word, generation << 32 | cursor (in 8-byte units):
 * C moves it with a compare-and-swap, Go's Arena.Alloc with an atomic add
 * for small blocks. An add that loses the race for the last units leaves
 * the cursor past the capacity for a moment (or until the next reset), so
 * code reading the word treats a cursor past the capacity as "full" and
 * clamps it to the capacity; the functions below do.
 */
#ifndef CGOGUARD_ARENA_H
#define CGOGUARD_ARENA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* cg_arena is the arena header; it lives at the start of the mapping. */
typedef struct cg_arena cg_arena;

/* cg_ref is a reference to a block in an arena (see above). */
typedef struct cg_ref {
	uint32_t arena;
	uint32_t gen;
	uint64_t off;
	uint64_t len;
} cg_ref;

/* CG_ARENA_MAX_ALIGN is the largest alignment cg_arena_alloc accepts. */
#define CG_ARENA_MAX_ALIGN 4096

/* cg_arena_alloc returns n bytes aligned to align (a power of two up to
 * CG_ARENA_MAX_ALIGN; 0 means 8; every block is at least 8-aligned), or NULL
 * when the arena is exhausted, a is NULL, n is 0 or align is invalid. Blocks
 * never overlap. */
void *cg_arena_alloc(cg_arena *a, size_t n, size_t align);

/* cg_arena_alloc_ref is cg_arena_alloc that also stores the block's
 * reference in *ref (when ref is not NULL), for handing the block to Go or
 * to another process. */
void *cg_arena_alloc_ref(cg_arena *a, size_t n, size_t align, cg_ref *ref);

/* cg_arena_resolve returns the address of the block ref names, or NULL when
 * the reference is rejected: another arena, an older generation, or not
 * inside the allocated part of the arena. */
void *cg_arena_resolve(cg_arena *a, cg_ref ref);

/* cg_arena_ref stores in *out the reference to the n bytes at p, which must
 * lie inside the allocated part of the arena. It returns 0, or -EINVAL (a,
 * p or out NULL, n 0) or -ERANGE (p..p+n not inside the allocated part). */
int cg_arena_ref(cg_arena *a, const void *p, size_t n, cg_ref *out);

/* cg_arena_used returns the bytes allocated so far in this generation
 * (including alignment padding); cg_arena_capacity the bytes the arena can
 * hand out; cg_arena_generation the current generation. */
size_t cg_arena_used(const cg_arena *a);
size_t cg_arena_capacity(const cg_arena *a);
uint32_t cg_arena_generation(const cg_arena *a);

#ifdef __cplusplus
}
#endif

#endif /* CGOGUARD_ARENA_H */
