//go:build cgo

package zlib

// #cgo CFLAGS: -Wall -Wextra -Werror
// #cgo LDFLAGS: -lz
// #include "exz.h"
import "C"

import (
	"fmt"
	"unsafe"
)

// Compress returns data compressed at level (-1 default, 0 to 9).
func Compress(data []byte, level int) ([]byte, error) {
	if level < -1 || level > 9 {
		return nil, fmt.Errorf("cgoguard: zlib level %d is not -1 to 9", level)
	}
	dst := make([]byte, int(C.exz_bound(C.size_t(len(data))))+1)
	n := C.size_t(len(dst))
	// Go memory is passed for the duration of the call only; neither
	// buffer holds Go pointers.
	rc := C.exz_compress(bytesPtr(data), C.size_t(len(data)), (*C.uchar)(unsafe.Pointer(unsafe.SliceData(dst))), &n, C.int(level))
	if rc != 0 {
		return nil, &Error{Op: "compress", Code: int(rc)}
	}
	return dst[:n], nil
}

// Decompress inflates data, which must decompress to at most max bytes.
func Decompress(data []byte, max int) ([]byte, error) {
	if max <= 0 {
		return nil, fmt.Errorf("cgoguard: zlib max size %d must be positive", max)
	}
	dst := make([]byte, max)
	n := C.size_t(len(dst))
	rc := C.exz_uncompress(bytesPtr(data), C.size_t(len(data)), (*C.uchar)(unsafe.Pointer(unsafe.SliceData(dst))), &n)
	if rc != 0 {
		return nil, &Error{Op: "decompress", Code: int(rc)}
	}
	return dst[:n], nil
}

// Version returns the version of the zlib linked in.
func Version() string { return C.GoString(C.exz_version()) }

// bytesPtr returns a C pointer to b's data, nil for an empty b (never
// &b[0] of an empty slice).
func bytesPtr(b []byte) *C.uchar {
	if len(b) == 0 {
		return nil
	}
	return (*C.uchar)(unsafe.Pointer(unsafe.SliceData(b)))
}
