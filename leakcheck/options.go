package leakcheck

import (
	"fmt"
	"time"
)

// Kind is one of the resources leakcheck watches.
type Kind string

// The kinds of resource measured.
const (
	KindCHeap     Kind = "c-heap"    // bytes in use on the C heap (glibc mallinfo2)
	KindFD        Kind = "fd"        // open file descriptors (/proc/self/fd)
	KindThread    Kind = "thread"    // OS threads of the process (/proc/self/task)
	KindGoroutine Kind = "goroutine" // goroutines
	KindHandle    Kind = "handle"    // live handles of package handles (Go values held by C)
	KindTracked   Kind = "cmem"      // live bytes allocated through package cmem
)

// allKinds is every kind, in report order.
var allKinds = []Kind{KindCHeap, KindFD, KindThread, KindGoroutine, KindHandle, KindTracked}

// Option configures Measure, Check and VerifyTestMain.
type Option func(*options) error

type options struct {
	iterations int
	warmup     int
	trials     int
	samples    int
	settle     time.Duration
	kinds      map[Kind]bool
	limits     map[Kind]float64
}

// defaults holds every option's default for Measure and Check, in one
// place. VerifyTestMain starts from verifyDefaults.
func defaults() options {
	return options{
		iterations: 1000,
		warmup:     100,
		trials:     3,
		samples:    16,
		settle:     100 * time.Millisecond,
		kinds:      map[Kind]bool{KindCHeap: true, KindFD: true, KindThread: true, KindGoroutine: true, KindHandle: true, KindTracked: true},
		limits: map[Kind]float64{
			KindCHeap: 8, // bytes per iteration: below any real per-call leak (a 1-byte malloc uses a 32-byte chunk)
			KindFD:    0, KindThread: 0, KindGoroutine: 0, KindHandle: 0, KindTracked: 0,
		},
	}
}

// verifyDefaults are the defaults of VerifyTestMain, which compares the
// whole test run once: the Go runtime keeps the threads it started and C
// libraries keep caches on the heap, so only resources the program must
// give back are checked.
func verifyDefaults() options {
	o := defaults()
	o.kinds = map[Kind]bool{KindFD: true, KindGoroutine: true, KindHandle: true, KindTracked: true}
	o.settle = time.Second
	return o
}

// Iterations sets how many times fn runs in each trial. Default 1000.
func Iterations(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("cgoguard: leakcheck iterations %d must be at least 1", n)
		}
		o.iterations = n
		return nil
	}
}

// Warmup sets how many times fn runs before the first trial, so that
// caches, lazily started goroutines and pools fill up first. Default 100.
func Warmup(n int) Option {
	return func(o *options) error {
		if n < 0 {
			return fmt.Errorf("cgoguard: leakcheck warmup %d must not be negative", n)
		}
		o.warmup = n
		return nil
	}
}

// Trials sets how many trials run; a kind leaks only if it grew past its
// limit in every trial (the least growth counts), so a burst of activity
// elsewhere in the process during one trial is not a leak. Measure stops
// early once every kind stayed within its limit in some trial, and runs up
// to three times as many trials when a kind's growth over its limit varies
// by more than half from trial to trial (a leak grows steadily). Default 3.
func Trials(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("cgoguard: leakcheck trials %d must be at least 1", n)
		}
		o.trials = n
		return nil
	}
}

// Samples sets how many times the C heap is read at each end of a trial,
// 50µs apart; the least reading counts, which filters out blocks that
// other threads hold only for a moment. Default 16.
func Samples(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("cgoguard: leakcheck samples %d must be at least 1", n)
		}
		o.samples = n
		return nil
	}
}

// Settle sets how long to wait at the end of a trial for goroutines,
// threads and descriptors that are shutting down to go away before they
// count as leaked. Default 100ms (1s for VerifyTestMain).
func Settle(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("cgoguard: leakcheck settle time %v must not be negative", d)
		}
		o.settle = d
		return nil
	}
}

// Limit sets the growth per iteration above which kind counts as leaked:
// bytes for KindCHeap and KindTracked, a count otherwise. Defaults: 8 bytes
// for KindCHeap, 0 for the rest.
func Limit(kind Kind, perIter float64) Option {
	return func(o *options) error {
		if _, ok := o.limits[kind]; !ok {
			return fmt.Errorf("cgoguard: leakcheck has no kind %q (have %v)", kind, allKinds)
		}
		if perIter < 0 || perIter != perIter {
			return fmt.Errorf("cgoguard: leakcheck limit %v for %s must be a number >= 0", perIter, kind)
		}
		o.limits[kind] = perIter
		return nil
	}
}

// Only restricts the check to the given kinds. Default: every kind for
// Measure and Check; fd, goroutine, handle and cmem for VerifyTestMain.
func Only(kinds ...Kind) Option {
	return func(o *options) error {
		if len(kinds) == 0 {
			return fmt.Errorf("cgoguard: leakcheck Only needs at least one kind")
		}
		m := map[Kind]bool{}
		for _, k := range kinds {
			if _, ok := o.limits[k]; !ok {
				return fmt.Errorf("cgoguard: leakcheck has no kind %q (have %v)", k, allKinds)
			}
			m[k] = true
		}
		o.kinds = m
		return nil
	}
}

// Ignore leaves the given kinds out of the check.
func Ignore(kinds ...Kind) Option {
	return func(o *options) error {
		for _, k := range kinds {
			if _, ok := o.limits[k]; !ok {
				return fmt.Errorf("cgoguard: leakcheck has no kind %q (have %v)", k, allKinds)
			}
			delete(o.kinds, k)
		}
		return nil
	}
}
