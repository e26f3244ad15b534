package cgoguard

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Cleanup frees a C resource owned by a Go object exactly once, whichever
// comes first: an explicit Run (from the owner's Close), the garbage
// collector finding the owner unreachable (runtime.AddCleanup), or process
// shutdown (RunCleanups, which Shutdown calls).
//
// The free function must not refer to the owner (or the owner would never
// become unreachable); capture the C pointer instead:
//
//	type Decoder struct{ c *C.decoder; cl *cgoguard.Cleanup }
//
//	func NewDecoder() *Decoder {
//		d := &Decoder{c: C.decoder_new()}
//		p := d.c
//		d.cl = cgoguard.NewCleanup(d, func() { C.decoder_free(p) })
//		return d
//	}
//
//	func (d *Decoder) Close() error { d.cl.Run(); return nil }
//
// A Cleanup is safe for concurrent use.
type Cleanup struct {
	st *cleanupState
	gc runtime.Cleanup
}

// cleanupState is what the GC cleanup holds: never the owner.
type cleanupState struct {
	done atomic.Bool
	free func()
}

var (
	pendingMu sync.Mutex
	pending   = map[*cleanupState]struct{}{}
	freedRuns atomic.Uint64
)

// NewCleanup ties free to owner's lifetime. owner must be a pointer to a
// heap object (as for runtime.AddCleanup).
func NewCleanup[T any](owner *T, free func()) *Cleanup {
	st := &cleanupState{free: free}
	pendingMu.Lock()
	pending[st] = struct{}{}
	pendingMu.Unlock()
	c := &Cleanup{st: st}
	c.gc = runtime.AddCleanup(owner, func(s *cleanupState) { s.run() }, st)
	return c
}

// run frees once; it reports whether this call did it.
func (s *cleanupState) run() bool {
	if !s.done.CompareAndSwap(false, true) {
		return false
	}
	pendingMu.Lock()
	delete(pending, s)
	pendingMu.Unlock()
	freedRuns.Add(1)
	s.free()
	return true
}

// Run frees the resource now unless that already happened, and cancels
// the GC cleanup. It reports whether this call freed it.
func (c *Cleanup) Run() bool {
	ran := c.st.run()
	c.gc.Stop()
	return ran
}

// Done reports whether the resource has been freed.
func (c *Cleanup) Done() bool { return c.st.done.Load() }

// RunCleanups frees every resource still pending, for process shutdown. It
// returns how many it freed.
func RunCleanups() int {
	pendingMu.Lock()
	list := make([]*cleanupState, 0, len(pending))
	for s := range pending {
		list = append(list, s)
	}
	pendingMu.Unlock()
	n := 0
	for _, s := range list {
		if s.run() {
			n++
		}
	}
	return n
}

// PendingCleanups returns the number of resources not yet freed.
func PendingCleanups() int {
	pendingMu.Lock()
	defer pendingMu.Unlock()
	return len(pending)
}
