//go:build cgo

package leakcheck

/*
#cgo CFLAGS: -Wall -Wextra -Werror
unsigned long long leakcheck_cheap(void);
*/
import "C"

// cHeapBytes returns the bytes in use on the C heap (glibc mallinfo2).
func cHeapBytes() (int64, error) { return int64(C.leakcheck_cheap()), nil }
