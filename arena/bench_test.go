package arena_test

import (
	"errors"
	"testing"

	"github.com/cgoguard/cgoguard/arena"
	"github.com/cgoguard/cgoguard/arena/internal/cfix"
)

var sink []byte

// BenchmarkMemory compares, in one run, a 64-byte Alloc from Go with
// C.malloc+C.free through cgo and with make([]byte, 64).
func BenchmarkMemory(b *testing.B) {
	b.Run("arena.Alloc-64B", func(b *testing.B) {
		a := newArena(b, 64<<20)
		b.ReportAllocs()
		for b.Loop() {
			_, buf, err := a.Alloc(64, 8)
			if err != nil {
				if !errors.Is(err, arena.ErrExhausted) {
					b.Fatal(err)
				}
				a.Reset()
				continue
			}
			sink = buf
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
		for b.Loop() {
			_, buf, err := l.Alloc(64, 8)
			if err != nil {
				if !errors.Is(err, arena.ErrExhausted) {
					b.Fatal(err)
				}
				a.Reset()
				continue
			}
			sink = buf
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
		for b.Loop() {
			cfix.MallocFree(64)
		}
	})
	b.Run("make-64B", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sink = make([]byte, 64)
		}
	})
}
