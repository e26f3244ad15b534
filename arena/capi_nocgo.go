//go:build !cgo

package arena

// cLayout needs the C side of the package, which only builds with cgo.
func cLayout() ([]uintptr, error) { return nil, ErrNotSupported }
