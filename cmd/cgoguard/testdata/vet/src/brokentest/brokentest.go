// Package brokentest has a hazard in its code and a test file that does
// not type-check: with -tests the package is still analysed.
package brokentest

// #include <stdint.h>
// static void process(uintptr_t h) { (void)h; }
import "C"

import "runtime/cgo"

// Leak never deletes its handle.
func Leak(v any) {
	h := cgo.NewHandle(v)
	C.process(C.uintptr_t(h))
}
