/* cgoguard_bridge.h: the bridge section of the cgoguard C API; included by cgoguard.h. */
#ifndef CGOGUARD_BRIDGE_H
#define CGOGUARD_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* CGOGUARD_BRIDGE_H */
