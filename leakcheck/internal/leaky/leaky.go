//go:build cgo

// Package leaky holds fixtures for the leakcheck tests: functions that leak
// one kind of resource per call on purpose (each with a Release that gives
// it all back), clean functions, and a C thread that mallocs and frees
// continuously.
package leaky

/*
#cgo CFLAGS: -Wall -Wextra -Werror
#cgo LDFLAGS: -lpthread
#include "leaky.h"
*/
import "C"

import (
	"runtime"
	"sync"

	"github.com/cgoguard/cgoguard/handles"
)

// Available reports whether the C fixtures are built (they need cgo).
const Available = true

// Malloc64 leaks 64 bytes of C heap per call.
func Malloc64() { C.leaky_malloc64() }

// ReleaseHeap frees what Malloc64 leaked.
func ReleaseHeap() { C.leaky_release_heap() }

// OpenFD leaks one descriptor to /dev/null per call.
func OpenFD() { C.leaky_open_fd() }

// ReleaseFDs closes what OpenFD leaked.
func ReleaseFDs() { C.leaky_release_fds() }

// Thread leaks one C thread per call, blocked until ReleaseThreads.
func Thread() { C.leaky_thread() }

// ReleaseThreads lets the threads Thread started exit and waits for them.
func ReleaseThreads() { C.leaky_release_threads() }

var (
	goMu   sync.Mutex
	goStop = make(chan struct{})
	goWG   sync.WaitGroup
)

// Goroutine leaks one goroutine per call, blocked until ReleaseGoroutines.
func Goroutine() {
	goMu.Lock()
	stop := goStop
	goMu.Unlock()
	goWG.Add(1)
	go func() {
		defer goWG.Done()
		<-stop
	}()
}

// ReleaseGoroutines ends the goroutines Goroutine started.
func ReleaseGoroutines() {
	goMu.Lock()
	close(goStop)
	goStop = make(chan struct{})
	goMu.Unlock()
	goWG.Wait()
}

// Handle leaks one handle per call: C keeps it and never gives it back.
func Handle() {
	h := handles.New(struct{ payload [16]byte }{})
	C.leaky_keep_handle(C.uintptr_t(h))
}

// ReleaseHandles takes the handles back from C and deletes them.
func ReleaseHandles() {
	var buf [256]C.uintptr_t
	for {
		n := int(C.leaky_take_handles(&buf[0], C.int(len(buf))))
		if n == 0 {
			return
		}
		for _, h := range buf[:n] {
			handles.Handle(h).Delete()
		}
	}
}

// MallocFree mallocs and frees n bytes in C.
func MallocFree(n int) { C.clean_malloc_free(C.size_t(n)) }

// ThreadJoin starts a C thread and joins it.
func ThreadJoin() { C.clean_thread_join() }

// StartChurn starts a C thread that mallocs and frees up to 64 blocks of up
// to 2 KiB at a time, continuously, and returns once it is running. The
// returned function stops it and returns how many rounds it ran from the
// moment StartChurn returned.
func StartChurn() (stop func() uint64) {
	C.churn_start()
	for C.churn_rounds_now() < 20000 {
		runtime.Gosched()
	}
	start := uint64(C.churn_rounds_now())
	return func() uint64 { return uint64(C.churn_stop_and_join()) - start }
}
