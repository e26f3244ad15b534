// Package correct holds cgo memory patterns that are right; the memory
// analyzer must stay silent on all of them.
package correct

/*
#include <stdlib.h>
#include <string.h>

static int use(char *s) { return (int)strlen(s); }
static int usep(void *p) { return p != NULL; }

// queue_push keeps the string and frees it later.
// cgoguard:owns queue_push
static void queue_push(char *s) { free(s); }
static void take(void *p) { free(p); }
typedef struct br { int n; } br;
struct req { char *line; };
static int push(br *b, void *p, size_t n) { (void)b; (void)p; return (int)n; }
*/
import "C"

import (
	"errors"
	"runtime"
	"unsafe"
)

//cgoguard:owns take

func deferred(s string) int {
	p := C.CString(s)
	defer C.free(unsafe.Pointer(p))
	return int(C.use(p))
}

func deferredClosure(s string) int {
	p := C.CString(s)
	defer func() {
		C.free(unsafe.Pointer(p))
	}()
	return int(C.use(p))
}

func freeString(p *C.char) { C.free(unsafe.Pointer(p)) } // want freeString:`ownership\(Free\)`

func helper(s string) int {
	p := C.CString(s)
	defer freeString(p)
	return int(C.use(p))
}

func helperDirect(s string) int {
	p := C.CString(s)
	n := C.use(p)
	freeString(p)
	return int(n)
}

func owned(s string) {
	C.queue_push(C.CString(s))
}

func ownedVar(n int) {
	p := C.malloc(C.size_t(n))
	C.take(p)
}

func returned(s string) *C.char { // want returned:`ownership\(-\) result0=CString`
	return C.CString(s)
}

func returnedVar(s string) *C.char { // want returnedVar:`ownership\(-\) result0=CString`
	p := C.CString(s)
	return p
}

type buf struct{ p unsafe.Pointer }

func stored(b *buf, n int) { // want stored:`ownership\(Read -\)`
	p := C.malloc(C.size_t(n))
	b.p = p
}

func allPaths(s string, fail bool) error {
	p := C.CString(s)
	if fail {
		C.free(unsafe.Pointer(p))
		return errors.New("failed")
	}
	C.use(p)
	C.free(unsafe.Pointer(p))
	return nil
}

func nilChecked(n int) error {
	p := C.malloc(C.size_t(n))
	if p == nil {
		return errors.New("out of memory")
	}
	defer C.free(p)
	C.usep(p)
	return nil
}

func perIteration(names []string) {
	for _, n := range names {
		p := C.CString(n)
		C.use(p)
		C.free(unsafe.Pointer(p))
	}
}

func panics(s string) {
	p := C.CString(s)
	if C.use(p) == 0 {
		panic("empty")
	}
	C.free(unsafe.Pointer(p))
}

func freedAndCleared(s string) {
	p := C.CString(s)
	C.use(p)
	C.free(unsafe.Pointer(p))
	p = nil
	if p != nil {
		C.free(unsafe.Pointer(p))
	}
}

func copiedOut(n int) string {
	p := C.malloc(C.size_t(n))
	defer C.free(p)
	return C.GoStringN((*C.char)(p), C.int(n))
}

func copiedView(n int) []byte {
	p := C.malloc(C.size_t(n))
	defer C.free(p)
	v := unsafe.Slice((*byte)(p), n)
	out := make([]byte, n)
	copy(out, v)
	return out
}

type node struct {
	next *node
	v    int
}

func zeroed() *node { // want zeroed:`ownership\(\) result0=calloc`
	n := (*node)(C.calloc(1, C.size_t(unsafe.Sizeof(node{}))))
	n.next = nil
	return n
}

func plainBytes(k int) []byte {
	p := C.malloc(C.size_t(k))
	b := unsafe.Slice((*byte)(p), k)
	b[0] = 1
	return b
}

func inlineFree(s string) {
	C.free(unsafe.Pointer(C.CString(s)))
}

