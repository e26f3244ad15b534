//go:build cgo

package chaos_test

import (
	"context"
	"sort"
	"testing"
	"time"
	"unsafe"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/chaos"
	"github.com/cgoguard/cgoguard/internal/cfixture"
)

// BenchmarkCallChaosLinked is the root package's BenchmarkCall in a binary
// that links package chaos (its hook installed, no failpoint set). Run it
// interleaved with the root package's BenchmarkCall (a binary without
// package chaos) to compare: see BENCHMARKS.md.
func BenchmarkCallChaosLinked(b *testing.B) {
	m, err := cgoguard.New(b.Name())
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Call(ctx, cfixture.Empty, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFailpointsOff interleaves, in every iteration, batches of
//
//	raw       a raw cgo call (the floor)
//	linked    a guarded call with package chaos linked and no failpoint set
//	unhooked  the same call with the hook removed, which is the state of
//	          a program that does not link package chaos
//	other     the same call while a failpoint is set on another module
//	armed     a call of a module whose failpoint never fires ("off"):
//	          the slow path and the lookup, for comparison
//
// and reports the median ns per call of each and the median
// per-iteration ratio linked/unhooked.
func BenchmarkFailpointsOff(b *testing.B) {
	const batch = 2000
	mk := func(name string) *cgoguard.Module {
		m, err := cgoguard.New(b.Name() + "/" + name)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { m.Close() })
		return m
	}
	linked, other, armed := mk("linked"), mk("other"), mk("armed")
	ctx := context.Background()
	var arg unsafe.Pointer
	samples := map[string][]float64{}
	var ratios []float64
	run := func(name string, fn func()) float64 {
		start := time.Now()
		for j := 0; j < batch; j++ {
			fn()
		}
		ns := float64(time.Since(start).Nanoseconds()) / batch
		samples[name] = append(samples[name], ns)
		return ns
	}
	call := func(m *cgoguard.Module) func() { return func() { m.Call(ctx, cfixture.Empty, arg) } }
	hook := chaos.Hook()
	defer chaos.Clear()
	for i := 0; i < b.N; i++ {
		run("raw", func() { cfixture.RawEmptyArg(arg) })
		l := run("linked", call(linked))
		cgoguard.InstallChaosHook(nil)
		u := run("unhooked", call(linked))
		cgoguard.InstallChaosHook(hook)
		ratios = append(ratios, l/u)
		if err := chaos.Set(`"` + other.Name() + `-elsewhere"=segv;"` + armed.Name() + `"=off`); err != nil {
			b.Fatal(err)
		}
		run("other", call(other))
		run("armed", call(armed))
		chaos.Clear()
	}
	for name, s := range samples {
		b.ReportMetric(median(s), name+"-ns/call")
	}
	b.ReportMetric(median(ratios), "linked/unhooked")
}

func median(s []float64) float64 {
	c := append([]float64(nil), s...)
	sort.Float64s(c)
	if len(c) == 0 {
		return 0
	}
	return c[len(c)/2]
}
