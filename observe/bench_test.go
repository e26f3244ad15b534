//go:build cgo

package observe_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/internal/cfixture"
	"github.com/cgoguard/cgoguard/observe"
)

// BenchmarkObserveRawCgo is the baseline: a raw cgo call to an empty C
// function.
func BenchmarkObserveRawCgo(b *testing.B) {
	for b.Loop() {
		cfixture.RawEmpty()
	}
}

func benchCalls(b *testing.B, wrap func(call func()), opts ...cgoguard.Option) {
	m, err := cgoguard.New(b.Name(), opts...)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	call := func() {
		if _, err := m.Call(ctx, cfixture.Empty, nil); err != nil {
			b.Fatal(err)
		}
	}
	if wrap == nil {
		for b.Loop() {
			call()
		}
		return
	}
	for b.Loop() {
		wrap(call)
	}
}

// BenchmarkObserveMetrics compares the metrics levels of the call path with
// timing every call the plain way (time.Now and time.Since around Call),
// alone and feeding client_golang's histogram and counter.
func BenchmarkObserveMetrics(b *testing.B) {
	hist := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "d", Buckets: prometheus.ExponentialBuckets(1e-8, 4, 14)})
	ok := prometheus.NewCounter(prometheus.CounterOpts{Name: "c"})
	var sink time.Duration
	b.Run("off", func(b *testing.B) { benchCalls(b, nil, cgoguard.WithMetrics(cgoguard.MetricsOff)) })
	b.Run("counters", func(b *testing.B) { benchCalls(b, nil, cgoguard.WithMetrics(cgoguard.MetricsCounters)) })
	b.Run("histogram", func(b *testing.B) { benchCalls(b, nil, cgoguard.WithMetrics(cgoguard.MetricsHistogram)) })
	b.Run("timeNow", func(b *testing.B) {
		benchCalls(b, func(call func()) {
			start := time.Now()
			call()
			sink += time.Since(start)
		}, cgoguard.WithMetrics(cgoguard.MetricsOff))
	})
	b.Run("timeNowPrometheus", func(b *testing.B) {
		benchCalls(b, func(call func()) {
			start := time.Now()
			call()
			hist.Observe(time.Since(start).Seconds())
			ok.Inc()
		}, cgoguard.WithMetrics(cgoguard.MetricsOff))
	})
	_ = sink
}

// BenchmarkObserveTracing compares a module without a tracer with Tracing
// over a no-op provider, an SDK provider that samples nothing, and one that
// records every span (with no exporter).
func BenchmarkObserveTracing(b *testing.B) {
	never := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	always := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	defer never.Shutdown(context.Background())
	defer always.Shutdown(context.Background())
	b.Run("off", func(b *testing.B) { benchCalls(b, nil) })
	b.Run("noop", func(b *testing.B) { benchCalls(b, nil, observe.Tracing(noop.NewTracerProvider())) })
	b.Run("sampledOut", func(b *testing.B) { benchCalls(b, nil, observe.Tracing(never)) })
	b.Run("recording", func(b *testing.B) { benchCalls(b, nil, observe.Tracing(always)) })
}

// BenchmarkObserveScrape measures one Gather of all metrics with 10
// modules open.
func BenchmarkObserveScrape(b *testing.B) {
	for i := 0; i < 10; i++ {
		m, err := cgoguard.New(b.Name()+string(rune('a'+i)), cgoguard.WithMetrics(cgoguard.MetricsHistogram))
		if err != nil {
			b.Fatal(err)
		}
		defer m.Close()
		m.Call(context.Background(), cfixture.Empty, nil)
	}
	reg := prometheus.NewRegistry()
	if err := observe.Register(reg); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkObserveInterleaved runs the metrics levels, the time.Now way and
// the tracing variants (on modules with the default counters) side by side: each iteration times one batch of calls of every variant in
// turn, so that the load of a shared machine falls on all of them alike.
// It reports each variant's median ns per call over the batches
// (<variant>-ns/call) and, as ns/op, the time of one round of all
// variants.
func BenchmarkObserveInterleaved(b *testing.B) {
	const batch = 200
	ctx := context.Background()
	never := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	always := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	defer never.Shutdown(ctx)
	defer always.Shutdown(ctx)
	mk := func(name string, lvl cgoguard.Metrics, opts ...cgoguard.Option) *cgoguard.Module {
		m, err := cgoguard.New(b.Name()+"/"+name, append(opts, cgoguard.WithMetrics(lvl))...)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { m.Close() })
		return m
	}
	off, cnt, hist := mk("off", cgoguard.MetricsOff), mk("counters", cgoguard.MetricsCounters), mk("histogram", cgoguard.MetricsHistogram)
	trNoop := mk("tracingNoop", cgoguard.MetricsCounters, observe.Tracing(noop.NewTracerProvider()))
	trNever := mk("tracingSampledOut", cgoguard.MetricsCounters, observe.Tracing(never))
	trAlways := mk("tracingRecording", cgoguard.MetricsCounters, observe.Tracing(always))
	var sink time.Duration
	variants := []struct {
		name string
		run  func()
	}{
		{"raw", func() { cfixture.RawEmpty() }},
		{"off", func() { off.Call(ctx, cfixture.Empty, nil) }},
		{"counters", func() { cnt.Call(ctx, cfixture.Empty, nil) }},
		{"histogram", func() { hist.Call(ctx, cfixture.Empty, nil) }},
		{"timeNow", func() {
			start := time.Now()
			off.Call(ctx, cfixture.Empty, nil)
			sink += time.Since(start)
		}},
		{"tracingNoop", func() { trNoop.Call(ctx, cfixture.Empty, nil) }},
		{"tracingSampledOut", func() { trNever.Call(ctx, cfixture.Empty, nil) }},
		{"tracingRecording", func() { trAlways.Call(ctx, cfixture.Empty, nil) }},
	}
	samples := make([][]float64, len(variants))
	for b.Loop() {
		for i, v := range variants {
			start := time.Now()
			for j := 0; j < batch; j++ {
				v.run()
			}
			samples[i] = append(samples[i], float64(time.Since(start).Nanoseconds())/batch)
		}
	}
	_ = sink
	for i, v := range variants {
		s := samples[i]
		sort.Float64s(s)
		b.ReportMetric(s[len(s)/2], v.name+"-ns/call")
	}
}
