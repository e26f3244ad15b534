// Package signals defines an Analyzer for CG032: C code of a Go package
// that installs signal handlers the Go runtime cannot live with.
//
// The Go runtime runs signal handlers on an alternate signal stack and
// relies on its own handlers for SIGSEGV, SIGBUS and SIGFPE (nil pointer
// panics, crash reports). C code in the package (cgo preambles and the
// package's .c files) is checked for:
//
//   - signal(...) installing a handler: it cannot set SA_ONSTACK, and the
//     handler then runs on a goroutine stack that may be too small;
//   - sigaction(...) installing a handler without SA_ONSTACK;
//   - a handler for SIGSEGV, SIGBUS or SIGFPE that does not save Go's
//     handler (third sigaction argument NULL) or never calls the saved
//     handler, so faults in Go code no longer become panics.
//
// See os/signal, "Go programs that use cgo or SWIG". The check reads C
// text with simple lexical rules (comments and strings are skipped); it
// does not preprocess macros.
//
// Example, as a stand-alone checker:
//
//	package main
//
//	import (
//		"golang.org/x/tools/go/analysis/singlechecker"
//
//		"github.com/cgoguard/cgoguard/analysis/signals"
//	)
//
//	func main() { singlechecker.Main(signals.Analyzer) }
//
// The Analyzer is stateless: it is safe to run on many packages
// concurrently.
package signals
