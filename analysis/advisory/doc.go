// Package advisory defines an Analyzer for cgo usage that is legal but
// costly or risky, reported as advice:
//
//   - CG011: a "#cgo noescape f" directive on a C function that keeps a
//     pointer argument (stores it in a global or in memory reached through
//     another argument, or is marked //cgoguard:keeps or named like
//     register_*), or a "#cgo nocallback f" directive on a C function that
//     calls back into Go (calls an //export function of the package or a
//     function pointer it was given). Both directives are promises to the
//     compiler (Go 1.24); a broken promise corrupts memory or crashes.
//   - CG028: a C call inside a hot loop, once per element: every cgo call
//     pays the Go-to-C transition (tens of nanoseconds, more under load), so
//     per-element calls are slower than one call over the whole batch.
//     Loops without an iteration variable in the call (event loops, retry
//     loops) are not reported.
//
// Example, as a stand-alone checker:
//
//	package main
//
//	import (
//		"golang.org/x/tools/go/analysis/singlechecker"
//
//		"github.com/cgoguard/cgoguard/analysis/advisory"
//	)
//
//	func main() { singlechecker.Main(advisory.Analyzer) }
//
// The Analyzer is stateless: it is safe to run on many packages
// concurrently.
package advisory
