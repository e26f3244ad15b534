//go:build !cgo || !linux

package isolate

import (
	"context"
	"fmt"
	"os"
	"time"
	"unsafe"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/arena"
)

// Pool is a set of worker processes; without cgo on Linux none can start.
type Pool struct{}

// New returns ErrNotSupported without cgo or off Linux.
func New(module string, opts ...Option) (*Pool, error) { return nil, ErrNotSupported }

// Isolator returns an Isolator whose Isolate fails with ErrNotSupported.
func Isolator(opts ...Option) cgoguard.Isolator { return unsupported{} }

type unsupported struct{}

func (unsupported) Isolate(*cgoguard.Module) (cgoguard.Isolated, error) { return nil, ErrNotSupported }

// PoolOf returns false without cgo or off Linux.
func PoolOf(m *cgoguard.Module) (*Pool, bool) { return nil, false }

// Pools returns no pools without cgo or off Linux.
func Pools() []*Pool { return nil }

// Module returns nil.
func (p *Pool) Module() *cgoguard.Module { return nil }

// Arena returns nil.
func (p *Pool) Arena() *arena.Arena { return nil }

// Call returns ErrNotSupported.
func (p *Pool) Call(ctx context.Context, fn string, arg arena.Ref) (int, error) {
	return 0, ErrNotSupported
}

// CallIsolated returns ErrNotSupported.
func (p *Pool) CallIsolated(ctx context.Context, fn, arg unsafe.Pointer, deadline time.Time, trace *[16]byte) (int, bool, error) {
	return 0, false, ErrNotSupported
}

// CloseIsolated returns ErrNotSupported.
func (p *Pool) CloseIsolated(ctx context.Context) error { return ErrNotSupported }

// Close returns ErrNotSupported.
func (p *Pool) Close() error { return ErrNotSupported }

// Stats returns the zero Stats.
func (p *Pool) Stats() Stats { return Stats{} }

// Ready returns ErrNotSupported.
func (p *Pool) Ready() error { return ErrNotSupported }

// Restarts returns 0.
func (p *Pool) Restarts(reason string) uint64 { return 0 }

func serveWorker(spec string) int {
	fmt.Fprintln(os.Stderr, ErrNotSupported)
	return exitBadSpec
}
