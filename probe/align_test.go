package probe

import (
	"encoding/hex"
	"encoding/json"
	"sort"
	"sync"
	"testing"
	"time"
)

// alignMedian bounds the median distance between the probes' interval of a
// call and the C function's own clock readings, on either side: the time
// from the kernel's timestamp in the uprobe to the function's first clock
// read (the return from the breakpoint trap), and the same at the return.
// Containment itself is exact: the interval must hold the C part.
const alignMedian = 5 * time.Microsecond

// TestAlignment checks the joint time line: the tracee runs a guarded call
// with tracing on and records Go's monotonic clock around Module.Call and
// CLOCK_MONOTONIC inside the C function (the call's C part). The probe's
// interval of the C function must contain the C part, the guarded-call
// interval seen at the trampoline must contain the function's interval, and
// the Go interval must contain both, all on one clock.
func TestAlignment(t *testing.T) {
	const calls = 40
	tr := startTracee(t, "-mode", "align", "-calls", "40", "-threads", "2")
	p := openProbe(t, tr.pid, WithFunctions("tr_timed"), WithTrace())
	var mu sync.Mutex
	var events []Event
	go func() {
		for {
			e, err := p.ReadEvent()
			if err != nil {
				return
			}
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
		}
	}()
	lines := tr.run(t)
	if len(lines) != calls {
		t.Fatalf("tracee printed %d records, want %d", len(lines), calls)
	}
	waitFor(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(events) >= 2*calls
	})
	mu.Lock()
	evs := append([]Event(nil), events...)
	mu.Unlock()

	var worstBefore, worstAfter time.Duration
	var befores, afters []time.Duration
	for _, l := range lines {
		var r struct {
			TID     int    `json:"tid"`
			GoStart int64  `json:"go_start"`
			GoEnd   int64  `json:"go_end"`
			CStart  int64  `json:"c_start"`
			CEnd    int64  `json:"c_end"`
			TraceID string `json:"trace_id"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("record %q: %v", l, err)
		}
		var call, guard *Event
		for i := range evs {
			e := &evs[i]
			if e.TID != r.TID || e.Start > time.Duration(r.CStart) || e.End < time.Duration(r.CEnd) {
				continue
			}
			switch e.Kind {
			case CallEvent:
				call = e
			case GuardedCallEvent:
				guard = e
			}
		}
		if call == nil {
			t.Errorf("no probe interval of tr_timed on thread %d contains the C part [%d, %d]", r.TID, r.CStart, r.CEnd)
			continue
		}
		before := time.Duration(r.CStart) - call.Start
		after := call.End - time.Duration(r.CEnd)
		worstBefore, worstAfter = max(worstBefore, before), max(worstAfter, after)
		befores = append(befores, before)
		afters = append(afters, after)
		if call.Function != "tr_timed" || call.Module != "align" {
			t.Errorf("call event names %q/%q, want align/tr_timed", call.Module, call.Function)
		}
		if call.Start < time.Duration(r.GoStart) || call.End > time.Duration(r.GoEnd) {
			t.Errorf("probe interval [%d, %d] is not inside Go's [%d, %d]", call.Start, call.End, r.GoStart, r.GoEnd)
		}
		if guard == nil {
			t.Errorf("no guarded-call interval on thread %d contains the C part", r.TID)
			continue
		}
		if guard.Start > call.Start || guard.End < call.End {
			t.Errorf("guarded call [%d, %d] does not contain the function's interval [%d, %d]", guard.Start, guard.End, call.Start, call.End)
		}
		if got := hex.EncodeToString(guard.TraceID[:]); got != r.TraceID || guard.Module != "align" || guard.Function != "tr_timed" {
			t.Errorf("guarded call: trace id %s module %q function %q; want %s, align, tr_timed", got, guard.Module, guard.Function, r.TraceID)
		}
	}
	t.Logf("probe interval beyond the C part: median %v before and %v after, at most %v before and %v after",
		median(befores), median(afters), worstBefore, worstAfter)
	if median(befores) > alignMedian || median(afters) > alignMedian {
		t.Errorf("the probe interval extends a median %v before and %v after the C part: more than %v", median(befores), median(afters), alignMedian)
	}
}

// TestMeasureClock measures the offset between bpf_ktime_get_ns and Go's
// monotonic clock: both are CLOCK_MONOTONIC, so zero must lie within the
// measured range.
func TestMeasureClock(t *testing.T) {
	c, err := MeasureClock(200)
	if err != nil {
		skipIfCannotProbe(t, err)
		t.Fatal(err)
	}
	t.Logf("offset %v ± %v (range [%v, %v]), %d samples, narrowest window %v", c.Offset, c.Uncertainty, c.Low, c.High, c.Samples, c.Window)
	if !c.Consistent {
		t.Fatalf("samples contradict each other: low %v > high %v", c.Low, c.High)
	}
	if c.Low > 0 || c.High < 0 {
		t.Errorf("offset range [%v, %v] excludes zero: the clocks differ", c.Low, c.High)
	}
	if c.Samples != 200 || c.Window <= 0 {
		t.Errorf("samples %d window %v", c.Samples, c.Window)
	}
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