func loopWithClosure(names []string) {
	for _, n := range names {
		func() {
			p := C.CString(n)
			defer C.free(unsafe.Pointer(p))
			C.use(p)
		}()
	}
}

// Wrapper clears its finalizer when closed explicitly.
type Wrapper struct {
	p unsafe.Pointer
}

func NewWrapper(n int) *Wrapper {
	w := &Wrapper{p: C.malloc(C.size_t(n))}
	runtime.SetFinalizer(w, (*Wrapper).Close)
	return w
}

func (w *Wrapper) Close() {
	runtime.SetFinalizer(w, nil)
	C.free(w.p)
}

// Nilled frees with C.free and clears the field: a second free is free(NULL).
type Nilled struct{ p unsafe.Pointer }

func NewNilled() *Nilled {
	x := &Nilled{p: C.malloc(8)}
	runtime.SetFinalizer(x, func(x *Nilled) { x.Close() })
	return x
}

func (x *Nilled) Close() {
	C.free(x.p)
	x.p = nil
}

// PushOne passes a pointer argument beside a typed one: cmd/cgo declares
// var _cgo0 *T = ... in the closure.
func PushOne(b unsafe.Pointer, msg []byte) int { // want PushOne:`ownership\(Read -\)`
	p := C.CBytes(msg)
	defer C.free(p)
	return int(C.push((*C.br)(b), p, C.size_t(len(msg))))
}

func freeAll(ptrs []*C.char) {
	for _, p := range ptrs {
		C.free(unsafe.Pointer(p))
	}
	for i := range ptrs {
		q := ptrs[i]
		C.free(unsafe.Pointer(q))
	}
}

func argv(args []string) {
	cargs := make([]*C.char, len(args))
	for i, a := range args {
		cargs[i] = C.CString(a)
	}
	defer func() {
		for _, p := range cargs {
			C.free(unsafe.Pointer(p))
		}
	}()
	C.use(cargs[0])
}

func reuse(a, b string) {
	p := C.CString(a)
	C.use(p)
	C.free(unsafe.Pointer(p))
	p = C.CString(b)
	C.use(p)
	C.free(unsafe.Pointer(p))
}

func switchFree(s string, k int) {
	p := C.CString(s)
	switch k {
	case 0:
		C.use(p)
		C.free(unsafe.Pointer(p))
	default:
		C.free(unsafe.Pointer(p))
	}
}

func appended(names []string) []*C.char {
	var out []*C.char
	for _, n := range names {
		p := C.CString(n)
		out = append(out, p)
	}
	return out
}

func transfer(n int, fail bool) (unsafe.Pointer, error) {
	p := C.malloc(C.size_t(n))
	ok := false
	defer func() {
		if !ok {
			C.free(p)
		}
	}()
	if fail {
		return nil, errors.New("failed")
	}
	ok = true
	return p, nil
}

func consume(p unsafe.Pointer) (int, error) { return int(C.usep(p)), nil } // want consume:`ownership\(Read\)`

// passedThrough hands the memory to a Go call whose result is returned:
// the call runs before the deferred free.
func passedThrough(n int) (int, error) {
	p := C.calloc(1, C.size_t(n))
	defer C.free(p)
	return consume(unsafe.Pointer(p))
}

type stats struct{ n int }

func viewLength(st *stats, n int) { // want viewLength:`ownership\(Read -\)`
	p := C.malloc(C.size_t(n))
	defer C.free(p)
	v := unsafe.Slice((*byte)(p), n)
	st.n = len(v)
}

// request fills a C request whose fields point to C strings; both are
// freed when the call returns.
func request(line string) int {
	req := (*C.struct_req)(C.calloc(1, C.size_t(unsafe.Sizeof(C.struct_req{}))))
	defer C.free(unsafe.Pointer(req))
	cline := C.CString(line)
	defer C.free(unsafe.Pointer(cline))
	req.line = cline
	return int(C.use(req.line))
}
