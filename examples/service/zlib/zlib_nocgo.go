//go:build !cgo

package zlib

import (
	"context"

	"github.com/cgoguard/cgoguard"
)

// Compress returns ErrNotSupported without cgo.
func Compress(data []byte, level int) ([]byte, error) { return nil, ErrNotSupported }

// Decompress returns ErrNotSupported without cgo.
func Decompress(data []byte, max int) ([]byte, error) { return nil, ErrNotSupported }

// CompressContext returns ErrNotSupported without cgo.
func CompressContext(ctx context.Context, data []byte, level int) ([]byte, error) {
	return nil, ErrNotSupported
}

// DecompressContext returns ErrNotSupported without cgo.
func DecompressContext(ctx context.Context, data []byte, max int) ([]byte, error) {
	return nil, ErrNotSupported
}

// Version returns "" without cgo.
func Version() string { return "" }

// Module returns ErrNotSupported without cgo.
func Module() (*cgoguard.Module, error) { return nil, ErrNotSupported }
