//go:build !cgo

package bridge

import (
	"context"
	"unsafe"
)

// Bridge is a ring in C memory that C threads push messages into and one Go
// consumer drains. Without cgo no bridge can be created.
type Bridge struct {
	cfg config
}

// New returns ErrNotSupported: a program built without cgo has no C
// producers to bridge.
func New(capacity int, opts ...Option) (*Bridge, error) {
	if _, err := newConfig(capacity, opts); err != nil {
		return nil, err
	}
	return nil, ErrNotSupported
}

// CPtr returns nil without cgo.
func (b *Bridge) CPtr() unsafe.Pointer { return nil }

// Name returns the bridge's name.
func (b *Bridge) Name() string { return b.cfg.name }

// Push returns ErrNotSupported without cgo.
func (b *Bridge) Push(msg []byte) error { return ErrNotSupported }

// Drain returns ErrNotSupported without cgo.
func (b *Bridge) Drain(ctx context.Context, fn func(msg []byte)) (int, error) {
	return 0, ErrNotSupported
}

// Close returns ErrNotSupported without cgo.
func (b *Bridge) Close() error { return ErrNotSupported }

// Stats returns zero counts without cgo.
func (b *Bridge) Stats() Stats { return Stats{} }

func (b *Bridge) info() Info {
	return Info{Name: b.cfg.name, Capacity: b.cfg.capacity, MaxMessageSize: b.cfg.maxMessage, Policy: b.cfg.policy}
}

// Lanes returns 0 without cgo.
func (b *Bridge) Lanes() int { return 0 }

// LanesSupported reports false without cgo: there are no C threads.
func LanesSupported() bool { return false }
