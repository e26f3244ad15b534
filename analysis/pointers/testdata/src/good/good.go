package good

/*
#include <stdint.h>
#include <stdlib.h>
typedef struct { void *data; int n; } box;
static void use(void *p, int n) { (void)p; (void)n; }
static void use_int(uintptr_t p) { (void)p; }
static void register_cb(void *p) { (void)p; }
static box *get_box(void) { return NULL; }
*/
import "C"

import (
	"runtime"
	"runtime/cgo"
	"unsafe"
)

type flat struct{ a, b int }

type withC struct {
	p *C.char
	n C.int
}

type buffered struct{ buf []byte }

// Flat memory, C-typed memory and checked slices are fine to pass.
func Pass(f *flat, b []byte, w *withC, arr *[8]byte) {
	C.use(unsafe.Pointer(f), 0)
	C.use(unsafe.Pointer(w), 0)
	if len(b) == 0 {
		return
	}
	C.use(unsafe.Pointer(&b[0]), C.int(len(b)))
	C.use(unsafe.Pointer(&arr[0]), 8)
	C.use(unsafe.Pointer(unsafe.SliceData(b)), C.int(len(b)))
	buf := make([]byte, 64)
	C.use(unsafe.Pointer(&buf[0]), 64)
	name := make([]byte, len(b)+1)
	C.use(unsafe.Pointer(&name[0]), C.int(len(name)))
	for i := range b {
		C.use(unsafe.Pointer(&b[i]), 1)
	}
	bw := &buffered{buf: b}
	for range bw.buf {
		C.use(unsafe.Pointer(&bw.buf[0]), 1)
	}
	if n := len(bw.buf); n >= 4 {
		C.use(unsafe.Pointer(&bw.buf[0]), C.int(n))
	}
	var local C.box
	C.use(unsafe.Pointer(&local), 0)
}

// Pinned pointers may be kept by C and stored in C memory.
func Pinned(f *flat) {
	var p runtime.Pinner
	defer p.Unpin()
	p.Pin(f)
	C.register_cb(unsafe.Pointer(f))
	b := C.get_box()
	b.data = unsafe.Pointer(f)
}

// Handles, not pointers, are what C keeps.
func Handle(v any) cgo.Handle {
	h := cgo.NewHandle(v)
	C.use_int(C.uintptr_t(h))
	return h
}

// C pointers and C memory may be stored in C memory.
func StoreC() {
	b := (*C.box)(C.malloc(C.sizeof_box))
	b.data = C.malloc(16)
	var goBox C.box
	goBox.data = unsafe.Pointer(b)
	var local unsafe.Pointer
	*(*unsafe.Pointer)(unsafe.Pointer(&local)) = unsafe.Pointer(&goBox)
	C.free(b.data)
	C.free(unsafe.Pointer(b))
}

// A pinner handed to a helper is released there.
func PinHelper(f *flat) {
	var p runtime.Pinner
	p.Pin(f)
	release(&p)
}

func release(p *runtime.Pinner) { p.Unpin() }

// A pinner kept in a struct is unpinned by its owner.
type owner struct{ pin runtime.Pinner }

func (o *owner) Hold(f *flat) { o.pin.Pin(f) }

// Pointer arithmetic through uintptr stays a pointer.
func Arith(b []byte) {
	if len(b) < 2 {
		return
	}
	p := unsafe.Pointer(uintptr(unsafe.Pointer(&b[0])) + 1)
	C.use(p, 1)
}

//export giveC
func giveC() *C.char { return (*C.char)(C.malloc(1)) }

//export giveInt
func giveInt(b *C.box) C.int {
	b.data = C.malloc(4)
	return b.n
}
