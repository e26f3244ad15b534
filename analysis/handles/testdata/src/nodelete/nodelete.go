// Package nodelete hands handles to C that keeps them and never deletes
// any handle: each call leaks the value the handle holds.
package nodelete

/*
#include <stdint.h>
static void register_hover(uintptr_t h) { (void)h; }
*/
import "C"

import "runtime/cgo"

func OnHover(f func()) {
	C.register_hover(C.uintptr_t(cgo.NewHandle(f))) // want `CG024: handle created for C.register_hover is kept by C but nothing in the package ever deletes a handle`
}

func OnHoverVar(f func()) {
	h := cgo.NewHandle(f) // want `CG024: handle h is never deleted`
	C.register_hover(C.uintptr_t(h))
}
