//go:build cgo

// Package cbase is the untracked baseline for the cmem benchmarks: cgo's own
// C.CString and C.free.
package cbase

/*
#include <stdlib.h>
*/
import "C"

import "unsafe"

// Available reports whether the baseline is built (it needs cgo).
const Available = true

// CStringFree calls C.CString(s) and frees the result with C.free.
func CStringFree(s string) {
	p := C.CString(s)
	C.free(unsafe.Pointer(p))
}
