// Package hot holds advisory findings (C calls in loops and under a
// mutex) beside one hazard, for the -advisory golden tests.
package hot

/*
#include <stdint.h>
#include <stdlib.h>
static int add(int a, int b) { return a + b; }
static void process(uintptr_t h) { (void)h; }
*/
import "C"

import (
	"runtime/cgo"
	"sync"
)

var mu sync.Mutex

// Sum calls C once per element, three times over.
func Sum(xs []int) int {
	sum := 0
	for _, x := range xs {
		sum += int(C.add(C.int(x), 1))
	}
	for i := range xs {
		sum += int(C.add(C.int(i), 2))
	}
	for _, x := range xs {
		sum += int(C.add(C.int(x), 3))
	}
	return sum
}

// Locked calls C while holding a mutex.
func Locked(a int) int {
	mu.Lock()
	defer mu.Unlock()
	return int(C.add(C.int(a), 1))
}

// Leak never deletes its handle.
func Leak(v any) {
	h := cgo.NewHandle(v)
	C.process(C.uintptr_t(h))
}
