package bad

/*
#include <unistd.h>
static int work(int x) { usleep(10); return x; }
static void set_thread_name(void) {}
*/
import "C"

import (
	"errors"
	"runtime"
	"sync"
)

func lockNoUnlock() {
	runtime.LockOSThread() // want `CG026: runtime.LockOSThread without runtime.UnlockOSThread on every path`
	C.set_thread_name()
}

func lockEarlyReturn(fail bool) error {
	runtime.LockOSThread() // want `CG026: runtime.LockOSThread without runtime.UnlockOSThread`
	if fail {
		return errors.New("failed")
	}
	C.set_thread_name()
	runtime.UnlockOSThread()
	return nil
}

var mu sync.Mutex

func underMutex(x int) int {
	mu.Lock()
	n := C.work(C.int(x)) // want `CG027: C.work is called while holding mu \(locked at line 34\)`
	mu.Unlock()
	return int(n)
}

type cache struct {
	mu sync.RWMutex
	n  int
}

func (c *cache) deferred(x int) int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return int(C.work(C.int(x + c.n))) // want `CG027: C.work is called while holding c.mu`
}

func perItem(items []int) {
	for _, it := range items {
		go func() { C.work(C.int(it)) }() // want `CG029: goroutine started per iteration of an unbounded loop makes the blocking call C.work`
	}
}

func worker(x int) { C.work(C.int(x)) }

func perMessage(ch chan int) {
	for x := range ch {
		go worker(x) // want `CG029: goroutine started per iteration`
	}
}

func forever(next func() int) {
	for {
		x := next()
		go func() { C.work(C.int(x)) }() // want `CG029: goroutine started per iteration`
	}
}

func noReason() {
	//cgoguard:thread-exit
	runtime.LockOSThread() // want `CG026: runtime.LockOSThread without`
	C.set_thread_name()
}
