/* cgoguard_observe.h: the observe section of the cgoguard C API; included by cgoguard.h. */
#ifndef CGOGUARD_OBSERVE_H
#define CGOGUARD_OBSERVE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* CGOGUARD_OBSERVE_H */
