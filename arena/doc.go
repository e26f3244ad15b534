// Package arena is one memory region that Go code, C code and other
// processes share: a bump allocator outside the Go heap.
//
// An Arena is a mapping whose first page is a header (id, size, and an
// atomic word holding the generation and the allocation cursor); the rest
// is handed out by bumping the cursor: with one atomic add for blocks of up
// to 1 KiB aligned to at most 8 bytes, with a compare-and-swap otherwise
// and from C. Alloc does no cgo call and no Go heap allocation. Go allocates
// with Alloc, C code with cg_arena_alloc on the pointer CPtr returns (see
// include/cgoguard_arena.h), and a process that Opens a shared arena with
// its own Alloc: all of them move the same cursor, so blocks never overlap.
// No block is freed on its own; Reset frees everything at once and bumps
// the generation. A Local serves one goroutine from a chunk it reserved,
// for hot loops that allocate many small blocks.
//
// Another process maps a shared arena by name (WithShared creates a file in
// /dev/shm, Open maps it) or by descriptor (WithMemfd creates a memory file
// in no directory, so nothing is left behind when every process is gone;
// File hands a descriptor down, for example in exec.Cmd.ExtraFiles, and
// OpenFile maps it). WithAddress places a mapping at a fixed address, or
// fails: processes that map the arena at the same address may exchange
// plain pointers into it.
//
// A block is named by a Ref (arena id, generation, offset, length) rather
// than by an address, so it can be stored in C memory, encoded (binary or
// text) and sent to another process. Resolve turns it back into bytes and
// refuses a Ref from another arena, from before a Reset, or outside the
// allocated part, with a *RefError. The Go garbage collector neither scans
// nor moves arena memory, so it may hold anything but Go pointers; see
// docs/memory.md.
//
// Example:
//
//	a, err := arena.New(1<<20, arena.WithShared("frames"), arena.WithName("frames"))
//	if err != nil {
//		return err
//	}
//	defer a.Close()
//
//	ref, buf, err := a.Alloc(len(frame), 64)
//	if err != nil {
//		return err // arena.ErrExhausted when full
//	}
//	copy(buf, frame)
//	C.encode((*C.cg_arena)(a.CPtr()), C.cg_ref{ /* ref's parts */ })
//	text, _ := ref.MarshalText() // send it to the process that did arena.Open("frames")
//
//	// In the other process:
//	b, _ := arena.Open("frames")
//	var r arena.Ref
//	_ = r.UnmarshalText(text)
//	data, err := b.Resolve(r)
//
// Concurrency: Alloc, Resolve, Reset, Stats, CPtr and the C functions are
// safe to call at the same time from any goroutine, C thread or process
// sharing the arena; a Local belongs to one goroutine at a time. Close is the exception: it MUST NOT run while the
// arena is still in use; every call after Close returns ErrClosed (or does
// nothing) without touching the unmapped memory. Reset invalidates every
// block handed out before it, so the program decides when no block of the
// old generation is in use any more.
package arena
