//go:build cgo

package observe_test

import (
	"context"
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
