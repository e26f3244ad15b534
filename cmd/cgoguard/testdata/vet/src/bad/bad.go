// Package bad holds cgo hazards for the cgoguard vet golden tests.
package bad

/*
#include <stdint.h>
#include <stdlib.h>
static void process(uintptr_t h) { (void)h; }
static void use(void *p, int n) { (void)p; (void)n; }
static void register_cb(void *p) { (void)p; }
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

type node struct{ next *node }

// Leak never deletes its handle.
func Leak(v any) {
	h := cgo.NewHandle(v)
	C.process(C.uintptr_t(h))
}

// Owned hands its handle to C, which deletes it.
func Owned(v any) {
	h := cgo.NewHandle(v) //cgoguard:ignore CG024 the C side deletes it in its completion callback
	C.process(C.uintptr_t(h))
}

// Pointers passes Go memory holding Go pointers, and &b[0] unchecked.
func Pointers(n *node, b []byte) {
	C.use(unsafe.Pointer(n), 0)
	C.use(unsafe.Pointer(&b[0]), C.int(len(b)))
}

// Keep lets C keep a Go pointer.
func Keep(b *[16]byte) {
	C.register_cb(unsafe.Pointer(b))
}

// Stale has a directive that suppresses nothing.
func Stale() {
	//cgoguard:ignore CG013 nothing is allocated here any more
	C.process(0)
}
