package threads_test

import (
	"fmt"

	"github.com/cgoguard/cgoguard/analysis/internal/vettest"
	"github.com/cgoguard/cgoguard/analysis/threads"
)

func Example() {
	findings, err := vettest.Check("testdata", []string{"bad"}, threads.Analyzer)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range findings {
		fmt.Println(f)
	}
	// Output:
	// bad.go:17: CG026: runtime.LockOSThread without runtime.UnlockOSThread on every path; if the goroutine deliberately exits locked, mark it //cgoguard:thread-exit with a reason
	// bad.go:22: CG026: runtime.LockOSThread without runtime.UnlockOSThread on every path; if the goroutine deliberately exits locked, mark it //cgoguard:thread-exit with a reason
	// bad.go:35: CG027: C.work is called while holding mu (locked at line 34): a slow C call stalls every goroutine waiting for the lock
	// bad.go:48: CG027: C.work is called while holding c.mu (locked at line 46): a slow C call stalls every goroutine waiting for the lock
	// bad.go:53: CG029: goroutine started per iteration of an unbounded loop makes the blocking call C.work: each blocked call holds an OS thread; bound them with a semaphore or a worker pool
	// bad.go:61: CG029: goroutine started per iteration of an unbounded loop makes the blocking call C.work: each blocked call holds an OS thread; bound them with a semaphore or a worker pool
	// bad.go:68: CG029: goroutine started per iteration of an unbounded loop makes the blocking call C.work: each blocked call holds an OS thread; bound them with a semaphore or a worker pool
	// bad.go:74: CG026: runtime.LockOSThread without runtime.UnlockOSThread on every path; if the goroutine deliberately exits locked, mark it //cgoguard:thread-exit with a reason
}
