//go:build !cgo

package cmem

// HeapInUse returns ErrNotSupported without cgo.
func HeapInUse() (int64, error) { return 0, ErrNotSupported }

// OpenFDs returns ErrNotSupported without cgo.
func OpenFDs() (int, error) { return 0, ErrNotSupported }
