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
// the machine's load at the same moment (the order rotates each
// iteration); it reports the median ns per call of each over the
// iterations (<variant>-ns/call) and, from the per-iteration figures, the
// median ratio guarded/raw (default options: counters) and the median
// nanoseconds the histogram adds over counters, timing every call (the
// default) and timing one call in four (WithHistogramSampling(4)). The log
// line after the result says whether the goals (guarded/raw <= 1.25,
// histogram <= +10 ns) were met.
func BenchmarkGuardVsRaw(b *testing.B) {
	const batch = 2000
	mods := map[string]*cgoguard.Module{}
	for _, v := range []struct {
		name string
		opts []cgoguard.Option
	}{
		{"off", []cgoguard.Option{cgoguard.WithMetrics(cgoguard.MetricsOff)}},
		{"counters", nil},
		{"histogram", []cgoguard.Option{cgoguard.WithMetrics(cgoguard.MetricsHistogram)}},
		{"histogram-sampled", []cgoguard.Option{cgoguard.WithMetrics(cgoguard.MetricsHistogram), cgoguard.WithHistogramSampling(4)}},
	} {
		m, err := cgoguard.New(b.Name()+"/"+v.name, v.opts...)
		if err != nil {
			b.Fatal(err)
		}
		defer m.Close()
		mods[v.name] = m
	}
	ctx := context.Background()
	var arg unsafe.Pointer
	samples := map[string][]float64{}
	var ratios, histAdded, sampledAdded []float64
	run := func(name string, fn func()) float64 {
		start := time.Now()
		for j := 0; j < batch; j++ {
			fn()
		}
		ns := float64(time.Since(start).Nanoseconds()) / batch
		samples[name] = append(samples[name], ns)
		return ns
	}
	order := []string{"raw", "off", "counters", "histogram", "histogram-sampled"}
	for i := 0; i < b.N; i++ {
		ns := map[string]float64{}
		for j := range order {
			name := order[(i+j)%len(order)]
			if name == "raw" {
				ns[name] = run(name, func() { cfixture.RawEmptyArg(arg) })
				continue
			}
			m := mods[name]
			ns[name] = run(name, func() { m.Call(ctx, cfixture.Empty, arg) })
		}
		ratios = append(ratios, ns["counters"]/ns["raw"])
		histAdded = append(histAdded, ns["histogram"]-ns["counters"])
		sampledAdded = append(sampledAdded, ns["histogram-sampled"]-ns["counters"])
	}
	for name, s := range samples {
		b.ReportMetric(median(s), name+"-ns/call")
	}
	r, h, e := median(ratios), median(histAdded), median(sampledAdded)
	b.ReportMetric(r, "guarded/raw")
	b.ReportMetric(h, "histogram-added-ns")
	b.ReportMetric(e, "histogram-sampled-added-ns")
	b.Logf("%d iterations: guarded/raw %.3f (goal <= 1.25: %s; 10th-90th percentile of iterations %.3f-%.3f); histogram timing every call +%.1f ns over counters (goal <= 10: %s), timing one call in 4 +%.1f ns (%s)",
		b.N, r, met(r <= 1.25), quantile(ratios, 0.1), quantile(ratios, 0.9), h, met(h <= 10), e, met(e <= 10))
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// quantile returns the q-quantile of s (nearest rank).
func quantile(s []float64, q float64) float64 {
	c := append([]float64(nil), s...)
	sort.Float64s(c)
	return c[int(q*float64(len(c)-1)+0.5)]
}

func median(s []float64) float64 {
	c := append([]float64(nil), s...)
	sort.Float64s(c)
	if len(c) == 0 {
		return 0
	}
	return c[len(c)/2]
}
