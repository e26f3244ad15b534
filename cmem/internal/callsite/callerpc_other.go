//go:build !amd64

package callsite

import "runtime"

// CallerPC returns the PC the calling function will return to. On this
// architecture it uses runtime.Callers (0 = Callers, 1 = CallerPC,
// 2 = the allocator, 3 = its caller).
//
//go:noinline
func CallerPC() uintptr {
	var pcs [1]uintptr
	if runtime.Callers(3, pcs[:]) == 0 {
		return 0
	}
	return pcs[0]
}
