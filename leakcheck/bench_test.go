package leakcheck_test

import (
	"testing"

	"github.com/cgoguard/cgoguard/leakcheck"
)

// BenchmarkMeasure reports what Measure adds per iteration of the function
// it watches (the function here does nothing), with the default options.
func BenchmarkMeasure(b *testing.B) {
	const iters = 1000
	for b.Loop() {
		r, err := leakcheck.Measure(func() {}, leakcheck.Iterations(iters))
		if err != nil || r.Leaked() {
			b.Fatal(err, r)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*(iters+100)), "ns/iteration")
}
