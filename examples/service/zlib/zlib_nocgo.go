//go:build !cgo

package zlib

// Compress returns ErrNotSupported without cgo.
func Compress(data []byte, level int) ([]byte, error) { return nil, ErrNotSupported }

// Decompress returns ErrNotSupported without cgo.
func Decompress(data []byte, max int) ([]byte, error) { return nil, ErrNotSupported }

// Version returns "" without cgo.
func Version() string { return "" }
