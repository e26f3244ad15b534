//go:build cgo

// Package cfix is C code that uses the arena C API (include/cgoguard_arena.h),
// for the arena package's tests: C threads that allocate concurrently with
// Go, and thin wrappers over cg_arena_resolve and cg_arena_ref.
package cfix

/*
#cgo CFLAGS: -I${SRCDIR}/../../../include -Wall -Wextra -Werror
#cgo LDFLAGS: -lpthread
#include <stdlib.h>
#include "cfix.h"
*/
import "C"

import (
	"unsafe"

	"github.com/cgoguard/cgoguard/arena"
)

// Available reports whether the C fixtures are built (they need cgo).
const Available = true

// Pattern is the byte at index j of block seq written by thread tag; Go
// writers use the same pattern so every block can be checked.
func Pattern(tag, seq, j int) byte { return byte(tag*31 + seq*7 + j) }

func cref(r arena.Ref) C.cg_ref {
	return C.cg_ref{arena: C.uint32_t(r.ArenaID()), gen: C.uint32_t(r.Generation()), off: C.uint64_t(r.Offset()), len: C.uint64_t(r.Len())}
}

func goref(r C.cg_ref) arena.Ref {
	return arena.NewRef(uint32(r.arena), uint32(r.gen), uint64(r.off), uint64(r.len))
}

// AllocThreads starts threads C pthreads that each allocate count blocks of
// size bytes with cg_arena_alloc_ref and fill them with Pattern(tag0+t, i, j),
// waits for them, and returns each thread's refs.
func AllocThreads(a unsafe.Pointer, threads, count, size, align, tag0 int) [][]arena.Ref {
	refs := make([]C.cg_ref, threads*count)
	got := make([]C.int, threads)
	started := int(C.cfix_alloc_threads(a, C.int(threads), C.int(count), C.size_t(size), C.size_t(align), C.int(tag0), unsafe.SliceData(refs), unsafe.SliceData(got)))
	out := make([][]arena.Ref, started)
	for t := range out {
		for i := 0; i < int(got[t]); i++ {
			out[t] = append(out[t], goref(refs[t*count+i]))
		}
	}
	return out
}

// Alloc calls cg_arena_alloc and returns the block's offset, or -1 for NULL.
func Alloc(a unsafe.Pointer, n, align int) int64 {
	return int64(C.cfix_alloc(a, C.size_t(n), C.size_t(align)))
}

// Resolve calls cg_arena_resolve and returns the offset, or -1 for NULL.
func Resolve(a unsafe.Pointer, r arena.Ref) int64 {
	return int64(C.cfix_resolve(a, cref(r)))
}

// MakeRef calls cg_arena_ref for the n bytes at offset off (off < 0 passes
// NULL) and returns the ref and the return code.
func MakeRef(a unsafe.Pointer, off int64, n int) (arena.Ref, int) {
	var out C.cg_ref
	rc := int(C.cfix_ref(a, C.longlong(off), C.size_t(n), &out))
	return goref(out), rc
}

// Used, Capacity and Generation call cg_arena_used, cg_arena_capacity and
// cg_arena_generation.
func Used(a unsafe.Pointer) int64        { return int64(C.cfix_used(a)) }
func Capacity(a unsafe.Pointer) int64    { return int64(C.cfix_capacity(a)) }
func Generation(a unsafe.Pointer) uint32 { return uint32(C.cfix_generation(a)) }

// MallocFree calls C.malloc(n) and C.free through cgo, the baseline the
// arena benchmarks compare against.
func MallocFree(n int) {
	p := C.malloc(C.size_t(n))
	C.free(p)
}
