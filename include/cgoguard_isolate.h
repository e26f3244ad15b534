/* cgoguard_isolate.h: the isolate section of the cgoguard C API; included
 * by cgoguard.h. Defined by the Go package
 * github.com/cgoguard/cgoguard/isolate.
 *
 * In a worker process of an isolate pool, the guarded functions run with
 * their argument in the pool's arena, which the worker maps at the same
 * address as the parent: pointers from the argument into the arena are
 * valid on both sides. C code that allocates more room for its results
 * takes it from that arena, so the parent can read them after the call.
 */
#ifndef CGOGUARD_ISOLATE_H_PUBLIC
#define CGOGUARD_ISOLATE_H_PUBLIC

#include "cgoguard_arena.h"

#ifdef __cplusplus
extern "C" {
#endif

/* cg_isolate_worker returns the index of this worker in its pool (0 to
 * workers-1), or -1 when the process is not a worker. */
int cg_isolate_worker(void);

/* cg_isolate_arena returns the pool's arena in a worker process (for
 * cg_arena_alloc), or NULL when the process is not a worker. */
cg_arena *cg_isolate_arena(void);

#ifdef __cplusplus
}
#endif

#endif /* CGOGUARD_ISOLATE_H_PUBLIC */
