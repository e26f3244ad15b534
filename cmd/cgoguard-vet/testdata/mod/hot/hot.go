// Package hot holds advisory findings: C calls in loops, and one under a
// mutex; and a test file with a hazard.
package hot

// static int add(int a, int b) { return a + b; }
import "C"

import "sync"

var mu sync.Mutex

// Sum calls C once per element, twice over.
func Sum(xs []int) int {
	sum := 0
	for _, x := range xs {
		sum += int(C.add(C.int(x), 1))
	}
	for _, x := range xs {
		sum += int(C.add(C.int(x), 2))
	}
	return sum
}

// Locked calls C while holding a mutex.
func Locked(a int) int {
	mu.Lock()
	defer mu.Unlock()
	return int(C.add(C.int(a), 1))
}
