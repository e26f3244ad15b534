package cmem

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/cgoguard/cgoguard/cmem/internal/callsite"
)

var (
	// ErrNotSupported is returned by every allocation when the program is
	// built without cgo.
	ErrNotSupported = errors.New("cgoguard: C allocation needs cgo")
	// ErrUnknownPointer is returned by Free for a pointer this package did
	// not allocate or has already freed; the pointer is left alone.
	ErrUnknownPointer = errors.New("cgoguard: free of a pointer not allocated by cmem or already freed")
	// ErrOutOfMemory is returned when the C allocator returns NULL.
	ErrOutOfMemory = errors.New("cgoguard: C allocator out of memory")
	// ErrSize is returned for a negative or overflowing size.
	ErrSize = errors.New("cgoguard: invalid C allocation size")
)

// site counts the live allocations made at one call site.
type site struct {
	pc     uintptr
	allocs atomic.Int64
	bytes  atomic.Int64
}

type entry struct {
	size int64
	site *site // nil when made with tracking off
}

// The table of live allocations is what lets Free refuse a pointer it does
// not know. It is sharded by address so that goroutines allocating at the
// same time rarely share a lock.
const shards = 64

type shard struct {
	mu     sync.Mutex
	m      map[uintptr]entry
	allocs int64    // live allocations in m, under mu
	bytes  int64    // their bytes, under mu
	_      [32]byte // keep shards on separate cache lines
}

var (
	table    [shards]shard
	tracking atomic.Bool
	sites    sync.Map // pc -> *site
)

func init() {
	for i := range table {
		table[i].m = make(map[uintptr]entry)
	}
	tracking.Store(true)
}

func shardOf(p uintptr) *shard {
	// malloc returns 16-byte aligned blocks: drop the low bits, then mix.
	h := (uint64(p) >> 4) * 0x9e3779b97f4a7c15
	return &table[h>>58]
}

// SetTracking turns the per-call-site accounting on or off and returns the
// previous setting. Default: on. With it off, allocations skip finding
// their caller (the one costly step) and are counted only in Live; the
// table of live pointers stays, so Free still refuses unknown pointers.
func SetTracking(on bool) (was bool) { return tracking.Swap(on) }

// Tracking reports whether per-call-site accounting is on.
func Tracking() bool { return tracking.Load() }

// record enters p in the table and, when pc != 0, counts it for the call
// site pc.
func record(p unsafe.Pointer, size int64, pc uintptr) {
	var st *site
	if pc != 0 {
		v, ok := sites.Load(pc)
		if !ok {
			v, _ = sites.LoadOrStore(pc, &site{pc: pc})
		}
		st = v.(*site)
		st.allocs.Add(1)
		st.bytes.Add(size)
	}
	sh := shardOf(uintptr(p))
	sh.mu.Lock()
	sh.m[uintptr(p)] = entry{size: size, site: st}
	sh.allocs++
	sh.bytes += size
	sh.mu.Unlock()
}

// Malloc allocates n bytes of C memory (uninitialised) with malloc and
// records it. n == 0 allocates a unique minimal block. The memory MUST be
// released with Free, not with C's free.
//
//go:noinline
func Malloc(n int) (unsafe.Pointer, error) {
	if !cgoEnabled {
		return nil, ErrNotSupported
	}
	if n < 0 {
		return nil, fmt.Errorf("%w: Malloc(%d): size is negative", ErrSize, n)
	}
	p := cMalloc(max(n, 1))
	if p == nil {
		return nil, fmt.Errorf("%w: Malloc(%d)", ErrOutOfMemory, n)
	}
	var pc uintptr
	if tracking.Load() {
		pc = callsite.CallerPC()
	}
	record(p, int64(n), pc)
	return p, nil
}

// Calloc allocates count*size zeroed bytes of C memory with calloc and
// records it. The product must not overflow.
//
//go:noinline
func Calloc(count, size int) (unsafe.Pointer, error) {
	if !cgoEnabled {
		return nil, ErrNotSupported
	}
	if count < 0 || size < 0 {
		return nil, fmt.Errorf("%w: Calloc(%d, %d): negative argument", ErrSize, count, size)
	}
	if size != 0 && count > math.MaxInt/size {
		return nil, fmt.Errorf("%w: Calloc(%d, %d): count*size overflows", ErrSize, count, size)
	}
	p := cCalloc(max(count, 1), max(size, 1))
	if p == nil {
		return nil, fmt.Errorf("%w: Calloc(%d, %d)", ErrOutOfMemory, count, size)
	}
	var pc uintptr
	if tracking.Load() {
		pc = callsite.CallerPC()
	}
	record(p, int64(count*size), pc)
	return p, nil
}

