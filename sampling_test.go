//go:build cgo

package cgoguard_test

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/internal/cfixture"
)

// TestHistogramSampling: MetricsHistogram times one call in n on average
// (every call with n = 1), while the counts by outcome stay exact.
func TestHistogramSampling(t *testing.T) {
	const calls = 4000
	tests := []struct {
		name   string
		opts   []cgoguard.Option
		lo, hi uint64 // bounds on the timed calls
	}{
		{"every call", []cgoguard.Option{cgoguard.WithHistogramSampling(1)}, calls, calls},
		{"default", nil, calls, calls},
		// Intervals uniform in [1, 7]: 1000 expected, standard deviation
		// about 16.
		{"one in 4", []cgoguard.Option{cgoguard.WithHistogramSampling(4)}, 850, 1150},
		{"one in 64", []cgoguard.Option{cgoguard.WithHistogramSampling(64)}, 40, 90},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runtime.LockOSThread() // one thread: one sampling countdown
			defer runtime.UnlockOSThread()
			m := newModule(t, append([]cgoguard.Option{cgoguard.WithMetrics(cgoguard.MetricsHistogram)}, tt.opts...)...)
			for i := 0; i < calls; i++ {
				if _, err := m.Call(bg, cfixture.Empty, nil); err != nil {
					t.Fatal(err)
				}
			}
			st := m.Stats()
			if st.OK != calls {
				t.Errorf("OK = %d, want %d: outcome counts are exact whatever the sampling", st.OK, calls)
			}
			h := st.Durations
			if h.Count < tt.lo || h.Count > tt.hi {
				t.Errorf("timed %d calls, want %d to %d", h.Count, tt.lo, tt.hi)
			}
			if n := len(h.Buckets); n == 0 || h.Buckets[n-1].Count != h.Count {
				t.Errorf("buckets %v do not add up to the count %d", h.Buckets, h.Count)
			}
		})
	}
}

// TestHistogramSamplingFair: calls that alternate between a fast and a slow
// kind are both timed, about equally, although one in four is timed: the
// random intervals do not lock onto the pattern.
func TestHistogramSamplingFair(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	m := newModule(t, cgoguard.WithMetrics(cgoguard.MetricsHistogram), cgoguard.WithHistogramSampling(4))
	cfixture.SetCallback(func(int) int {
		for start := time.Now(); time.Since(start) < 20*time.Microsecond; {
		}
		return 0
	})
	arg := cfixture.Int(1)
	defer cfixture.Free(arg)
	const pairs = 1000
	for i := 0; i < pairs; i++ {
		if _, err := m.Call(bg, cfixture.Empty, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Call(bg, cfixture.Callback, arg); err != nil {
			t.Fatal(err)
		}
	}
	h := m.Stats().Durations
	var fast uint64 // timed calls under 5 µs
	for _, b := range h.Buckets {
		if b.UpperBound <= 5e-6 {
			fast = b.Count
		}
	}
	share := float64(fast) / float64(h.Count)
	if h.Count < 350 || share < 0.35 || share > 0.65 {
		t.Errorf("timed %d calls, %.0f%% of them fast; want about 500, about half fast", h.Count, 100*share)
	}
}

func TestWithHistogramSamplingErrors(t *testing.T) {
	for _, n := range []int{0, -4, 3, 12, cgoguard.MaxHistogramSampling * 2} {
		_, err := cgoguard.New("sampling-bad", cgoguard.WithHistogramSampling(n))
		if err == nil || !strings.Contains(err.Error(), "WithHistogramSampling") || errors.Is(err, cgoguard.ErrClosed) {
			t.Errorf("WithHistogramSampling(%d): %v, want an error naming the option", n, err)
		}
	}
}
