package cgo

/*
#include <stdlib.h>
static int take(void *p) { (void)p; return 0; }
static int sig(void) { return 0; } // cgoguard:ignore CG032 C comment directive in the preamble
*/
import "C"

import "unsafe"

func Calls(b []byte) {
	C.take(unsafe.Pointer(&b[0])) // want `CG013: C.take`
	C.take(unsafe.Pointer(&b[0])) //cgoguard:ignore CG013 rewritten closure form
	//cgoguard:ignore CG013 own line above a rewritten call
	C.take(nil)
	C.take(nil)      // want `CG013: C.take`
	p := C.malloc(4) // want `CG013: C.malloc`
	defer C.free(p)  // want `CG013: C.free`
}
