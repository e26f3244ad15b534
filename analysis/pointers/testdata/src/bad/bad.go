package bad

/*
#include <stdint.h>
#include <stdlib.h>
typedef struct { void *data; int n; } box;
static void use(void *p, int n) { (void)p; (void)n; }
static void use_int(uintptr_t p) { (void)p; }
static void register_cb(void *p) { (void)p; }
//cgoguard:keeps hold_for_later
static void hold_for_later(void *p) { (void)p; }
*/
import "C"

import (
	"runtime"
	"unsafe"
)

type node struct {
	next *node
	val  int
}

type flat struct{ a, b int }

func PassPointerful(n *node) {
	C.use(unsafe.Pointer(n), 0) // want `CG001: n passed to C.use points to a node, which contains Go pointers`
	var x node
	C.use(unsafe.Pointer(&x), 0) // want `CG001: &x passed to C.use points to a node`
}

func FirstElem(b []byte, ps []*int) {
	C.use(unsafe.Pointer(&b[0]), C.int(len(b))) // want `CG002: &b\[0\] passed to C.use panics when b is empty`
	m := make([]byte, len(b)-1+0)
	C.use(unsafe.Pointer(&m[0]), 0)        // want `CG002: &m\[0\] passed to C.use panics when m is empty`
	n := len(b)                            // not a check
	C.use(unsafe.Pointer(&b[0]), C.int(n)) // want `CG002: &b\[0\] passed to C.use panics when b is empty`
	for range b {
	}
	C.use(unsafe.Pointer(&b[0]), C.int(n)) // want `CG002: &b\[0\] passed to C.use panics when b is empty`
	if len(ps) > 0 {
		C.use(unsafe.Pointer(&ps[0]), 0) // want `CG002: &ps\[0\] passed to C.use exposes the whole backing array of ps, whose elements hold Go pointers`
	}
}

func Keeps(f *flat) {
	C.register_cb(unsafe.Pointer(f)) // want `CG003: C.register_cb keeps Go pointer f after the call returns`
	var g flat
	C.hold_for_later(unsafe.Pointer(&g)) // want `CG003: C.hold_for_later keeps Go pointer &g`
}

func Store(f *flat) {
	b := (*C.box)(C.malloc(C.sizeof_box))
	b.data = unsafe.Pointer(f) // want `CG004: Go pointer f is stored into C memory`
	slots := (*[4]unsafe.Pointer)(C.malloc(32))
	slots[1] = unsafe.Pointer(&f.a) // want `CG004: Go pointer &f.a is stored into C memory`
	raw := C.malloc(8)
	*(*unsafe.Pointer)(raw) = unsafe.Pointer(f) // want `CG004: Go pointer f is stored into C memory`
	C.free(unsafe.Pointer(b))
	C.free(unsafe.Pointer(slots))
	C.free(raw)
}

func Pins(f *flat, s []byte, str string) {
	var p runtime.Pinner
	p.Pin(f) // want `CG005: runtime.Pinner p pins objects but is never unpinned`
	var q runtime.Pinner
	defer q.Unpin()
	q.Pin(s)   // want `CG005: runtime.Pinner.Pin of s \(a \[\]byte, not a pointer\) panics; pin unsafe.SliceData\(s\) instead`
	q.Pin(str) // want `CG005: runtime.Pinner.Pin of str .* pin unsafe.StringData\(str\) instead`
}

var global = &flat{}

//export giveSlice
func giveSlice() []byte { return nil } // want `CG006: //export function giveSlice returns \[\]byte`

//export giveString
func giveString() string { return "" } // want `CG006: //export function giveString returns string`

//export givePointer
func givePointer() unsafe.Pointer {
	return unsafe.Pointer(global) // want `CG006: //export function givePointer returns Go pointer global to C`
}

//export fillBox
func fillBox(b *C.box) {
	b.data = unsafe.Pointer(global) // want `CG007: //export function fillBox stores Go pointer global through a C pointer without pinning it`
}

func Launder(f *flat) {
	C.use_int(C.uintptr_t(uintptr(unsafe.Pointer(f)))) // want `CG008: Go pointer f is passed to C.use_int as an integer`
	u := uintptr(unsafe.Pointer(&f.b))
	C.use_int(C.uintptr_t(u)) // want `CG008: Go pointer &f.b, laundered through uintptr u, is passed to C.use_int`
}
