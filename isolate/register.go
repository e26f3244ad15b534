package isolate

import (
	"fmt"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/cgoguard/cgoguard/internal/fault"
)

// The registry of C entry points, filled by Register in init functions and
// frozen when the first pool starts or Main runs: the parent and its
// workers (the same binary, re-executed) must agree on it, and they check
// that they do through its hash.
var reg struct {
	mu     sync.Mutex
	frozen bool
	names  []string
	fns    []uintptr
	byName map[string]int
	byPtr  map[uintptr]int
}

// Register makes the C function fn (of type int fn(void *arg), converted
// with unsafe.Pointer(C.fn)) callable in worker processes under name. Call
// it from an init function: a program registers its entry points before
// anything else runs, so that the worker, which re-executes the same
// binary, holds the same table. Names, not addresses, cross the process
// boundary (each process has its own address layout). The name is also
// the function's name for failpoints (package chaos): module.name targets
// its calls.
//
// Register panics when name is empty or taken, fn is nil or registered
// under another name, or when it is called after a pool started or Main
// ran: registration belongs in init.
func Register(name string, fn unsafe.Pointer) {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	switch {
	case reg.frozen:
		panic(fmt.Sprintf("cgoguard: isolate.Register(%q) after a pool started or Main ran; register in init", name))
	case name == "":
		panic("cgoguard: isolate.Register: empty name")
	case fn == nil:
		panic(fmt.Sprintf("cgoguard: isolate.Register(%q): nil function", name))
	}
	if _, ok := reg.byName[name]; ok {
		panic(fmt.Sprintf("cgoguard: isolate.Register: %q registered twice", name))
	}
	if i, ok := reg.byPtr[uintptr(fn)]; ok {
		panic(fmt.Sprintf("cgoguard: isolate.Register(%q): the function is already registered as %q", name, reg.names[i]))
	}
	if reg.byName == nil {
		reg.byName, reg.byPtr = map[string]int{}, map[uintptr]int{}
	}
	reg.byName[name] = len(reg.names)
	reg.byPtr[uintptr(fn)] = len(reg.names)
	reg.names = append(reg.names, name)
	reg.fns = append(reg.fns, uintptr(fn))
	fault.NameFunc(uintptr(fn), name) // failpoints target module.name
}

// Functions returns the registered names in registration order.
func Functions() []string {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	return append([]string(nil), reg.names...)
}

// fnTable is the frozen registry; immutable, so lookups take no lock.
type fnTable struct {
	names  []string
	fns    []uintptr
	byName map[string]int
	byPtr  map[uintptr]int
	hash   uint64
}

var table atomic.Pointer[fnTable]

// freeze ends registration and returns the table every pool and worker
// uses from then on.
func freeze() *fnTable {
	if t := table.Load(); t != nil {
		return t
	}
	reg.mu.Lock()
	defer reg.mu.Unlock()
	if t := table.Load(); t != nil {
		return t
	}
	reg.frozen = true
	h := fnv.New64a()
	for _, name := range reg.names {
		h.Write([]byte(name))
		h.Write([]byte{0})
	}
	t := &fnTable{names: reg.names, fns: reg.fns, byName: reg.byName, byPtr: reg.byPtr, hash: h.Sum64()}
	table.Store(t)
	return t
}