// CString copies s into NUL-terminated C memory, like C.CString, and
// records it. Release it with Free.
//
//go:noinline
func CString(s string) (unsafe.Pointer, error) {
	if !cgoEnabled {
		return nil, ErrNotSupported
	}
	p := cMalloc(len(s) + 1)
	if p == nil {
		return nil, fmt.Errorf("%w: CString of %d bytes", ErrOutOfMemory, len(s))
	}
	b := unsafe.Slice((*byte)(p), len(s)+1)
	copy(b, s)
	b[len(s)] = 0
	var pc uintptr
	if tracking.Load() {
		pc = callsite.CallerPC()
	}
	record(p, int64(len(s)+1), pc)
	return p, nil
}

// CBytes copies b into C memory, like C.CBytes, and records it. Release it
// with Free.
//
//go:noinline
func CBytes(b []byte) (unsafe.Pointer, error) {
	if !cgoEnabled {
		return nil, ErrNotSupported
	}
	p := cMalloc(max(len(b), 1))
	if p == nil {
		return nil, fmt.Errorf("%w: CBytes of %d bytes", ErrOutOfMemory, len(b))
	}
	copy(unsafe.Slice((*byte)(p), len(b)), b)
	var pc uintptr
	if tracking.Load() {
		pc = callsite.CallerPC()
	}
	record(p, int64(len(b)), pc)
	return p, nil
}

// Free releases memory from Malloc, Calloc, CString or CBytes. A nil
// pointer is a no-op. A pointer this package did not hand out, or has
// already freed, is not passed to free: Free returns ErrUnknownPointer
// instead of corrupting the heap. (Once the C allocator reuses an address
// for a new allocation from this package, that address is live again.)
func Free(p unsafe.Pointer) error {
	if p == nil {
		return nil
	}
	sh := shardOf(uintptr(p))
	sh.mu.Lock()
	e, ok := sh.m[uintptr(p)]
	if ok {
		delete(sh.m, uintptr(p))
		sh.allocs--
		sh.bytes -= e.size
	}
	sh.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %#x", ErrUnknownPointer, uintptr(p))
	}
	cFree(p)
	if e.site != nil {
		e.site.allocs.Add(-1)
		e.site.bytes.Add(-e.size)
	}
	return nil
}

// Size returns the size requested for a live allocation of this package,
// and whether p is one.
func Size(p unsafe.Pointer) (int, bool) {
	sh := shardOf(uintptr(p))
	sh.mu.Lock()
	e, ok := sh.m[uintptr(p)]
	sh.mu.Unlock()
	return int(e.size), ok
}

// Live returns the number of live allocations and the bytes they hold,
// whether or not tracking is on.
func Live() (allocs, bytes int64) {
	for i := range table {
		sh := &table[i]
		sh.mu.Lock()
		allocs += sh.allocs
		bytes += sh.bytes
		sh.mu.Unlock()
	}
	return allocs, bytes
}

// Site is a call site with live allocations.
type Site struct {
	Function string // fully qualified name of the function that allocated
	File     string
	Line     int
	Allocs   int64 // live allocations made here
	Bytes    int64 // bytes they hold
}

// String returns "function (file:line): N allocations, B bytes".
func (s Site) String() string {
	return fmt.Sprintf("%s (%s:%d): %d allocations, %d bytes", s.Function, s.File, s.Line, s.Allocs, s.Bytes)
}

// Sites returns the call sites that hold live allocations made while
// tracking was on, most bytes first.
func Sites() []Site {
	var out []Site
	sites.Range(func(_, v any) bool {
		st := v.(*site)
		n, b := st.allocs.Load(), st.bytes.Load()
		if n == 0 {
			return true
		}
		s := Site{Allocs: n, Bytes: b}
		frame, _ := runtime.CallersFrames([]uintptr{st.pc}).Next()
		s.Function, s.File, s.Line = frame.Function, frame.File, frame.Line
		out = append(out, s)
		return true
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Bytes != out[j].Bytes {
			return out[i].Bytes > out[j].Bytes
		}
		if out[i].File != out[j].File {
			return out[i].File < out[j].File
		}
		return out[i].Line < out[j].Line
	})
	return out
}
