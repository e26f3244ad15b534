package good

/*
#include <stdint.h>
static void process(uintptr_t h) { (void)h; }
static void process_ptr(void *p) { (void)p; }
static void register_handle(uintptr_t h) { (void)h; }
static uintptr_t *slot(void) { return 0; }
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"

	"github.com/cgoguard/cgoguard/handles"
)

// Deferred delete, directly and in a deferred closure.
func Deferred(v any) {
	h := cgo.NewHandle(v)
	defer h.Delete()
	C.process(C.uintptr_t(h))
	g := cgo.NewHandle(v)
	defer func() { g.Delete() }()
	C.process(C.uintptr_t(g))
}

// C keeps the handle: its callback deletes it.
func Registered(v any) {
	h := cgo.NewHandle(v)
	C.register_handle(C.uintptr_t(h))
	C.register_handle(C.uintptr_t(cgo.NewHandle(v)))
}

//export onDone
func onDone(h C.uintptr_t) {
	cgo.Handle(h).Delete()
}

// Returned and stored handles are owned elsewhere.
func Returned(v any) cgo.Handle { return cgo.NewHandle(v) }

type owner struct{ h cgo.Handle }

func (o *owner) Set(v any) {
	o.h = cgo.NewHandle(v)
	h := cgo.NewHandle(v)
	o.h = h
}

func (o *owner) Close() { o.h.Delete() }

// Passed to a Go helper that deletes it.
func Helper(v any) {
	h := cgo.NewHandle(v)
	C.process(C.uintptr_t(h))
	release(h)
}

func release(h cgo.Handle) { h.Delete() }

// Deleted in the loop.
func Loop(vs []any) {
	for _, v := range vs {
		h := cgo.NewHandle(v)
		C.process(C.uintptr_t(h))
		h.Delete()
	}
}

// The handle's value, not its address, stored in C memory.
func InC(v any) {
	*C.slot() = C.uintptr_t(cgo.NewHandle(v))
	h := cgo.NewHandle(v)
	defer h.Delete()
	C.process_ptr(unsafe.Pointer(&h)) // synchronous: the address is used during the call only
}

// cgoguard's counted handles follow the same rules.
func Counted(v any) error {
	h := handles.New(v)
	defer h.Delete()
	C.process(C.uintptr_t(h))
	return nil
}
