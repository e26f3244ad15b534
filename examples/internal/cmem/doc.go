// Package cmem measures what a Go process holds on the C side: bytes in
// use on the C heap (glibc mallinfo2) and open file descriptors. The
// examples' leak tests use it to show per-call growth.
//
// Example:
//
//	before, _ := cmem.HeapInUse()
//	for range 1000 {
//		callC()
//	}
//	after, _ := cmem.HeapInUse()
//	// after-before stays near 0 when callC frees what it allocates
//
// Functions are safe for concurrent use (the figures are process-wide).
package cmem

import "errors"

// ErrNotSupported is returned when the process was built without cgo.
var ErrNotSupported = errors.New("cgoguard: cmem needs cgo")
