//go:build !cgo

package leakcheck

// cHeapBytes needs cgo (glibc mallinfo2); without cgo there is no C heap
// to watch and the c-heap kind is reported as not measured.
func cHeapBytes() (int64, error) { return 0, ErrNotSupported }
