package arena

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"unsafe"
)

// shmDir is where shared arenas live: the directory POSIX shm_open uses on
// Linux, so C code in another process can shm_open the same name.
const shmDir = "/dev/shm"

// Arena is a bump-allocated memory region outside the Go heap, shared with
// C code (through CPtr) and, when created WithShared, with other processes.
// Its header (cursor, generation, id, size) lives in the mapped memory, so
// every user sees the same state.
type Arena struct {
	// Read by every Alloc; set by New or Open and not changed before Close.
	closed   atomic.Bool
	id       uint32
	state    *uint64        // generation<<32 | cursor in units, in the mapping
	data     unsafe.Pointer // base + headerSize: the first data byte
	fastCap  uint64         // capUnits if Alloc may bump with one atomic add, else 0 (see Alloc)
	capUnits uint64

	base     unsafe.Pointer // start of the mapping; the cg_arena header
	mem      []byte         // the whole mapping, for Munmap
	dataOff  uint64
	capacity uint64 // bytes
	name     string
	shared   string   // shared-memory name, "" if anonymous
	owner    bool     // this Arena created the shared file and removes it on Close
	file     *os.File // the memory file of a WithMemfd or OpenFile arena, else nil
	closeMu  sync.Mutex
}

// Stats describes an arena's use. Used and HighWater count alignment
// padding.
type Stats struct {
	Capacity   int64  // bytes the arena can hand out
	Used       int64  // bytes allocated in the current generation
	HighWater  int64  // most bytes allocated in any generation
	Generation uint32 // bumped by every Reset, starting at 1
	Exhausted  uint64 // allocations refused for lack of room, by any user
}

// Info is one live arena in Snapshot.
type Info struct {
	Name   string // WithName, the shared name, or "arena-<id>"
	ID     uint32
	Shared string // shared-memory name, "" for a private arena
	Stats  Stats
}

var (
	regMu    sync.Mutex
	registry = map[*Arena]struct{}{}
)

// Snapshot returns the arenas of this process that are open (created or
// opened and not yet closed), with their stats, sorted by name.
func Snapshot() []Info {
	regMu.Lock()
	list := make([]*Arena, 0, len(registry))
	for a := range registry {
		list = append(list, a)
	}
	regMu.Unlock()
	out := make([]Info, 0, len(list))
	for _, a := range list {
		a.closeMu.Lock()
		if !a.closed.Load() {
			out = append(out, Info{Name: a.name, ID: a.id, Shared: a.shared, Stats: a.stats()})
		}
		a.closeMu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// New creates an arena that can hand out size bytes (rounded up to a
// multiple of 8; at most MaxSize). By default the memory is an anonymous
// mapping private to the process; WithShared backs it with a shared-memory
// file that other processes Open.
func New(size int, opts ...Option) (*Arena, error) {
	o := defaults()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if o.memfd && o.shared != "" {
		return nil, errors.New("cgoguard: arena: WithMemfd and WithShared exclude each other")
	}
	if size <= 0 || uint64(size) > MaxSize {
		return nil, fmt.Errorf("cgoguard: arena size %d out of range (1 to %d bytes)", size, uint64(MaxSize))
	}
	capacity := (uint64(size) + unit - 1) &^ (unit - 1)
	page := uint64(os.Getpagesize())
	mapSize := headerSize + (capacity+page-1)&^(page-1)
	id := rand.Uint32()
	for id == 0 {
		id = rand.Uint32()
	}
	name := o.name
	if name == "" {
		name = o.shared
		if len(name) > nameMax {
			name = name[:nameMax]
		}
	}
	if name == "" {
		name = fmt.Sprintf("arena-%08x", id)
	}

	var mem []byte
	var file *os.File
	switch {
	case o.memfd:
		f, m, err := createMemfd(name, mapSize, o.addr)
		if err != nil {
			return nil, err
		}
		file, mem = f, m
	case o.shared != "":
		m, err := createShared(o.shared, mapSize, o.addr)
		if err != nil {
			return nil, err
		}
		mem = m
	default:
		m, err := mapMemory(-1, mapSize, false, o.addr)
		if err != nil {
			return nil, fmt.Errorf("cgoguard: arena mmap of %d bytes: %w", mapSize, err)
		}
		mem = m
	}
	a := attach(mem, name, o.shared)
	a.file = file
	a.setSize(id, headerSize, capacity)
	put32(a.base, offVersion, layoutVersion)
	put32(a.base, offID, id)
	put64(a.base, offMapSize, mapSize)
	put64(a.base, offDataOff, headerSize)
	put64(a.base, offCapacity, capacity)
	if o.shared != "" || o.memfd {
		put32(a.base, offFlags, flagShared)
		a.owner = o.shared != ""
	}
	copy(mem[offName:offName+nameMax], name)
	atomic.StoreUint64(a.state, 1<<32) // generation 1, cursor 0
	atomic.StoreUint64((*uint64)(unsafe.Add(a.base, offGen)), 1)
	atomic.StoreUint64((*uint64)(unsafe.Add(a.base, offMagic)), layoutMagic)
	register(a)
	return a, nil
}

func createShared(name string, mapSize uint64, addr uintptr) ([]byte, error) {
	if st, err := os.Stat(shmDir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%w: shared memory needs %s", ErrNotSupported, shmDir)
	}
	path := filepath.Join(shmDir, name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cgoguard: create shared arena %q: %w", name, err)
	}
	defer f.Close()
	if err := f.Truncate(int64(mapSize)); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("cgoguard: size shared arena %q to %d bytes: %w", name, mapSize, err)
	}
	mem, err := mapMemory(int(f.Fd()), mapSize, true, addr)
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("cgoguard: map shared arena %q: %w", name, err)
	}
	return mem, nil
}

