// Package memory defines an Analyzer that checks how Go code manages C
// memory obtained through cgo.
//
// # Analyzer memory
//
// memory: report C memory that leaks, is freed twice, is used after its
// free, or is freed by the wrong allocator.
//
// Rules:
//
//   - CG012: uninitialised C.malloc memory viewed as Go values that hold
//     pointers and written with pointers. A suggested fix rewrites
//     C.malloc(n) as C.calloc(1, n).
//   - CG013: a C.CString or C.CBytes result not freed on every path,
//     including the inline form C.f(C.CString(s)). A suggested fix adds
//     defer C.free(unsafe.Pointer(p)) after the allocation.
//   - CG014: C.malloc or C.calloc memory not freed on every path, or C.free
//     of memory the Go allocator owns.
//   - CG015: defer C.free inside an unbounded loop (for {}, a loop on a
//     condition only, a range over a channel or an iterator).
//   - CG016: C memory used after its free, including returning memory that
//     a deferred free releases.
//   - CG017: C memory freed twice on one path (explicit plus deferred, or
//     two explicit frees).
//   - CG018: an unsafe.Slice or unsafe.String view over C memory used,
//     returned or stored after the memory is freed.
//
// A path is satisfied when it frees the memory, returns it, stores it in a
// field, element or package variable, captures it in a closure, or passes
// it to a Go function that takes it or to a C function that takes
// ownership. Paths that end in panic or a call that never returns are not
// leaks, and the arm of "p == nil" is not followed.
//
// Ownership across functions: the analyzer summarises what each function
// of the package does with the C memory it is given (frees it, hands it
// on, or only reads it) and whether it returns fresh C memory or stores it
// in the fields of a struct it is given, and exports the summaries that
// say more than the default as Ownership facts. A Go function without a
// summary is assumed to take what it is given, so a missing fact never
// causes a finding.
//
// C functions take ownership when they are named by a
// "//cgoguard:owns NAME..." comment anywhere in the package (the cgo
// preamble included) or by the -owns flag, when they keep their argument
// (putenv), or when the package's own C code frees a parameter or hands
// it to another call with a destructor (free, a library's deallocator).
// Allocations are paired with their release by family (the C allocator, or
// a library whose generic deallocator is <prefix>_free and whose other
// functions return its memory), from names and the C prototypes the
// package sees; a release by the wrong family is CG014.
//
// Example:
//
//	func greet(name string) {
//		p := C.CString(name) // CG013: C.CString result p is not freed on every path
//		C.greet(p)
//	}
//
// is fixed by
//
//	func greet(name string) {
//		p := C.CString(name)
//		defer C.free(unsafe.Pointer(p))
//		C.greet(p)
//	}
//
// Run it alone with
//
//	singlechecker.Main(memory.Analyzer)
//
// or through analysis/suite. The Analyzer is safe for concurrent use by
// drivers that analyse several packages at once; its -owns flag must be
// set before the first run.
package memory

// Doc is the analyzer's documentation, as shown by go vet help.
const Doc = `report C memory that leaks, is freed twice, is used after its free, or is freed by the wrong allocator

Rules CG012 (uninitialised malloc holding Go pointers), CG013 (C.CString or
C.CBytes not freed on every path), CG014 (malloc not freed, or C.free of Go
memory), CG015 (defer C.free in an unbounded loop), CG016 (use after free), CG017
(double free) and CG018 (unsafe.Slice/unsafe.String view outliving its
free). C functions named by //cgoguard:owns comments or the -owns flag take
ownership of the pointers passed to them.`
