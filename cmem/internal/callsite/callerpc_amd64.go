package callsite

// CallerPC returns the PC the calling function will return to, read from
// the frame-pointer chain. runtime.Callers would give the same answer but
// costs about 200 ns here, most of an allocation's cost; the caller MUST
// not be inlined (the allocators are marked go:noinline).
//
//go:noescape
func CallerPC() uintptr