// Open maps the shared arena another process (or this one) created with
// WithShared(name). Both see the same memory, cursor and generation, so
// Refs made by either resolve in the other. Closing the opened arena only
// unmaps it.
func Open(name string) (*Arena, error) {
	if err := checkSharedName(name); err != nil {
		return nil, err
	}
	path := filepath.Join(shmDir, name)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("cgoguard: open shared arena %q: %w", name, err)
	}
	defer f.Close()
	a, err := mapFile(f, path, 0)
	if err != nil {
		return nil, err
	}
	a.shared = name
	register(a)
	return a, nil
}

// OpenFile maps the shared arena whose memory file f is: the descriptor
// of a WithMemfd arena that another process passed down (Arena.File), or
// an open /dev/shm file. Of the options only WithAddress applies. f may be
// closed once OpenFile returns (the arena keeps its own descriptor for
// File). Closing the arena only unmaps it.
func OpenFile(f *os.File, opts ...Option) (*Arena, error) {
	if f == nil {
		return nil, errors.New("cgoguard: arena OpenFile: nil file")
	}
	o := defaults()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if o.shared != "" || o.memfd || o.name != "" {
		return nil, errors.New("cgoguard: arena OpenFile: only WithAddress applies (the file decides the rest)")
	}
	a, err := mapFile(f, f.Name(), o.addr)
	if err != nil {
		return nil, err
	}
	dup, err := dupFile(f)
	if err != nil {
		a.unmap()
		return nil, fmt.Errorf("cgoguard: arena OpenFile %s: %w", f.Name(), err)
	}
	a.file = dup
	register(a)
	return a, nil
}

// mapFile maps the arena file f (named path in errors) and checks its
// header. The Arena is not registered yet.
func mapFile(f *os.File, path string, addr uintptr) (*Arena, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cgoguard: open shared arena %s: %w", path, err)
	}
	size := st.Size()
	if size < headerSize+unit || size > headerSize+MaxSize+int64(os.Getpagesize()) {
		return nil, fmt.Errorf("%w: %s is %d bytes", ErrBadHeader, path, size)
	}
	mem, err := mapMemory(int(f.Fd()), uint64(size), true, addr)
	if err != nil {
		return nil, fmt.Errorf("cgoguard: map shared arena %s: %w", path, err)
	}
	base := unsafe.Pointer(&mem[0])
	bad := func(format string, args ...any) (*Arena, error) {
		unmapMemory(mem)
		return nil, fmt.Errorf("%w: %s: %s", ErrBadHeader, path, fmt.Sprintf(format, args...))
	}
	if m := atomic.LoadUint64((*uint64)(unsafe.Add(base, offMagic))); m != layoutMagic {
		return bad("magic %#x (not an arena, or its creator has not finished)", m)
	}
	if v := get32(base, offVersion); v != layoutVersion {
		return bad("layout version %d, want %d", v, layoutVersion)
	}
	id, mapSize := get32(base, offID), get64(base, offMapSize)
	dataOff, capacity := get64(base, offDataOff), get64(base, offCapacity)
	switch {
	case id == 0:
		return bad("arena id 0")
	case mapSize != uint64(size):
		return bad("header says %d bytes, file has %d", mapSize, size)
	case dataOff != headerSize:
		return bad("data offset %d, want %d", dataOff, headerSize)
	case capacity == 0 || capacity%unit != 0 || capacity > mapSize-headerSize:
		return bad("capacity %d does not fit %d mapped bytes", capacity, mapSize)
	}
	nameBytes := mem[offName : offName+nameMax]
	n := 0
	for n < len(nameBytes) && nameBytes[n] != 0 {
		n++
	}
	a := attach(mem, string(nameBytes[:n]), "")
	a.setSize(id, dataOff, capacity)
	return a, nil
}

