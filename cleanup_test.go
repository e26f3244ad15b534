package cgoguard_test

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard"
)

type owner struct {
	cl  *cgoguard.Cleanup
	pad [64]byte
}

func TestCleanupExactlyOnce(t *testing.T) {
	const n = 10000
	var frees [n]atomic.Int32
	owners := make([]*owner, n)
	cls := make([]*cgoguard.Cleanup, n)
	for i := range owners {
		i := i
		o := &owner{}
		o.cl = cgoguard.NewCleanup(o, func() { frees[i].Add(1) })
		owners[i], cls[i] = o, o.cl
	}
	// Half the owners are closed explicitly, by two goroutines racing for
	// each, while the other half is dropped for the GC.
	var wg sync.WaitGroup
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n; i += 2 {
				cls[i].Run()
			}
		}()
	}
	for i := 1; i < n; i += 2 {
		owners[i] = nil
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for k := 0; k < 5; k++ {
			runtime.GC()
		}
	}()
	wg.Wait()
	// The GC frees the dropped half on its own.
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		done := 0
		for i := 1; i < n; i += 2 {
			if frees[i].Load() == 1 {
				done++
			}
		}
		if done == n/2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Explicit Run after the GC ran, and shutdown, change nothing.
	for i := range cls {
		if cls[i].Run() {
			t.Fatalf("resource %d freed again by Run", i)
		}
	}
	cgoguard.RunCleanups()
	for i := range frees {
		if got := frees[i].Load(); got != 1 {
			t.Fatalf("resource %d freed %d times, want exactly 1", i, got)
		}
	}
	runtime.KeepAlive(owners)
}

func TestRunCleanupsAtShutdown(t *testing.T) {
	freed := 0
	o := &owner{}
	cl := cgoguard.NewCleanup(o, func() { freed++ })
	if cgoguard.PendingCleanups() < 1 {
		t.Fatal("cleanup not pending")
	}
	if n := cgoguard.RunCleanups(); n < 1 || freed != 1 || !cl.Done() {
		t.Fatalf("RunCleanups = %d, freed %d", n, freed)
	}
	if cl.Run() || freed != 1 {
		t.Fatal("Run after shutdown freed again")
	}
	runtime.KeepAlive(o)
}
