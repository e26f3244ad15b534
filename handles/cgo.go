//go:build cgo

package handles

import "runtime/cgo"

func newHandle(v any) uintptr  { return uintptr(cgo.NewHandle(v)) }
func handleValue(h Handle) any { return cgo.Handle(h).Value() }
func deleteHandle(h Handle)    { cgo.Handle(h).Delete() }
