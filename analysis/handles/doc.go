// Package handles defines an Analyzer that checks the use of cgo.Handle
// (runtime/cgo) and of cgoguard's counted handles.Handle, the way Go
// values are given to C:
//
//   - CG009: a handle is converted straight to unsafe.Pointer. A handle is
//     an integer, not an address; go vet's unsafeptr check and cgocheck
//     may reject the pointer, and C code that dereferences it crashes.
//     Pass it as C.uintptr_t, or pass the address of C memory holding it.
//   - CG010: the address of a local handle variable is given to a C
//     function that keeps it (marked //cgoguard:keeps, named like
//     register_*, set_userdata ..., given a callback in the same call, or
//     in a package whose //export callbacks delete handles): the variable
//     is Go stack memory.
//   - CG024: a handle is created and not deleted on some path, or a new
//     handle is created on every loop iteration without being deleted
//     there. A handle given to a C function that keeps it, returned, or
//     stored is owned elsewhere and not reported, unless the package never
//     deletes a handle at all; a handle passed to C in a package whose
//     //export callbacks delete handles is deleted there.
//
// Example, as a stand-alone checker:
//
//	package main
//
//	import (
//		"golang.org/x/tools/go/analysis/singlechecker"
//
//		"github.com/cgoguard/cgoguard/analysis/handles"
//	)
//
//	func main() { singlechecker.Main(handles.Analyzer) }
//
// The Analyzer is stateless: it is safe to run on many packages
// concurrently.
package handles
