// Package pointers defines an Analyzer that checks how Go pointers cross
// into C, against the cgo pointer-passing rules (cmd/cgo, "Passing
// pointers"):
//
//   - CG001: a Go value that contains Go pointers is passed to C.
//   - CG002: &s[0] is passed to C where s may be empty (the expression
//     panics) or where the elements hold Go pointers; unsafe.SliceData(s)
//     is the safe spelling. Whether s may be empty is decided on the SSA
//     form by analysis/internal/ranges, from facts that hold on every path
//     to the index: how s was built, conditions on its length or on the
//     length passed with it, the callers of an unexported function.
//   - CG003: C keeps a Go pointer past the call (the callee is marked with
//     //cgoguard:keeps or is named like register_*, set_callback,
//     set_userdata, attach ...) and the object is not pinned with a
//     runtime.Pinner.
//   - CG004: a Go pointer is stored into C memory.
//   - CG005: runtime.Pinner.Pin without Unpin, or pinning a value that is
//     not a pointer (Pin panics).
//   - CG006: an //export function returns a Go pointer, string or slice.
//   - CG007: an //export callback stores an unpinned Go pointer through a
//     C pointer.
//   - CG008: a Go pointer is laundered through uintptr on its way to C
//     (the garbage collector no longer sees it; the object may move or be
//     freed).
//
// The analyzer reads the files as cmd/cgo rewrote them, so it needs
// type-checked packages (go vet, cgoguard vet) but no C compiler of its own.
// Each rule is documented, with a bad and a fixed example, under
// docs/rules/.
//
// Example, as a stand-alone checker:
//
//	package main
//
//	import (
//		"golang.org/x/tools/go/analysis/singlechecker"
//
//		"github.com/cgoguard/cgoguard/analysis/pointers"
//	)
//
//	func main() { singlechecker.Main(pointers.Analyzer) }
//
// The Analyzer is stateless: it is safe to run on many packages
// concurrently.
package pointers
