//go:build !cgo

// Package cfix is C code that uses the arena C API, for the arena tests; it
// needs cgo, and without it Available is false and the tests skip.
package cfix

import (
	"unsafe"

	"github.com/cgoguard/cgoguard/arena"
)

// Available reports whether the C fixtures are built (they need cgo).
const Available = false

// Pattern is the byte at index j of block seq written by thread tag.
func Pattern(tag, seq, j int) byte { return byte(tag*31 + seq*7 + j) }

// AllocThreads needs cgo.
func AllocThreads(unsafe.Pointer, int, int, int, int, int) [][]arena.Ref { return nil }

// Alloc needs cgo.
func Alloc(unsafe.Pointer, int, int) int64 { return -1 }

// Resolve needs cgo.
func Resolve(unsafe.Pointer, arena.Ref) int64 { return -1 }

// MakeRef needs cgo.
func MakeRef(unsafe.Pointer, int64, int) (arena.Ref, int) { return arena.Ref{}, -1 }

// Used, Capacity and Generation need cgo.
func Used(unsafe.Pointer) int64        { return -1 }
func Capacity(unsafe.Pointer) int64    { return -1 }
func Generation(unsafe.Pointer) uint32 { return 0 }

// MallocFree needs cgo.
func MallocFree(int) {}
