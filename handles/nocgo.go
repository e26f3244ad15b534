//go:build !cgo

package handles

import "sync"

// Without cgo no C code can hold a handle, but programs that share code
// with cgo builds still compile and run: handles are kept in a map here
// (runtime/cgo, which cgo.Handle lives in, needs cgo to link).
var (
	tableMu sync.Mutex
	table   = map[uintptr]any{}
	nextID  uintptr
)

func newHandle(v any) uintptr {
	tableMu.Lock()
	defer tableMu.Unlock()
	nextID++
	table[nextID] = v
	return nextID
}

func handleValue(h Handle) any {
	tableMu.Lock()
	v, ok := table[uintptr(h)]
	tableMu.Unlock()
	if !ok {
		panic("handles: misuse of an invalid Handle")
	}
	return v
}

func deleteHandle(h Handle) {
	tableMu.Lock()
	delete(table, uintptr(h))
	tableMu.Unlock()
}
