/*
 * cgoguard.h: the public C API of cgoguard.
 *
 * C code that runs inside guarded calls includes this header. All symbols
 * carry the cg_ prefix. The functions are defined by the cgoguard Go
 * packages (in their C files) and resolved when the program is linked, so
 * a cgo package that includes this header must also import the Go package
 * that defines what it uses: the root package for the error contract and
 * callback regions, arena for cg_arena_*, bridge for cg_bridge_*, observe
 * for cg_trace_id and snapshots, isolate for cg_isolate_*.
 *
 * The one step a user's cgo package takes: put this header on its include
 * path, e.g. with
 *
 *     //go:generate go run github.com/cgoguard/cgoguard/cmd/cgoguard header -o .
 *
 * which writes cgoguard.h (and the section headers it includes) beside the
 * package's Go files, where #include "cgoguard.h" finds it.
 */
#ifndef CGOGUARD_H
#define CGOGUARD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* CG_ABI_VERSION changes when a declaration below changes incompatibly. */
#define CG_ABI_VERSION 1

/* ---- error contract ------------------------------------------------------
 *
 * A guarded function has the signature int fn(void *arg). A return value
 * >= 0 is success and reaches Go as the int result. A negative return value
 * is a failure and reaches Go as a *cgoguard.CError: by default its Errno is
 * -rc, so `return -ENOENT;` is errors.Is(err, fs.ErrNotExist) in Go.
 *
 * cg_set_error records a richer failure for the current guarded call: code
 * (the library's own status), the errno value current at the call, and a
 * printf-style message that is copied (truncated to CG_MSG_MAX-1 bytes), so
 * no buffer outlives the call. It returns a negative value to return
 * directly:
 *
 *     if (n < 0) return cg_set_error(E_BADHDR, "bad header at %zu", off);
 *
 * The value returned is -code when code > 0, code when code < 0, and -1 when
 * code == 0. Called outside a guarded call it records nothing and returns
 * the same value.
 */
#define CG_MSG_MAX 256
int cg_set_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* cg_set_error_errno is cg_set_error with an explicit errno value. */
int cg_set_error_errno(int code, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- callback regions ----------------------------------------------------
 *
 * C code that calls back into Go (an exported Go function) from inside a
 * guarded call MUST mark the region, so that a fault in Go code, or in C
 * code the Go callback calls without a guard of its own, keeps Go's
 * semantics instead of being taken as a crash of the outer guarded call:
 *
 *     cg_callback_begin();
 *     goOnRecord(rec);        // an //export-ed Go function
 *     cg_callback_end();
 *
 * or CG_CALLBACK(goOnRecord(rec));. Regions nest, and a guarded call made
 * inside the region guards itself as usual.
 */
void cg_callback_begin(void);
void cg_callback_end(void);
#define CG_CALLBACK(stmt) do { cg_callback_begin(); stmt; cg_callback_end(); } while (0)

/* cg_in_guarded_call returns 1 when the calling thread is inside a guarded
 * call (and not inside a callback region of it), 0 otherwise. */
int cg_in_guarded_call(void);

/* ---- tracing -------------------------------------------------------------
 *
 * cg_trace_id writes the OpenTelemetry trace id of the current guarded
 * call's span (32 lower-case hex digits and a NUL) into buf and returns 1,
 * so C logs can carry it. With no span (tracing off, or outside a guarded
 * call) it writes "" and returns 0. buf may be NULL to only ask.
 */
int cg_trace_id(char buf[33]);

#ifdef __cplusplus
}
#endif

/* Sections of the API provided by the sibling packages. */
#include "cgoguard_arena.h"
#include "cgoguard_bridge.h"
#include "cgoguard_observe.h"
#include "cgoguard_isolate.h"

#endif /* CGOGUARD_H */
