package cmem_test

import (
	"testing"

	"github.com/cgoguard/cgoguard/cmem"
	"github.com/cgoguard/cgoguard/cmem/internal/cbase"
)

// BenchmarkCString compares, in one run, a tracked CString+Free (tracking
// on and off) with cgo's C.CString+C.free.
func BenchmarkCString(b *testing.B) {
	needC(b)
	const s = "a short C string of 32 bytes...."
	b.Run("cgo-C.CString+C.free", func(b *testing.B) {
		for b.Loop() {
			cbase.CStringFree(s)
		}
	})
	b.Run("cmem.CString+Free-tracked", func(b *testing.B) {
		for b.Loop() {
			p, _ := cmem.CString(s)
			cmem.Free(p)
		}
	})
	b.Run("cmem.CString+Free-tracking-off", func(b *testing.B) {
		was := cmem.SetTracking(false)
		defer cmem.SetTracking(was)
		for b.Loop() {
			p, _ := cmem.CString(s)
			cmem.Free(p)
		}
	})
}
