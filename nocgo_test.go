//go:build !cgo

package cgoguard_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cgoguard/cgoguard"
)

func TestWithoutCgo(t *testing.T) {
	if _, err := cgoguard.New("x"); !errors.Is(err, cgoguard.ErrNotSupported) {
		t.Fatalf("New without cgo: %v, want ErrNotSupported", err)
	}
	if _, err := cgoguard.ReinstallHandlers(); !errors.Is(err, cgoguard.ErrNotSupported) {
		t.Fatalf("ReinstallHandlers without cgo: %v", err)
	}
	_ = context.Background()
}
