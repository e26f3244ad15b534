//go:build !cgo || !linux

package main

import (
	"context"
	"errors"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/isolate"
)

var errNoCgo = errors.New("cgoguard: the isolated zlib example needs cgo on Linux")

func newModule(workers int) (*cgoguard.Module, *isolate.Pool, error) { return nil, nil, errNoCgo }

const reqSize = 64

func bound(n int) int { return n + n/1000 + 64 }

func (s *server) zcall(ctx context.Context, op string, level int, sl *slot, in []byte) (int, error) {
	return 0, errNoCgo
}

func (s *server) crash(ctx context.Context) error { return errNoCgo }
