//go:build !cgo

package bridge_test

import (
	"errors"
	"testing"

	"github.com/cgoguard/cgoguard/bridge"
)

func TestNewWithoutCgo(t *testing.T) {
	tests := []struct {
		name     string
		capacity int
		want     error
	}{
		{"valid", 8, bridge.ErrNotSupported},
		{"bad capacity", 1, bridge.ErrInvalidConfig},
	}
	for _, tt := range tests {
		if _, err := bridge.New(tt.capacity); !errors.Is(err, tt.want) {
			t.Errorf("%s: New = %v, want %v", tt.name, err, tt.want)
		}
	}
}
