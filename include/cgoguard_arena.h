/* cgoguard_arena.h: the arena section of the cgoguard C API; included by cgoguard.h. */
#ifndef CGOGUARD_ARENA_H
#define CGOGUARD_ARENA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* CGOGUARD_ARENA_H */
