// Package vetmod is a fixture for cgoguard-vet: one finding, one
// suppressed finding.
package vetmod

/*
#include <stdint.h>
static void process(uintptr_t h) { (void)h; }
*/
import "C"

import "runtime/cgo"

// Leak creates a handle and never deletes it.
func Leak(v any) {
	h := cgo.NewHandle(v)
	C.process(C.uintptr_t(h))
}

// Owned hands the handle to C, which deletes it.
func Owned(v any) {
	h := cgo.NewHandle(v) //cgoguard:ignore CG024 the C side deletes it in its completion callback
	C.process(C.uintptr_t(h))
}
