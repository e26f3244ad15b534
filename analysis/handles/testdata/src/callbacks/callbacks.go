// Package callbacks deletes its handles in the callback C makes when it
// is done: handles handed to C are not leaks, but their address must not
// be what C keeps. Lines without a want comment are correct code.
package callbacks

/*
#include <stdint.h>
typedef void (*done_cb)(void *userdata);
extern void goDone(void *userdata);
static void start_async(done_cb cb, void *userdata) { (void)cb; (void)userdata; }
static void start_async_int(done_cb cb, uintptr_t h) { (void)cb; (void)h; }
static void call_now(void *p) { (void)p; }
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

//export goDone
func goDone(userdata unsafe.Pointer) {
	h := cgo.Handle(uintptr(userdata))
	defer h.Delete()
	if f, ok := h.Value().(func()); ok {
		f()
	}
}

// The address of a local handle given to an asynchronous call: the
// callback reads it after the function has returned.
func StartByAddress(f func()) {
	h := cgo.NewHandle(f)
	C.start_async(C.done_cb(C.goDone), unsafe.Pointer(&h)) // want `CG010: C.start_async keeps &h, the address of local handle h`
}

// The handle's value given to C, deleted by the callback: correct.
func StartByValue(f func()) {
	h := cgo.NewHandle(f)
	C.start_async_int(C.done_cb(C.goDone), C.uintptr_t(h))
}

// Inline, deleted by the callback: correct.
func StartInline(f func()) {
	C.start_async_int(C.done_cb(C.goDone), C.uintptr_t(cgo.NewHandle(f)))
}

// A synchronous call given the address and deleting it after: correct.
func CallNow(v any) {
	h := cgo.NewHandle(v)
	defer h.Delete()
	C.call_now(unsafe.Pointer(&h))
}

// A handle laundered through an integer variable into a pointer.
func ThroughVariable(v any) {
	h := cgo.NewHandle(v)
	defer h.Delete()
	u := uintptr(h)
	C.call_now(unsafe.Pointer(u)) // want `CG009: cgo.Handle h converted to unsafe.Pointer`
}

// A handle cast through a C integer type into a pointer.
func ThroughCInteger(v any) {
	h := cgo.NewHandle(v)
	defer h.Delete()
	C.call_now(unsafe.Pointer(uintptr(C.uintptr_t(h)))) // want `CG009: cgo.Handle h converted to unsafe.Pointer`
}
