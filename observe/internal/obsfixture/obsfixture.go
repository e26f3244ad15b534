//go:build cgo

// Package obsfixture holds C code that uses the observe section of the C
// API (snapshot callbacks, the status reader), for the tests of package
// observe.
package obsfixture

/*
#cgo CFLAGS: -I${SRCDIR}/../../../include -Wall -Wextra -Werror -O2 -g
#include <stdlib.h>
#include "obsfixture.h"
*/
import "C"

import (
	"unsafe"

	_ "github.com/cgoguard/cgoguard/observe" // defines the cg_snapshot_* and cg_status_* functions
)

func call(fn func(*C.char) C.int, module string) int {
	cm := C.CString(module)
	defer C.free(unsafe.Pointer(cm))
	return int(fn(cm))
}

// Register registers a snapshot callback for module reporting
// queue_depth (see SetDepth) and version; it returns the C result.
func Register(module string) int {
	return call(func(m *C.char) C.int { return C.ofx_register(m) }, module)
}

// Unregister removes the callback of Register.
func Unregister(module string) int {
	return call(func(m *C.char) C.int { return C.ofx_unregister(m) }, module)
}

// RegisterFlood registers a callback that puts more pairs than a snapshot
// holds.
func RegisterFlood(module string) int {
	return call(func(m *C.char) C.int { return C.ofx_register_flood(m) }, module)
}

// UnregisterFlood removes the callback of RegisterFlood.
func UnregisterFlood(module string) int {
	return call(func(m *C.char) C.int { return C.ofx_unregister_flood(m) }, module)
}

// BadRegistrations returns how many invalid calls (of 4) were refused with
// -EINVAL.
func BadRegistrations(module string) int {
	return call(func(m *C.char) C.int { return C.ofx_register_bad(m) }, module)
}

// SetDepth sets the queue_depth the callback reports.
func SetDepth(d int) { C.ofx_set_depth(C.int(d)) }

// StatusModules is a guarded C function (int fn(void *arg)) that reads the
// process's status file with cg_status_read(NULL, ...) and returns how many
// modules it lists (or -errno); arg may be NULL.
var StatusModules = unsafe.Pointer(C.ofx_status_nmodules)
