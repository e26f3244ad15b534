package probe

import (
	"testing"
)

// TestCount probes a C function that a cgo program calls exactly N times
// on several threads: the count, the histogram's total, the errors and the
// threads must all be exact.
func TestCount(t *testing.T) {
	const calls, threads = 3000, 4
	tr := startTracee(t, "-mode", "count", "-calls", "3000", "-threads", "4")
	p := openProbe(t, tr.pid, WithFunctions("tr_work"))
	tr.run(t)
	s, err := p.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Functions) != 1 {
		t.Fatalf("functions = %+v, want one (tr_work)", s.Functions)
	}
	f := s.Functions[0]
	if f.Function != "tr_work" || f.Module != "" {
		t.Errorf("row = %q/%q, want tr_work with no module", f.Module, f.Function)
	}
	if f.Calls != calls {
		t.Errorf("calls = %d, want %d", f.Calls, calls)
	}
	if h := f.HistogramTotal(); h != calls {
		t.Errorf("histogram total = %d, want %d", h, calls)
	}
	// tr_work returns -1 for multiples of 7 among 0..N-1.
	if want := uint64((calls + 6) / 7); f.Errors != want {
		t.Errorf("errors = %d, want %d", f.Errors, want)
	}
	if len(f.Threads) != threads {
		t.Errorf("threads = %+v, want %d", f.Threads, threads)
	}
	var sum uint64
	for _, th := range f.Threads {
		sum += th.Calls
	}
	if sum != calls {
		t.Errorf("calls per thread sum to %d, want %d", sum, calls)
	}
	if f.Total <= 0 || f.Quantile(0.5) <= 0 {
		t.Errorf("total %v, p50 %v: want > 0", f.Total, f.Quantile(0.5))
	}
	t.Logf("tr_work: %d calls, %d errors, %d threads, mean %v, p50 <%v, p99 <%v", f.Calls, f.Errors, len(f.Threads), f.Mean(), f.Quantile(0.5), f.Quantile(0.99))
}
