//go:build cgo

package cmem

// #cgo CFLAGS: -Wall -Wextra -Werror
// #include "cmem.h"
import "C"

import "os"

// HeapInUse returns the bytes in use on the C heap (glibc mallinfo2:
// allocated arena bytes plus mmapped blocks).
func HeapInUse() (int64, error) {
	return int64(C.cmem_heap_in_use()), nil
}

// OpenFDs returns the number of open file descriptors of the process.
func OpenFDs() (int, error) {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0, err
	}
	return len(ents), nil
}