// File returns a new descriptor (close-on-exec; the caller closes it) of
// the arena's memory file, to hand to another process, for example in
// exec.Cmd.ExtraFiles; that process maps it with OpenFile. It works for
// WithMemfd and WithShared arenas and those opened from a file; a private
// arena has no file.
func (a *Arena) File() (*os.File, error) {
	a.closeMu.Lock()
	defer a.closeMu.Unlock()
	if a.closed.Load() {
		return nil, ErrClosed
	}
	switch {
	case a.file != nil:
		f, err := dupFile(a.file)
		if err != nil {
			return nil, fmt.Errorf("cgoguard: arena %q: %w", a.name, err)
		}
		return f, nil
	case a.shared != "":
		f, err := os.OpenFile(filepath.Join(shmDir, a.shared), os.O_RDWR, 0)
		if err != nil {
			return nil, fmt.Errorf("cgoguard: arena %q: %w", a.name, err)
		}
		return f, nil
	}
	return nil, fmt.Errorf("%w: arena %q is private to this process (create it WithMemfd or WithShared)", ErrNotSupported, a.name)
}

// Remove deletes the shared-memory file of a shared arena, for example one
// left behind by a process that died before closing it. Processes that
// have it mapped keep their mapping.
func Remove(name string) error {
	if err := checkSharedName(name); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(shmDir, name)); err != nil {
		return fmt.Errorf("cgoguard: remove shared arena %q: %w", name, err)
	}
	return nil
}

func attach(mem []byte, name, shared string) *Arena {
	base := unsafe.Pointer(&mem[0])
	return &Arena{
		base:   base,
		state:  (*uint64)(unsafe.Add(base, offState)),
		mem:    mem,
		name:   name,
		shared: shared,
	}
}

func (a *Arena) setSize(id uint32, dataOff, capacity uint64) {
	a.id, a.dataOff, a.capacity, a.capUnits = id, dataOff, capacity, capacity/unit
	a.data = unsafe.Add(a.base, dataOff)
	if a.capUnits <= fastCapMax {
		a.fastCap = a.capUnits
	}
}

func (a *Arena) unmap() error { return unmapMemory(a.mem) }

func register(a *Arena) {
	regMu.Lock()
	registry[a] = struct{}{}
	regMu.Unlock()
}

// Alloc hands out n bytes aligned to align (a power of two up to 4096; 0
// means 8, and every block is at least 8-aligned) and returns the block's
// Ref and the bytes themselves. It is lock-free and makes no cgo call: a
// block of up to 1 KiB with an alignment of at most 8 takes one atomic add
// on the shared cursor, any other block one compare-and-swap (retried under
// contention). When the block does not fit it returns ErrExhausted. The
// memory is zero only the first time it is handed out; after a Reset it
// holds what the previous generation wrote.
//
// Everything but the common case is in allocSlow, so Alloc itself is a few
// compares, one load and one atomic add. (It is still too large for the
// inliner, whose budget a call to allocSlow alone mostly uses up.)
func (a *Arena) Alloc(n, align int) (Ref, []byte, error) {
	// Fast path: every block is a whole number of 8-byte units and the
	// cursor counts units, so with align <= 8 any cursor value is a valid
	// start and one atomic add (XADD) reserves the block. The add returns
	// the state it was applied to, whose generation is the block's: a
	// Reset is ordered entirely before or after it. The load first keeps
	// the add off an arena that is already full, which bounds how far
	// racing adds can push the cursor past the capacity (see fastCapMax).
	added := noAdd
	if uint(n-1) < fastMax && fastAligns>>uint(align)&1 != 0 && !a.closed.Load() {
		st, nu := a.state, (uint64(n)+unit-1)/unit
		if atomic.LoadUint64(st)&cursorMask+nu <= a.fastCap {
			s := atomic.AddUint64(st, nu) - nu
			if start := s & cursorMask; start+nu <= a.fastCap {
				return Ref{arena: a.id, gen: uint32(s >> 32), off: headerSize + start*unit, len: uint64(n)},
					(*[fastMax]byte)(unsafe.Add(a.data, start*unit))[:n:n], nil
			}
			added = s // lost a race for the last units: undone in allocSlow
		}
	}
	return a.allocSlow(n, align, added)
}

