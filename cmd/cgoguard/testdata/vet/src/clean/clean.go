// Package clean uses cgo correctly: cgoguard vet reports nothing.
package clean

/*
#include <stdint.h>
#include <stdlib.h>
static void process(uintptr_t h) { (void)h; }
static void use(void *p, int n) { (void)p; (void)n; }
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

// Send gives C a handle for the duration of the call.
func Send(v any) {
	h := cgo.NewHandle(v)
	defer h.Delete()
	C.process(C.uintptr_t(h))
}

// Bytes passes a checked slice.
func Bytes(b []byte) {
	if len(b) == 0 {
		return
	}
	C.use(unsafe.Pointer(&b[0]), C.int(len(b)))
}

// Name passes a C string and frees it.
func Name(s string) {
	cs := C.CString(s)
	defer C.free(unsafe.Pointer(cs))
	C.use(unsafe.Pointer(cs), C.int(len(s)))
}
