// Package cmem allocates C memory from Go and keeps count of it: Malloc,
// Calloc, CString and CBytes are the cgo allocators with a ledger, and Free
// is free that refuses what it does not know.
//
// Every live allocation is in a table keyed by address, so Free of a
// pointer this package did not hand out, or has already freed, returns
// ErrUnknownPointer instead of corrupting the C heap. Live reports the
// allocations and bytes outstanding; with tracking on (the default) each
// allocation is also counted against the call site that made it, and Sites
// lists the sites that still hold memory: the data leakcheck reports and
// that metrics export as cgoguard_cmem_live_bytes and
// cgoguard_cmem_live_allocations. Finding the call site reads the
// frame-pointer chain (on amd64), so tracking is cheap enough to leave on;
// SetTracking(false) turns it off.
//
// Example:
//
//	p, err := cmem.CString(path)
//	if err != nil {
//		return err
//	}
//	defer cmem.Free(p)
//	rc := C.open_db((*C.char)(p))
//
//	// in a test or a health endpoint:
//	n, bytes := cmem.Live()
//	for _, s := range cmem.Sites() {
//		log.Printf("%s", s) // "main.load (load.go:42): 3 allocations, 96 bytes"
//	}
//
// Memory from this package MUST be released with Free, and memory that C
// code allocated MUST NOT be passed to Free (it is refused). Built without
// cgo, every allocation returns ErrNotSupported.
//
// Concurrency: all functions are safe for concurrent use.
package cmem
