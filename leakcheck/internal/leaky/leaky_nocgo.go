//go:build !cgo

// Package leaky holds fixtures for the leakcheck tests; its C fixtures need
// cgo, and without it Available is false and the tests that need them skip.
package leaky

// Available reports whether the C fixtures are built (they need cgo).
const Available = false

// The C fixtures do nothing without cgo.
func Malloc64()          {}
func ReleaseHeap()       {}
func OpenFD()            {}
func ReleaseFDs()        {}
func Thread()            {}
func ReleaseThreads()    {}
func Goroutine()         {}
func ReleaseGoroutines() {}
func Handle()            {}
func ReleaseHandles()    {}
func MallocFree(int)     {}
func ThreadJoin()        {}

// StartChurn does nothing without cgo.
func StartChurn() func() uint64 { return func() uint64 { return 0 } }
