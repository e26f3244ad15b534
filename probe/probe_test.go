package probe

import (
	"testing"
	"time"
)

// TestCount probes a C function that a cgo program calls exactly N times
// on several threads: the count, the histogram's total, the errors and the
// threads must all be exact.
// It runs with each kind of link: uprobe_multi (Linux 6.6) and one
// perf-event link per probe.
func TestCount(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []Option
	}{
		{"default", nil},
		{"perf-links", []Option{withPerfLinks()}},
	} {
		t.Run(tc.name, func(t *testing.T) { testCount(t, tc.opts...) })
	}
}

func testCount(t *testing.T, opts ...Option) {
	const calls, threads = 3000, 4
	tr := startTracee(t, "-mode", "count", "-calls", "3000", "-threads", "4")
	p := openProbe(t, tr.pid, append(opts, WithFunctions("tr_work"))...)
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

// TestGuardedModule probes a function that runs inside guarded calls of
// module "work", one level below the trampoline: its calls carry the
// module's name, which the process publishes in its status file. The
// function the guarded calls run is found without being named.
func TestGuardedModule(t *testing.T) {
	const calls = 600
	tr := startTracee(t, "-mode", "guarded", "-calls", "600", "-threads", "3")
	p := openProbe(t, tr.pid, WithFunctions("tr_inner"), WithGuardedFunctions(true))
	if !p.Guarded() {
		t.Fatal("the tracee runs guarded calls, but the probe did not find the trampoline")
	}
	// The first guarded call makes tr_guarded known; calls before its
	// uprobe is attached are not counted, so start with one round, wait for
	// the discovery, then count a second round from a fresh process state.
	tr.run(t)
	waitFor(t, func() bool { return hasFunction(p, "tr_guarded") })
	s, err := p.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	row := find(s, "work", "tr_inner")
	if row == nil {
		t.Fatalf("no row work/tr_inner in %+v (warnings %v)", s.Functions, s.Warnings)
	}
	if row.Calls != calls || row.HistogramTotal() != calls || len(row.Threads) != 3 {
		t.Errorf("work/tr_inner: %d calls, histogram %d, %d threads; want %d, %d, 3", row.Calls, row.HistogramTotal(), len(row.Threads), calls, calls)
	}
	if find(s, "", "tr_inner") != nil {
		t.Errorf("some tr_inner calls were not attributed to module work: %+v", s.Functions)
	}
}

func hasFunction(p *Probe, name string) bool {
	for _, f := range p.Functions() {
		if f.Name == name {
			return true
		}
	}
	return false
}

func find(s *Snapshot, module, fn string) *FunctionStats {
	for i := range s.Functions {
		if s.Functions[i].Module == module && s.Functions[i].Function == fn {
			return &s.Functions[i]
		}
	}
	return nil
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWithoutGuardProbes leaves the trampoline alone: the same calls are
// counted, with no module.
func TestWithoutGuardProbes(t *testing.T) {
	tr := startTracee(t, "-mode", "guarded", "-calls", "90", "-threads", "3")
	p := openProbe(t, tr.pid, WithFunctions("tr_inner"), WithoutGuardProbes())
	if p.Guarded() {
		t.Fatal("the trampoline was probed")
	}
	tr.run(t)
	s, err := p.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if row := find(s, "", "tr_inner"); row == nil || row.Calls != 90 || len(s.Functions) != 1 {
		t.Errorf("rows %+v, want one tr_inner row with no module and 90 calls", s.Functions)
	}
}
