// Package handles is a counted registry of Go values that C code keeps,
// built over runtime/cgo.Handle.
//
// C code cannot hold Go pointers past a call, so it holds a handle: an
// integer that maps back to the Go value. A handle that is never deleted
// keeps its value alive for ever. This registry counts live handles and
// remembers where each was created, so leak checks (package leakcheck) and
// health snapshots can show a handle that was never released, and where it
// came from.
//
// Example:
//
//	h := handles.New(callback)          // pass uintptr(h) to C
//	defer h.Delete()
//	...
//	// in an exported Go function called from C:
//	cb := handles.Handle(id).Value().(func(int))
//
// All functions and methods are safe for concurrent use.
package handles

import (
	"errors"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
)

// ErrInvalid is returned for a handle that is zero, unknown or already deleted.
var ErrInvalid = errors.New("cgoguard: invalid or deleted handle")

// Handle refers to a Go value held on behalf of C. Its integer value is a
// cgo.Handle and may be passed to C as a uintptr_t.
type Handle uintptr

var (
	created atomic.Uint64
	mu      sync.Mutex
	sites   = map[Handle]uintptr{} // handle -> creating PC
)

// New registers v and returns its handle.
func New(v any) Handle {
	h := Handle(newHandle(v))
	var pcs [1]uintptr
	runtime.Callers(2, pcs[:])
	mu.Lock()
	sites[h] = pcs[0]
	mu.Unlock()
	created.Add(1)
	return h
}

// Value returns the value registered for h. It panics, as cgo.Handle.Value
// does, if h is not live; use Lookup to get an error instead.
func (h Handle) Value() any {
	return handleValue(h)
}

// Lookup returns the value registered for h, or ErrInvalid.
func (h Handle) Lookup() (any, error) {
	mu.Lock()
	_, ok := sites[h]
	mu.Unlock()
	if !ok {
		return nil, ErrInvalid
	}
	return handleValue(h), nil
}

// Delete releases h. Deleting a handle twice returns ErrInvalid instead of
// panicking.
func (h Handle) Delete() error {
	mu.Lock()
	_, ok := sites[h]
	delete(sites, h)
	mu.Unlock()
	if !ok {
		return ErrInvalid
	}
	deleteHandle(h)
	return nil
}

// Live returns the number of handles created and not yet deleted.
func Live() int64 {
	mu.Lock()
	defer mu.Unlock()
	return int64(len(sites))
}

// Created returns the number of handles ever created.
func Created() uint64 { return created.Load() }

// Site is a place in the code that created live handles.
type Site struct {
	Function string // fully qualified function name
	File     string
	Line     int
	Live     int // live handles created here
}

// Sites returns the creation sites of the live handles, most handles first.
func Sites() []Site {
	mu.Lock()
	counts := map[uintptr]int{}
	for _, pc := range sites {
		counts[pc]++
	}
	mu.Unlock()
	out := make([]Site, 0, len(counts))
	for pc, n := range counts {
		s := Site{Live: n}
		if fn := runtime.FuncForPC(pc - 1); fn != nil {
			s.Function = fn.Name()
			s.File, s.Line = fn.FileLine(pc - 1)
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Live != out[j].Live {
			return out[i].Live > out[j].Live
		}
		return out[i].Function < out[j].Function
	})
	return out
}