// allocSlow is Alloc for everything but the fast path: a closed arena,
// invalid arguments, blocks over fastMax or aligned beyond 8, a full arena,
// and a fast-path add that went past the capacity (added is the state it
// was applied to, or noAdd).
//
//go:noinline
func (a *Arena) allocSlow(n, align int, added uint64) (Ref, []byte, error) {
	if added != noAdd {
		// The add made the cursor pass the capacity, so no block can be
		// handed out until the cursor comes back below it. Take the add
		// back only if nothing touched the state since: then the arena is
		// exactly as if it never happened. Otherwise the overshoot stays
		// until the next Reset; it only wastes the last units, which were
		// too few for this block anyway.
		nu := (uint64(n) + unit - 1) / unit
		atomic.CompareAndSwapUint64(a.state, added+nu, added)
	}
	if a.closed.Load() {
		return Ref{}, nil, ErrClosed
	}
	if n <= 0 || uint64(n) > a.capacity {
		return Ref{}, nil, a.sizeErr(n)
	}
	au := uint64(1)
	if align > unit {
		if align > maxAlign || align&(align-1) != 0 {
			return Ref{}, nil, alignErr(align)
		}
		au = uint64(align) / unit
	} else if align < 0 || align&(align-1) != 0 {
		return Ref{}, nil, alignErr(align)
	}
	nu := (uint64(n) + unit - 1) / unit
	for {
		s := atomic.LoadUint64(a.state)
		start := (s&cursorMask + au - 1) &^ (au - 1)
		end := start + nu
		if end > a.capUnits {
			return Ref{}, nil, a.exhausted(n, s)
		}
		if atomic.CompareAndSwapUint64(a.state, s, s&^cursorMask|end) {
			off := a.dataOff + start*unit
			return Ref{arena: a.id, gen: uint32(s >> 32), off: off, len: uint64(n)},
				unsafe.Slice((*byte)(unsafe.Add(a.base, off)), n), nil
		}
	}
}

// usedUnits returns the cursor of state s, which racing fast-path adds may
// have pushed past the capacity for a moment, clamped to the capacity.
func (a *Arena) usedUnits(s uint64) uint64 {
	return min(s&cursorMask, a.capUnits)
}

func (a *Arena) sizeErr(n int) error {
	if n <= 0 {
		return fmt.Errorf("cgoguard: arena allocation of %d bytes: size must be positive", n)
	}
	atomic.AddUint64((*uint64)(unsafe.Add(a.base, offExhausted)), 1)
	return fmt.Errorf("%w: %d bytes requested, capacity is %d", ErrExhausted, n, a.capacity)
}

func alignErr(align int) error {
	return fmt.Errorf("cgoguard: arena alignment %d is not a power of two between 1 and %d (or 0)", align, maxAlign)
}

func (a *Arena) exhausted(n int, s uint64) error {
	atomic.AddUint64((*uint64)(unsafe.Add(a.base, offExhausted)), 1)
	return fmt.Errorf("%w: %d bytes requested, %d of %d free", ErrExhausted, n, a.capacity-a.usedUnits(s)*unit, a.capacity)
}

// Resolve returns the bytes r names. It rejects, with a *RefError, a Ref
// from another arena (ErrForeignRef), from before the last Reset
// (ErrStaleRef), or not inside the allocated part of the arena
// (ErrOutOfBounds); after Close it returns ErrClosed.
func (a *Arena) Resolve(r Ref) ([]byte, error) {
	if a.closed.Load() {
		return nil, ErrClosed
	}
	if r.arena != a.id {
		if r.arena == 0 {
			return nil, refErr(r, nil, "zero arena id")
		}
		return nil, refErr(r, ErrForeignRef, "ref arena %08x, this arena %08x", r.arena, a.id)
	}
	if err := r.validate(); err != nil {
		return nil, err
	}
	s := atomic.LoadUint64(a.state)
	if gen := uint32(s >> 32); r.gen != gen {
		return nil, refErr(r, ErrStaleRef, "ref generation %d, arena generation %d", r.gen, gen)
	}
	usedEnd := a.dataOff + a.usedUnits(s)*unit
	if r.off > usedEnd || r.len > usedEnd-r.off {
		return nil, refErr(r, ErrOutOfBounds, "bytes %d..%d, allocated part ends at %d", r.off, r.off+r.len, usedEnd)
	}
	return unsafe.Slice((*byte)(unsafe.Add(a.base, r.off)), int(r.len)), nil
}

