// Package cmemory holds Go-typed values that point at C memory or hold
// only C pointers, and the integer form with the object kept alive: none
// is a Go pointer hazard. Lines without a want comment are correct code.
package cmemory

/*
#include <stdint.h>
#include <stdlib.h>

typedef struct head { int oid; } head;
typedef struct format { uint32_t format; void *palette; } format;
typedef struct opts { char **strings; size_t count; } opts;

static void list(head ***out, size_t *n) { *out = NULL; *n = 0; }
static format *alloc_format(uint32_t f) { format *p = calloc(1, sizeof(format)); p->format = f; return p; }
static void free_format(format *f) { free(f); }
static uintptr_t compress(uintptr_t dst, size_t dstcap, uintptr_t src, size_t srclen) { (void)dst; (void)dstcap; (void)src; return srclen; }
static void use(void *p) { (void)p; }
extern void goLog(void *userdata);
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// A pointer to a variable that holds only a C pointer.
func heads() int {
	var refs **C.head
	var n C.size_t
	C.list(&refs, &n)
	return int(n)
}

// Palette mirrors C memory; PixelFormat too: the package lays them over
// what C allocates.
type Palette struct {
	Ncolors int32
	Colors  *uint32
}

type PixelFormat struct {
	Format  uint32
	Palette *Palette
}

func AllocFormat(f uint32) *PixelFormat {
	return (*PixelFormat)(unsafe.Pointer(C.alloc_format(C.uint32_t(f))))
}

func (format *PixelFormat) Free() {
	C.free_format((*C.format)(unsafe.Pointer(format)))
}

// A Go value of such a type made here is Go memory.
func Local() {
	f := PixelFormat{Format: 1}
	C.use(unsafe.Pointer(&f)) // want `CG001: &f passed to C.use points to a PixelFormat, which contains Go pointers`
}

// A helper returning a C array of C strings.
func cstrings(s []string) **C.char {
	x := (**C.char)(C.malloc(C.size_t(len(s)) * C.size_t(unsafe.Sizeof(uintptr(0)))))
	return x
}

func setPaths(o *C.opts, paths []string) {
	o.strings = cstrings(paths)
	o.count = C.size_t(len(paths))
}

// The integer form with the objects kept alive after the call.
func Compress(dst, src []byte) int {
	if len(dst) == 0 || len(src) == 0 {
		return 0
	}
	r := C.compress(C.uintptr_t(uintptr(unsafe.Pointer(&dst[0]))), C.size_t(cap(dst)),
		C.uintptr_t(uintptr(unsafe.Pointer(&src[0]))), C.size_t(len(src)))
	runtime.KeepAlive(dst)
	runtime.KeepAlive(src)
	return int(r)
}

// The integer form without: nothing keeps src where it is.
func CompressLoose(dst, src []byte) int {
	if len(dst) == 0 || len(src) == 0 {
		return 0
	}
	r := C.compress(C.uintptr_t(uintptr(unsafe.Pointer(&dst[0]))), C.size_t(cap(dst)),
		C.uintptr_t(uintptr(unsafe.Pointer(&src[0]))), C.size_t(len(src))) // want `CG008: Go pointer &src\[0\] is passed to C.compress as an integer`
	runtime.KeepAlive(dst)
	return int(r)
}

// logCtx is handed to C as user data and read back in the callback: a
// Go object, not a mirror of C memory.
type logCtx struct {
	f func(string)
	d any
}

//export goLog
func goLog(userdata unsafe.Pointer) {
	ctx := (*logCtx)(userdata)
	ctx.f("x")
}

func SetLog(f func(string), d any) {
	ctx := &logCtx{f: f, d: d}
	C.use(unsafe.Pointer(ctx)) // want `CG001: ctx passed to C.use points to a logCtx, which contains Go pointers`
}
