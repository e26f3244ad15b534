//go:build !cgo

package cmem

import "unsafe"

// Without cgo there is no C heap: every allocation returns ErrNotSupported.
const cgoEnabled = false

func cMalloc(int) unsafe.Pointer      { return nil }
func cCalloc(int, int) unsafe.Pointer { return nil }
func cFree(unsafe.Pointer)            {}

// GoString needs cgo; without it there is no C memory to read and it
// returns "".
func GoString(unsafe.Pointer) string { return "" }

// GoBytes needs cgo; without it there is no C memory to read and it
// returns an empty slice.
func GoBytes(unsafe.Pointer, int) []byte { return []byte{} }
