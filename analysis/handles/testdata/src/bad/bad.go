package bad

/*
#include <stdint.h>
static void process(uintptr_t h) { (void)h; }
static void process_ptr(void *p) { (void)p; }
static void register_handle(void *p) { (void)p; }
*/
import "C"

import (
	"errors"
	"runtime/cgo"
	"unsafe"
)

func AsPointer(v any) {
	h := cgo.NewHandle(v)
	defer h.Delete()
	C.process_ptr(unsafe.Pointer(h))          // want `CG009: cgo.Handle h converted to unsafe.Pointer`
	C.process_ptr(unsafe.Pointer(uintptr(h))) // want `CG009: cgo.Handle h converted to unsafe.Pointer`
}

func Address(v any) {
	h := cgo.NewHandle(v)
	defer h.Delete()
	C.register_handle(unsafe.Pointer(&h)) // want `CG010: C.register_handle keeps &h, the address of local handle h`
}

func NeverDeleted(v any) {
	h := cgo.NewHandle(v) // want `CG024: handle h is never deleted`
	C.process(C.uintptr_t(h))
}

func Inline(v any) {
	C.process(C.uintptr_t(cgo.NewHandle(v))) // want `CG024: handle created for C.process is never deleted`
}

func EarlyReturn(v any, fail bool) error {
	h := cgo.NewHandle(v) // want `CG024: handle h is not deleted on the path through the return at line 42`
	if fail {
		return errors.New("failed")
	}
	C.process(C.uintptr_t(h))
	h.Delete()
	return nil
}

func Loop(vs []any) {
	for _, v := range vs {
		h := cgo.NewHandle(v) // want `CG024: a new handle h per loop iteration is never deleted`
		C.process(C.uintptr_t(h))
	}
}

func LoopDeleteAfter(vs []any) {
	var h cgo.Handle
	for _, v := range vs {
		h = cgo.NewHandle(v) // want `CG024: a new handle h per loop iteration is deleted only after the loop`
		C.process(C.uintptr_t(h))
	}
	h.Delete()
}
