// Package leakcheck finds leaks below Go in tests: C heap, file
// descriptors, OS threads, goroutines, handles held by C (package handles)
// and tracked C allocations (package cmem). It is to a cgo package what
// goleak is to goroutines.
//
// Measure runs a function many times after a warm-up and reports how much
// each resource grew per iteration: the C heap from glibc's mallinfo2, open
// descriptors from /proc/self/fd (naming the files the new ones point to),
// threads from /proc/self/task, goroutines with the stacks of the new ones,
// live handles and cmem allocations with their call sites. It runs a few
// trials and keeps the least growth of each, and reads the C heap several
// times at each end of a trial and keeps the least reading, so memory that
// other threads hold for a moment is not taken for a leak; a leak grows in
// every trial. The limits per kind are options (Limit), as are the number
// of iterations, trials and readings.
//
// Example:
//
//	func TestDecodeDoesNotLeak(t *testing.T) {
//		frame := loadFrame(t)
//		leakcheck.Check(t, func() {
//			img, err := codec.Decode(frame) // calls into C
//			if err != nil {
//				t.Fatal(err)
//			}
//			img.Close()
//		})
//	}
//
//	// and, for the whole package:
//	func TestMain(m *testing.M) { leakcheck.VerifyTestMain(m) }
//
// A failing Check prints a report whose every line starts with
// "leakcheck:", for example
//
//	leakcheck: LEAK: growth per iteration over 1000 iterations, least of 3 trial(s)
//	leakcheck:   c-heap        +80.00 bytes (limit 8) LEAK
//	leakcheck:   fd             +1.00       (limit 0) LEAK
//	...
//	leakcheck: fd: 1000 new (1.00 per iteration): descriptor to /var/lib/app/index.db
//
// Measurements cover the whole process: run leak checks in tests that do
// not run in parallel with other tests (no t.Parallel), or other tests'
// work is measured too. The C heap is measured only when built with cgo on
// glibc.
//
// Concurrency: Measure, Check and VerifyTestMain may be called from any
// goroutine, but two measurements at once see each other's resources.
package leakcheck
