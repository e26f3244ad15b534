package fix

import "runtime/cgo"

func Leak(v any) uintptr {
	h := cgo.NewHandle(v) // want `CG024: handle h is never deleted`
	return uintptr(h) + 0*uintptr(len(h.Value().(string)))
}
