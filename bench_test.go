//go:build cgo

package cgoguard_test

import (
	"context"
	"sort"
	"testing"
	"time"
	"unsafe"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/internal/cfixture"
)

func BenchmarkRawCgoCall(b *testing.B) {
	for i := 0; i < b.N; i++ {
		cfixture.RawEmpty()
	}
}

// BenchmarkRawCgoCallArg is the same raw call passing its void* argument
// from a variable, as code calling C functions normally does (cgo checks
// the pointer).
func BenchmarkRawCgoCallArg(b *testing.B) {
	var arg unsafe.Pointer
	for i := 0; i < b.N; i++ {
		cfixture.RawEmptyArg(arg)
	}
}

func benchCall(b *testing.B, opts ...cgoguard.Option) {
	m, err := cgoguard.New(b.Name(), opts...)
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

func BenchmarkCall(b *testing.B)           { benchCall(b) }
func BenchmarkCallMetricsOff(b *testing.B) { benchCall(b, cgoguard.WithMetrics(cgoguard.MetricsOff)) }
func BenchmarkCallHistogram(b *testing.B) {
	benchCall(b, cgoguard.WithMetrics(cgoguard.MetricsHistogram))
}

// BenchmarkCaughtCrash measures one caught SIGSEGV end to end: the fault,
// the handler's unwinding, the jump back, the CrashError with symbolised
// frames (cached per PC) and the Go stack.
func BenchmarkCaughtCrash(b *testing.B) {
	m, err := cgoguard.New(b.Name(), cgoguard.WithCrashPolicy(cgoguard.Restart))
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Call(ctx, cfixture.Segv, nil); err == nil {
			b.Fatal("no crash")
		}
	}
}

// BenchmarkCallWithTimeout is a call with a deadline: it runs on a worker
// goroutine so the caller can return at the deadline.
func BenchmarkCallWithTimeout(b *testing.B) {
	benchCall(b, cgoguard.WithTimeout(time.Second))
}

func BenchmarkCallParallel(b *testing.B) {
	m, err := cgoguard.New(b.Name())
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			m.Call(ctx, cfixture.Empty, nil)
		}
	})
}

func BenchmarkRawCgoCallParallel(b *testing.B) {
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			cfixture.RawEmpty()
		}
	})
}

// BenchmarkGuardVsRaw interleaves, in every iteration, a batch of raw cgo
// calls and batches of guarded calls at each metrics level, so all share
// the machine's load at the same moment; it reports the median ns per call
// of each over the iterations, and the median per-iteration ratio.
func BenchmarkGuardVsRaw(b *testing.B) {
	const batch = 2000
	mods := map[string]*cgoguard.Module{}
	for _, v := range []struct {
		name string
		lvl  cgoguard.Metrics
	}{{"off", cgoguard.MetricsOff}, {"counters", cgoguard.MetricsCounters}, {"histogram", cgoguard.MetricsHistogram}} {
		m, err := cgoguard.New(b.Name()+"/"+v.name, cgoguard.WithMetrics(v.lvl))
		if err != nil {
			b.Fatal(err)
		}
		defer m.Close()
		mods[v.name] = m
	}
	ctx := context.Background()
	var arg unsafe.Pointer
	samples := map[string][]float64{}
	ratios := []float64{}
	run := func(name string, fn func()) float64 {
		start := time.Now()
		for j := 0; j < batch; j++ {
			fn()
		}
		ns := float64(time.Since(start).Nanoseconds()) / batch
		samples[name] = append(samples[name], ns)
		return ns
	}
	for i := 0; i < b.N; i++ {
		raw := run("raw", func() { cfixture.RawEmptyArg(arg) })
		for _, name := range []string{"off", "counters", "histogram"} {
			m := mods[name]
			g := run(name, func() { m.Call(ctx, cfixture.Empty, arg) })
			if name == "counters" {
				ratios = append(ratios, g/raw)
			}
		}
	}
	for name, s := range samples {
		b.ReportMetric(median(s), name+"-ns/call")
	}
	b.ReportMetric(median(ratios), "guarded/raw")
}

func median(s []float64) float64 {
	c := append([]float64(nil), s...)
	sort.Float64s(c)
	if len(c) == 0 {
		return 0
	}
	return c[len(c)/2]
}
