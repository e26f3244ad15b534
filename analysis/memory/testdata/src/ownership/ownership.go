// Package ownership holds the cases where C memory changes hands: a C
// wrapper (in another file's preamble) that passes it on with a
// destructor, a C function that frees it, an interior pointer stored for
// later, a defer in a loop over data in memory, a map key freed per
// iteration. Lines without a want comment are correct code.
package ownership

/*
#include <stdlib.h>

typedef struct ctx ctx;
typedef struct { void *payload; void *key; size_t len; } msg_t;

void result_text(ctx *c, const char *s, int n);
void copy_text(ctx *c, const char *s, int n);
void release_buf(char *b);
void bind_text(ctx *c, const char *s, int n);
static void use(const char *s) { (void)s; }
static void lib_take(ctx *c, const char *s, void (*destroy)(void *)) { (void)c; (void)s; (void)destroy; }
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// Ownership passes to the library with free as destructor.
func resultText(c *C.ctx, s string) { // want resultText:`ownership\(Read -\)`
	cstr := C.CString(s)
	C.result_text(c, cstr, C.int(len(s)))
}

// The library copies: the caller's C string leaks.
func copyText(c *C.ctx, s string) { // want copyText:`ownership\(Read -\)`
	cstr := C.CString(s) // want `CG013: C.CString result cstr is not freed on every path`
	C.copy_text(c, cstr, C.int(len(s)))
}

// The library copies (a TRANSIENT-like destructor constant): freeing the
// string after the call is right.
func bindText(c *C.ctx, s string) { // want bindText:`ownership\(Read -\)`
	cstr := C.CString(s)
	defer C.free(unsafe.Pointer(cstr))
	C.bind_text(c, cstr, C.int(len(s)))
}

// The same without the free leaks.
func bindTextLeak(c *C.ctx, s string) { // want bindTextLeak:`ownership\(Read -\)`
	cstr := C.CString(s) // want `CG013: C.CString result cstr is not freed on every path`
	C.bind_text(c, cstr, C.int(len(s)))
}

// free given as the destructor from Go: the library owns the string.
func takeWithFree(c *C.ctx, s string) { // want takeWithFree:`ownership\(Read -\)`
	C.lib_take(c, C.CString(s), (*[0]byte)(C.free))
}

// A destructor that is not a release: the string leaks.
func takeWithUse(c *C.ctx, s string) { // want takeWithUse:`ownership\(Read -\)`
	C.lib_take(c, C.CString(s), (*[0]byte)(C.use)) // want `CG013: C.CString passed straight to C.lib_take is never freed`
}

// A C function of the package that frees its argument.
func released(s string) {
	b := C.CString(s)
	C.release_buf(b)
}

// An interior pointer into the allocation is stored in a C struct.
func toC(value, key []byte, m *C.msg_t) { // want toC:`ownership\(- - Read\)`
	n := len(value) + len(key)
	if n == 0 {
		return
	}
	payload := C.malloc(C.size_t(n))
	copy(unsafe.Slice((*byte)(payload), n), value)
	m.key = unsafe.Pointer(&((*[1 << 30]byte)(payload))[len(value)])
	m.len = C.size_t(len(key))
}

// An interior pointer only lent to C: the allocation leaks.
func peek(n int) {
	p := C.malloc(C.size_t(n + 1)) // want `CG014: C.malloc result p is not freed on every path`
	C.use((*C.char)(unsafe.Pointer(&((*[1 << 30]byte)(p))[n])))
}

// A defer in a loop over a slice holds memory in proportion to data that
// is already in memory: not reported.
func eachName(names []string) {
	for _, n := range names {
		p := C.CString(n)
		defer C.free(unsafe.Pointer(p))
		C.use(p)
	}
}

// Strings that must outlive the loop: freeing them at the end of the
// iteration would be a use after free.
func describe(names chan string) {
	var ptrs []*C.char
	for n := range names {
		p := C.CString(n)
		defer C.free(unsafe.Pointer(p))
		ptrs = append(ptrs, p)
	}
	for _, p := range ptrs {
		C.use(p)
	}
}

// An unbounded loop: every message is held until the function returns.
func drain(msgs chan string) {
	for m := range msgs {
		p := C.CString(m)
		defer C.free(unsafe.Pointer(p)) // want `CG015: defer C.free in a loop`
		C.use(p)
	}
}

// A map key freed at the end of each iteration; the next iteration gets
// the next key.
func freeAll(m map[unsafe.Pointer]bool) {
	for h := range m {
		delete(m, h)
		C.free(h)
	}
}

// Used after its free within the same iteration.
func freeThenUse(m map[*C.char]bool) {
	for h := range m {
		C.free(unsafe.Pointer(h))
		C.use(h) // want `CG016: h is used after it was freed`
	}
}

/*
The filter releases its C context in Release, which the finalizer runs.
*/

type Filter struct {
	valid bool
	ctx   unsafe.Pointer
}

func NewFilter() *Filter {
	f := &Filter{valid: true, ctx: C.malloc(16)}
	runtime.SetFinalizer(f, (*Filter).Release)
	return f
}

// Release returns early once the flag is cleared: a second run, by the
// finalizer after an explicit call, frees nothing.
func (f *Filter) Release() {
	if !f.valid {
		return
	}
	f.valid = false
	C.free(f.ctx)
}

type Ring struct {
	buf unsafe.Pointer
}

func NewRing() *Ring {
	r := &Ring{buf: C.malloc(64)}
	runtime.SetFinalizer(r, (*Ring).Close)
	return r
}

// Close frees without a guard: an explicit Close and then the finalizer
// free it twice.
func (r *Ring) Close() {
	C.free(r.buf) // want `CG017: Close frees r.buf and is also run by the finalizer`
}

// track keeps its allocation in a registry that releases it: the memory
// it returns is not the caller's alone.
var registry = map[unsafe.Pointer]any{}

func track(v any) unsafe.Pointer {
	p := C.malloc(1)
	registry[p] = v
	return p
}

func untrack(p unsafe.Pointer) { // want untrack:`ownership\(Free\)`
	delete(registry, p)
	C.free(p)
}

func setup(m *C.msg_t, v any) { // want setup:`ownership\(Read -\)`
	m.payload = track(v)
}

func setupLocal(v any) {
	payload := track(v)
	_ = payload
}
