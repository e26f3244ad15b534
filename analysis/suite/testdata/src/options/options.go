// Package options has advisory findings in two functions, one suppressed
// advisory finding and one hazard, for the Configure tests.
package options

// static int add(int a, int b) { return a + b; }
import "C"

import (
	"runtime"
	"sync"
)

var mu sync.Mutex

func Three(xs []int) (sum int) {
	for _, x := range xs {
		sum += int(C.add(C.int(x), 1))
	}
	for _, x := range xs {
		sum += int(C.add(C.int(x), 2))
	}
	for _, x := range xs {
		sum += int(C.add(C.int(x), 3))
	}
	return sum
}

func One(xs []int) (sum int) {
	for _, x := range xs {
		//cgoguard:ignore CG028 measured: the C side is slower than the transition
		sum += int(C.add(C.int(x), 1))
	}
	for _, x := range xs {
		sum += int(C.add(C.int(x), 2))
	}
	return sum
}

func Locked() int {
	mu.Lock()
	defer mu.Unlock()
	return int(C.add(1, 2))
}

func Locks() {
	runtime.LockOSThread()
}
