//go:build cgo

package cgoguard_test

import (
	"context"
	"testing"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/internal/cfixture"
)

func BenchmarkRawCgoCall(b *testing.B) {
	for i := 0; i < b.N; i++ {
		cfixture.RawEmpty()
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
