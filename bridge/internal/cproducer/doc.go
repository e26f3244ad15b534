// Package cproducer runs C producer threads against a bridge, for the
// bridge's tests and benchmarks (cgo cannot appear in _test.go files). It
// also holds the exported Go function that the per-event callback baseline
// calls. It needs cgo; without cgo the package is empty.
//
// Start and Wait may be called from any goroutine; SetSink must not race
// with a running Callback-mode Run.
package cproducer
