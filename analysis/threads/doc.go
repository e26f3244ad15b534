// Package threads defines an Analyzer that checks how cgo code uses OS
// threads and locks.
//
// # Analyzer threads
//
// threads: report LockOSThread without UnlockOSThread, C calls made while
// holding a sync.Mutex, and goroutines started without bound that make
// blocking C calls.
//
// Rules:
//
//   - CG026: runtime.LockOSThread with a path to the function's return that
//     does not call runtime.UnlockOSThread (deferred or not). The deliberate
//     pattern of a goroutine that exits while locked so that the runtime
//     terminates its thread (after changing the thread's state in C) is
//     allowed by a "//cgoguard:thread-exit reason" comment on the
//     LockOSThread line, the line above it, or the function's doc comment.
//     init functions, which lock the main goroutine to the main thread, are
//     not reported.
//   - CG027: a C call (other than cgo's conversion helpers and the C
//     allocator) on a path between sync.Mutex.Lock or RWMutex.Lock/RLock
//     and the matching unlock: a slow C call stalls every goroutine waiting
//     for the lock, and a C call that calls back into Go code taking the
//     same lock deadlocks.
//   - CG029: a go statement inside a loop whose trip count is not a constant
//     (ranging over a slice, map or channel, or for {}), whose goroutine
//     makes a blocking C call, with no semaphore (a channel send or
//     receive, Acquire, Lock or Wait) in the loop or the goroutine: every
//     blocked C call holds an OS thread, and Go stops at 10,000 threads.
//
// Example:
//
//	for _, job := range jobs {
//		go func() { C.process(job.buf) }() // CG029
//	}
//
// is fixed by
//
//	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
//	for _, job := range jobs {
//		sem <- struct{}{}
//		go func() { defer func() { <-sem }(); C.process(job.buf) }()
//	}
//
// The Analyzer keeps no state between runs and is safe for concurrent use.
package threads

// Doc is the analyzer's documentation, as shown by go vet help.
const Doc = `report thread and lock hazards around C calls

Rules CG026 (runtime.LockOSThread without UnlockOSThread on every path; a
//cgoguard:thread-exit comment allows the deliberate thread-exit pattern),
CG027 (C call while holding a sync.Mutex) and CG029 (goroutines started
without bound that make blocking C calls).`
