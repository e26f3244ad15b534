// Package withtests has a hazard only in its test file, for -tests.
package withtests

// #include <stdint.h>
// static void process(uintptr_t h) { (void)h; }
import "C"

import "runtime/cgo"

// Process hands a handle to C.
func Process(h cgo.Handle) { C.process(C.uintptr_t(h)) }
