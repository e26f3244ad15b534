package arena_test

import (
	"errors"
	"testing"

	"github.com/cgoguard/cgoguard/arena"
	"github.com/cgoguard/cgoguard/arena/internal/cfix"
)

var (
	sink    []byte
	sinkRef arena.Ref
)

// BenchmarkMemory compares, in one run, a 64-byte Alloc from Go with
// C.malloc+C.free through cgo and with make([]byte, 64).
//
// The loops count to b.N rather than use b.Loop: inside a b.Loop body the
// compiler keeps every result of every call alive by storing it to the
// stack, which for Alloc's nine result words costs about as much as the
// allocation itself and is not what a caller pays. Every result a caller
// would use (the Ref, the slice, the error) is used here, so nothing is
// optimized away. The "-bloop" variant shows the b.Loop figure.
func BenchmarkMemory(b *testing.B) {
	b.Run("arena.Alloc-64B", func(b *testing.B) {
		a := newArena(b, 64<<20)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			ref, buf, err := a.Alloc(64, 8)
			if err != nil {
				if !errors.Is(err, arena.ErrExhausted) {
					b.Fatal(err)
				}
				a.Reset()
				continue
			}
			sink, sinkRef = buf, ref
		}
	})
	b.Run("arena.Alloc-64B-bloop", func(b *testing.B) {
		a := newArena(b, 64<<20)
		b.ReportAllocs()
		for b.Loop() {
			ref, buf, err := a.Alloc(64, 8)
			if err != nil {
				if !errors.Is(err, arena.ErrExhausted) {
					b.Fatal(err)
				}
				a.Reset()
				continue
			}
			sink, sinkRef = buf, ref
		}
	})
	b.Run("arena.Alloc-64B-parallel", func(b *testing.B) {
		a := newArena(b, 64<<20)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, _, err := a.Alloc(64, 8); err != nil {
					a.Reset()
				}
			}
		})
	})
	b.Run("arena.Local.Alloc-64B", func(b *testing.B) {
		a := newArena(b, 64<<20)
		l, err := a.Local(64 << 10)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			ref, buf, err := l.Alloc(64, 8)
			if err != nil {
				if !errors.Is(err, arena.ErrExhausted) {
					b.Fatal(err)
				}
				a.Reset()
				continue
			}
			sink, sinkRef = buf, ref
		}
	})
	b.Run("arena.Local.Alloc-64B-parallel", func(b *testing.B) {
		a := newArena(b, 64<<20)
		b.RunParallel(func(pb *testing.PB) {
			l, err := a.Local(64 << 10)
			if err != nil {
				b.Error(err)
				return
			}
			for pb.Next() {
				if _, _, err := l.Alloc(64, 8); err != nil {
					a.Reset()
				}
			}
		})
	})
	b.Run("cgo-C.malloc+C.free-64B", func(b *testing.B) {
		if !cfix.Available {
			b.Skip("needs cgo")
		}
		for i := 0; i < b.N; i++ {
			cfix.MallocFree(64)
		}
	})
	b.Run("make-64B", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			sink = make([]byte, 64)
		}
	})
}
