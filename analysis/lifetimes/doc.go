// Package lifetimes defines an Analyzer that checks how finalizers and
// cleanups that free C memory interact with the rest of a type's code.
//
// # Analyzer lifetimes
//
// lifetimes: report finalizers that can free C memory twice, C calls that
// let a finalized object die while C still uses its memory, and child
// wrappers that let their parent die.
//
// Rules:
//
//   - CG021: a runtime.SetFinalizer or runtime.AddCleanup function frees C
//     memory (C.free, or a C function whose name says it frees, destroys,
//     releases, deletes, closes, disposes or unrefs) that a method of the
//     type also frees, the finalizer's free is not guarded (an if or a
//     sync.Once), and the method neither clears the finalizer
//     (runtime.SetFinalizer(x, nil)) nor stops the cleanup (Cleanup.Stop).
//   - CG022: a field of an object whose type has such a finalizer is passed
//     to C, or a C string returned from such a field is read with
//     C.GoString, and the object is not live then: no path after the call
//     uses it (or a variable pointing into it or holding it), no deferred
//     call mentions it, and the call's own arguments do not keep it
//     reachable. The object may be collected, and its memory freed, while
//     C still runs.
//   - CG023: a struct literal builds a child wrapper holding C memory reached
//     through such an object (a field of it, or a C call given a field of
//     it) without keeping a reference to the object: the parent's finalizer
//     may free what the child still points to.
//
// Example:
//
//	func (d *DB) Exec(q *C.char) {
//		C.db_exec(d.h, q) // CG022: d may be finalized during the call
//	}
//
// is fixed by
//
//	func (d *DB) Exec(q *C.char) {
//		C.db_exec(d.h, q)
//		runtime.KeepAlive(d)
//	}
//
// The Analyzer keeps no state between runs and is safe for concurrent use.
package lifetimes

// Doc is the analyzer's documentation, as shown by go vet help.
const Doc = `report finalizers and cleanups that free C memory unsafely

Rules CG021 (finalizer or cleanup frees C memory a method also frees, with
no guard), CG022 (field of a finalized object passed to C with no later use
or runtime.KeepAlive) and CG023 (child wrapper holding C memory of a
finalized parent without a reference to the parent).`