// Reset makes the whole arena free again and bumps its generation, so every
// Ref handed out before is rejected from now on. Slices and C pointers from
// before MUST NOT be used after Reset: their memory is handed out again.
// Reset on a closed arena does nothing.
func (a *Arena) Reset() {
	if a.closed.Load() {
		return
	}
	hw := (*uint64)(unsafe.Add(a.base, offHighWater))
	for {
		s := atomic.LoadUint64(a.state)
		used := a.usedUnits(s) * unit
		for {
			old := atomic.LoadUint64(hw)
			if used <= old || atomic.CompareAndSwapUint64(hw, old, used) {
				break
			}
		}
		gen := uint32(s>>32) + 1
		if gen == 0 {
			gen = 1 // the zero generation is never valid
		}
		if atomic.CompareAndSwapUint64(a.state, s, uint64(gen)<<32) {
			atomic.StoreUint64((*uint64)(unsafe.Add(a.base, offGen)), uint64(gen))
			return
		}
	}
}

// Close unmaps the arena. Every later call on a returns ErrClosed (or does
// nothing), never touching the unmapped memory; slices and C pointers into
// the arena MUST NOT be used after Close, and Close MUST NOT run while other
// goroutines or C code still use the arena. The arena that created a
// shared-memory file removes it; processes that opened it keep their
// mapping until they close it.
func (a *Arena) Close() error {
	a.closeMu.Lock()
	defer a.closeMu.Unlock()
	if a.closed.Swap(true) {
		return ErrClosed
	}
	regMu.Lock()
	delete(registry, a)
	regMu.Unlock()
	err := a.unmap()
	a.mem, a.base, a.state, a.data = nil, nil, nil, nil
	if err != nil {
		err = fmt.Errorf("cgoguard: unmap arena %q: %w", a.name, err)
	}
	if a.file != nil {
		if cerr := a.file.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("cgoguard: arena %q: %w", a.name, cerr))
		}
		a.file = nil
	}
	if a.owner {
		if rerr := os.Remove(filepath.Join(shmDir, a.shared)); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = errors.Join(err, fmt.Errorf("cgoguard: remove shared arena %q: %w", a.shared, rerr))
		}
	}
	return err
}

// Stats returns the arena's current use; the zero Stats after Close.
func (a *Arena) Stats() Stats {
	a.closeMu.Lock()
	defer a.closeMu.Unlock()
	if a.closed.Load() {
		return Stats{}
	}
	return a.stats()
}

func (a *Arena) stats() Stats {
	s := atomic.LoadUint64(a.state)
	used := int64(a.usedUnits(s) * unit)
	hw := int64(atomic.LoadUint64((*uint64)(unsafe.Add(a.base, offHighWater))))
	return Stats{
		Capacity:   int64(a.capacity),
		Used:       used,
		HighWater:  max(hw, used),
		Generation: uint32(s >> 32),
		Exhausted:  atomic.LoadUint64((*uint64)(unsafe.Add(a.base, offExhausted))),
	}
}

// CPtr returns the arena as a cg_arena* for C code (convert it with
// (*C.cg_arena)(a.CPtr())), or nil after Close. The pointer is valid until
// Close; it points outside the Go heap, so the cgo pointer-passing rules do
// not restrict it.
func (a *Arena) CPtr() unsafe.Pointer {
	if a.closed.Load() {
		return nil
	}
	return a.base
}

// ID returns the arena id carried by its Refs; processes that map the same
// shared arena see the same id.
func (a *Arena) ID() uint32 { return a.id }

// Name returns the arena's name (see WithName).
func (a *Arena) Name() string { return a.name }

// SharedName returns the shared-memory name, or "" for a private arena.
func (a *Arena) SharedName() string { return a.shared }

func put32(base unsafe.Pointer, off uintptr, v uint32) { *(*uint32)(unsafe.Add(base, off)) = v }
func put64(base unsafe.Pointer, off uintptr, v uint64) { *(*uint64)(unsafe.Add(base, off)) = v }
func get32(base unsafe.Pointer, off uintptr) uint32    { return *(*uint32)(unsafe.Add(base, off)) }
func get64(base unsafe.Pointer, off uintptr) uint64    { return *(*uint64)(unsafe.Add(base, off)) }
