//go:build cgo

package cmem

/*
#cgo CFLAGS: -Wall -Wextra -Werror
#include <stddef.h>
void *cmem_malloc(size_t n);
void *cmem_calloc(size_t count, size_t size);
void cmem_free(void *p);
*/
import "C"

import "unsafe"

const cgoEnabled = true

func cMalloc(n int) unsafe.Pointer { return C.cmem_malloc(C.size_t(n)) }

func cCalloc(count, size int) unsafe.Pointer {
	return C.cmem_calloc(C.size_t(count), C.size_t(size))
}

func cFree(p unsafe.Pointer) { C.cmem_free(p) }

// GoString copies the NUL-terminated C string at p into a Go string; nil
// gives "".
func GoString(p unsafe.Pointer) string {
	if p == nil {
		return ""
	}
	return C.GoString((*C.char)(p))
}

// GoBytes copies n bytes at p into a new Go slice; nil or n <= 0 gives an
// empty slice.
func GoBytes(p unsafe.Pointer, n int) []byte {
	if p == nil || n <= 0 {
		return []byte{}
	}
	return append([]byte(nil), unsafe.Slice((*byte)(p), n)...)
}
