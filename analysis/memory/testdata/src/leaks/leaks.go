package leaks

/*
#include <stdlib.h>
#include <string.h>

static int use(char *s) { return (int)strlen(s); }
static int usep(void *p) { return p != NULL; }
typedef struct node { struct node *next; int v; } node;
*/
import "C"

import (
	"errors"
	"runtime"
	"unsafe"
)

func early(s string, fail bool) error {
	p := C.CString(s) // want `CG013: C.CString result p is not freed on every path`
	if fail {
		return errors.New("failed")
	}
	C.use(p)
	C.free(unsafe.Pointer(p))
	return nil
}

func never(s string) int {
	p := C.CString(s) // want `CG013: C.CString result p is not freed on every path`
	return int(C.use(p))
}

func inline(s string) int {
	return int(C.use(C.CString(s))) // want `CG013: C.CString passed straight to C.use is never freed`
}

func dropped(b []byte) {
	C.CBytes(b) // want `CG013: C.CBytes result is dropped and never freed`
}

func bytesLeak(b []byte) int {
	p := C.CBytes(b) // want `CG013: C.CBytes result p is not freed on every path`
	return int(C.usep(p))
}

func overwritten(a, b string) {
	p := C.CString(a) // want `CG013: C.CString result p is not freed on every path`
	C.use(p)
	p = C.CString(b)
	C.use(p)
	C.free(unsafe.Pointer(p))
}

func mallocLeak(n int) int {
	p := C.malloc(C.size_t(n)) // want `CG014: C.malloc result p is not freed on every path`
	return int(C.usep(p))
}

func callocLeak(n int) int {
	p := C.calloc(1, C.size_t(n)) // want `CG014: C.calloc result p is not freed on every path`
	if p == nil {
		return 0
	}
	return int(C.usep(p))
}

func goMemory() {
	x := new(int)
	buf := make([]byte, 8)
	C.free(unsafe.Pointer(x))                     // want `CG014: C.free of Go memory \(x\)`
	C.free(unsafe.Pointer(&buf[0]))               // want `CG014: C.free of Go memory \(&buf\[0\]\)`
	C.free(unsafe.Pointer(unsafe.SliceData(buf))) // want `CG014: C.free of Go memory`
}

func loop(names chan string) {
	for n := range names {
		p := C.CString(n)
		defer C.free(unsafe.Pointer(p)) // want `CG015: defer C.free in a loop`
		C.use(p)
	}
}

func loopClosure(next func() (string, bool)) {
	for n, ok := next(); ok; n, ok = next() {
		p := C.CString(n)
		defer func() { C.free(unsafe.Pointer(p)) }() // want `CG015: defer C.free in a loop`
		C.use(p)
	}
}

func useAfterFree(s string) int {
	p := C.CString(s)
	C.free(unsafe.Pointer(p))
	return int(C.use(p)) // want `CG016: p is used after it was freed at line 94`
}

func returnsFreed(n int) unsafe.Pointer {
	p := C.malloc(C.size_t(n))
	defer C.free(p)
	return p // want `CG016: p is returned but the deferred free at line 100 releases it`
}

func doubleFree(s string) {
	p := C.CString(s)
	defer C.free(unsafe.Pointer(p))
	C.use(p)
	C.free(unsafe.Pointer(p)) // want `CG017: p is freed twice \(it was already freed at line 106\)`
}

func doubleExplicit(s string, again bool) {
	p := C.CString(s)
	C.free(unsafe.Pointer(p))
	if again {
		C.free(unsafe.Pointer(p)) // want `CG017: p is freed twice`
	}
}

func viewReturned(n int) []byte {
	p := C.malloc(C.size_t(n))
	defer C.free(p)
	return unsafe.Slice((*byte)(p), n) // want `CG018: unsafe view over p outlives the free at line 121`
}

type holder struct{ name string }

func viewStored(h *holder, n int) { // want viewStored:`ownership\(Read -\)`
	p := C.malloc(C.size_t(n))
	defer C.free(p)
	s := unsafe.String((*byte)(p), n)
	h.name = s // want `CG018: unsafe view over p outlives the free`
}

func viewAfterFree(n int) byte {
	p := C.malloc(C.size_t(n))
	b := unsafe.Slice((*byte)(p), n)
	C.free(p)
	return b[0] // want `CG018: unsafe view over p outlives the free`
}

type gonode struct {
	next *gonode
	name string
}

func uninit() *gonode { // want uninit:`ownership\(\) result0=malloc`
	n := (*gonode)(C.malloc(C.size_t(unsafe.Sizeof(gonode{})))) // want `CG012: memory from C.malloc is not zeroed but Go code stores pointers into it as \*gonode; use C.calloc`
	n.next = nil
	return n
}

func uninitView(k int) []*int {
	p := C.malloc(C.size_t(k) * 8) // want `CG012: memory from C.malloc is not zeroed`
	s := unsafe.Slice((**int)(p), k)
	s[0] = nil
	return s
}

// Wrapper runs Close as its finalizer, and Close does not clear it.
type Wrapper struct {
	p unsafe.Pointer
}

func NewWrapper(n int) *Wrapper {
	w := &Wrapper{p: C.malloc(C.size_t(n))}
	runtime.SetFinalizer(w, (*Wrapper).Close)
	return w
}

func (w *Wrapper) Close() {
	C.free(w.p) // want `CG017: Close frees w.p and is also run by the finalizer`
}

type Conn struct{ h *C.node }

func (c *Conn) Close() {
	C.free(unsafe.Pointer(c.h)) // want `CG017: Close frees c.h and is also run by the finalizer`
}

func NewConn() *Conn {
	c := &Conn{h: (*C.node)(C.calloc(1, C.size_t(unsafe.Sizeof(C.node{}))))}
	runtime.SetFinalizer(c, func(c *Conn) { c.Close() })
	return c
}

func suppressed(s string) int {
	p := C.CString(s) //cgoguard:ignore CG013 the queue behind use frees it
	return int(C.use(p))
}

type wrapper struct{ p unsafe.Pointer }

func returnsWrapped(n int) wrapper {
	p := C.malloc(C.size_t(n))
	defer C.free(p)
	return wrapper{p: p} // want `CG016: p is returned but the deferred free`
}

func returnsConverted(n int) *C.node {
	p := C.malloc(C.size_t(n))
	defer C.free(p)
	return (*C.node)(p) // want `CG016: p is returned but the deferred free`
}
