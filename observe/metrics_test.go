//go:build cgo

package observe_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/arena"
	"github.com/cgoguard/cgoguard/bridge"
	"github.com/cgoguard/cgoguard/cmem"
	"github.com/cgoguard/cgoguard/internal/cfixture"
	"github.com/cgoguard/cgoguard/observe"
)

// scrape gathers reg and returns every sample as "name{l1="v1",...}" ->
// value; histograms give name_count, name_sum and name_bucket{le=...}.
func scrape(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := labelString(m.GetLabel(), "")
			switch {
			case m.Counter != nil:
				out[mf.GetName()+labels] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				out[mf.GetName()+labels] = m.GetGauge().GetValue()
			case m.Histogram != nil:
				h := m.GetHistogram()
				out[mf.GetName()+"_count"+labels] = float64(h.GetSampleCount())
				out[mf.GetName()+"_sum"+labels] = h.GetSampleSum()
				for _, b := range h.GetBucket() {
					out[mf.GetName()+"_bucket"+labelString(m.GetLabel(), fmt.Sprint(b.GetUpperBound()))] = float64(b.GetCumulativeCount())
				}
			}
		}
	}
	return out
}

func labelString(ls []*dto.LabelPair, le string) string {
	var parts []string
	for _, l := range ls {
		parts = append(parts, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	if le != "" {
		parts = append(parts, fmt.Sprintf("le=%q", le))
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		return ""
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func newRegistry(t *testing.T) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := observe.Register(reg); err != nil {
		t.Fatalf("Register: %v", err)
	}
	return reg
}

func TestRegisterErrors(t *testing.T) {
	if err := observe.Register(nil); !errors.Is(err, observe.ErrNilRegisterer) {
		t.Errorf("Register(nil) = %v, want ErrNilRegisterer", err)
	}
	reg := prometheus.NewRegistry()
	if err := observe.Register(reg); err != nil {
		t.Fatalf("first Register: %v", err)
	}
	var are prometheus.AlreadyRegisteredError
	if err := observe.Register(reg); !errors.As(err, &are) {
		t.Errorf("second Register = %v, want AlreadyRegisteredError", err)
	}
}

func TestMetricsAfterCalls(t *testing.T) {
	reg := newRegistry(t)
	m := newModule(t, "")
	tm := newModule(t, "_timeout", cgoguard.WithTimeout(100*time.Millisecond))
	one := cInt(t, 1)
	enoent := cInt(t, 2)

	callN(t, m, 3, cfixture.Ret, one)                    // 3 ok
	callN(t, m, 2, cfixture.Errno, enoent)               // 2 error
	callN(t, m, 1, cfixture.Segv, cfixture.BadAddress()) // 1 crash, quarantine
	callN(t, m, 4, cfixture.Empty, nil)                  // 4 rejected
	callN(t, tm, 2, cfixture.Ret, one)                   // 2 ok
	wait := timeoutCall(t, tm, 400)                      // 1 timeout, still running in C

	got := scrape(t, reg)
	mod := func(metric, name, extra string) string {
		if extra != "" {
			return fmt.Sprintf("%s{module=%q,%s}", metric, name, extra)
		}
		return fmt.Sprintf("%s{module=%q}", metric, name)
	}
	tests := []struct {
		key  string
		want float64
	}{
		{mod("cgoguard_calls_total", m.Name(), `outcome="ok"`), 3},
		{mod("cgoguard_calls_total", m.Name(), `outcome="error"`), 2},
		{mod("cgoguard_calls_total", m.Name(), `outcome="crash"`), 1},
		{mod("cgoguard_calls_total", m.Name(), `outcome="timeout"`), 0},
		{mod("cgoguard_calls_total", m.Name(), `outcome="rejected"`), 4},
		{mod("cgoguard_crashes_total", m.Name(), `signal="SIGSEGV"`), 1},
		{mod("cgoguard_module_state", m.Name(), `state="quarantined"`), 1},
		{mod("cgoguard_module_state", m.Name(), `state="closed"`), 0},
		{mod("cgoguard_module_state", m.Name(), `state="open"`), 0},
		{mod("cgoguard_module_state", m.Name(), `state="half_open"`), 0},
		{mod("cgoguard_abandoned_calls", m.Name(), ""), 0},
		{mod("cgoguard_inflight_calls", m.Name(), ""), 0},
		{mod("cgoguard_calls_total", tm.Name(), `outcome="ok"`), 2},
		{mod("cgoguard_calls_total", tm.Name(), `outcome="timeout"`), 1},
		{mod("cgoguard_calls_total", tm.Name(), `outcome="crash"`), 0},
		{mod("cgoguard_module_state", tm.Name(), `state="closed"`), 1},
		{mod("cgoguard_abandoned_calls", tm.Name(), ""), 1},
		{mod("cgoguard_inflight_calls", tm.Name(), ""), 1},
	}
	for _, tt := range tests {
		v, ok := got[tt.key]
		if !ok {
			t.Errorf("%s: missing", tt.key)
			continue
		}
		if v != tt.want {
			t.Errorf("%s = %v, want %v", tt.key, v, tt.want)
		}
	}
	// No duration histogram without MetricsHistogram.
	if _, ok := got[mod("cgoguard_call_duration_seconds_count", m.Name(), "")]; ok {
		t.Errorf("histogram exported for a module without MetricsHistogram")
	}
	wait()
	got = scrape(t, reg)
	for key, want := range map[string]float64{
		mod("cgoguard_abandoned_calls", tm.Name(), ""):              0,
		mod("cgoguard_inflight_calls", tm.Name(), ""):               0,
		mod("cgoguard_calls_total", tm.Name(), `outcome="timeout"`): 1,
		mod("cgoguard_calls_total", tm.Name(), `outcome="ok"`):      2,
	} {
		if got[key] != want {
			t.Errorf("after the abandoned call returned: %s = %v, want %v", key, got[key], want)
		}
	}
	// A closed module's series go away.
	m.Close()
	got = scrape(t, reg)
	if _, ok := got[mod("cgoguard_calls_total", m.Name(), `outcome="ok"`)]; ok {
		t.Errorf("closed module %s still exported", m.Name())
	}
}

func TestMetricsHistogram(t *testing.T) {
	reg := newRegistry(t)
	m := newModule(t, "", cgoguard.WithMetrics(cgoguard.MetricsHistogram), cgoguard.WithHistogramSampling(1))
	ms := cInt(t, 20)
	const fast = 50
	callN(t, m, fast, cfixture.Empty, nil)
	callN(t, m, 2, cfixture.SleepMS, ms) // two calls of >= 20ms
	got := scrape(t, reg)
	lbl := fmt.Sprintf("{module=%q}", m.Name())
	if n := got["cgoguard_call_duration_seconds_count"+lbl]; n != fast+2 {
		t.Errorf("histogram count = %v, want %d (every call timed)", n, fast+2)
	}
	// The TSC's rate is calibrated against CLOCK_MONOTONIC from its first
	// use on, so early in a process it may be off by a few per cent.
	if s := got["cgoguard_call_duration_seconds_sum"+lbl]; s < 0.9*0.040 || s > 5 {
		t.Errorf("histogram sum = %vs, want about the 40ms slept or more", s)
	}
	// Cumulative buckets: the calls below 1ms are the fast ones, those
	// below 16ms too, and every call is at or below the last bucket.
	var bounds []float64
	counts := map[float64]float64{}
	prefix := "cgoguard_call_duration_seconds_bucket{"
	for k, v := range got {
		if !strings.HasPrefix(k, prefix) || !strings.Contains(k, fmt.Sprintf("module=%q", m.Name())) {
			continue
		}
		var le float64
		i := strings.Index(k, `le="`)
		fmt.Sscanf(k[i+4:], "%g", &le)
		bounds = append(bounds, le)
		counts[le] = v
	}
	sort.Float64s(bounds)
	if len(bounds) < 5 {
		t.Fatalf("only %d buckets: %v", len(bounds), bounds)
	}
	prev := 0.0
	for _, b := range bounds {
		c := counts[b]
		if c < prev {
			t.Errorf("bucket le=%g count %v below the previous %v: not cumulative", b, c, prev)
		}
		prev = c
		switch {
		case b < 19e-3 && c > fast:
			t.Errorf("bucket le=%g = %v: holds a 20ms call", b, c)
		case b >= 1e-3 && b < 19e-3 && c < fast-3:
			// An empty call takes well under 1ms, unless its thread was
			// descheduled mid-call on a loaded machine: allow a few.
			t.Errorf("bucket le=%g = %v, want about %d (the fast calls)", b, c, fast)
		case b >= 1 && c != fast+2:
			t.Errorf("bucket le=%g = %v, want %d (all calls)", b, c, fast+2)
		}
	}
}

func TestMetricsMemory(t *testing.T) {
	reg := newRegistry(t)
	allocs0, bytes0 := cmem.Live()
	p, err := cmem.Malloc(1000)
	if err != nil {
		t.Fatal(err)
	}
	a, err := arena.New(4096, arena.WithName(t.Name()+"-arena"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, _, err := a.Alloc(100, 8); err != nil {
		t.Fatal(err)
	}
	b, err := bridge.New(4, bridge.WithName(t.Name()+"-bridge"), bridge.WithPolicy(bridge.DropNewest))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	pushed := 0
	for i := 0; i < 6; i++ {
		if b.Push([]byte("event")) == nil {
			pushed++
		}
	}
	delivered, err := b.Drain(context.Background(), func([]byte) {})
	if err != nil {
		t.Fatal(err)
	}
	got := scrape(t, reg)
	bs := b.Stats()
	for key, want := range map[string]float64{
		"cgoguard_cmem_live_bytes":                                                              float64(bytes0 + 1000),
		"cgoguard_cmem_live_allocations":                                                        float64(allocs0 + 1),
		fmt.Sprintf("cgoguard_arena_used_bytes{arena=%q}", a.Name()):                            float64(a.Stats().Used),
		fmt.Sprintf("cgoguard_bridge_messages_total{bridge=%q,result=\"delivered\"}", b.Name()): float64(delivered),
		fmt.Sprintf("cgoguard_bridge_messages_total{bridge=%q,result=\"dropped\"}", b.Name()):   float64(6 - pushed),
	} {
		if v, ok := got[key]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", key, v, ok, want)
		}
	}
	if a.Stats().Used < 100 || delivered != pushed || bs.Dropped == 0 {
		t.Errorf("fixture did not do what it should: arena used %d, delivered %d of %d pushed, dropped %d", a.Stats().Used, delivered, pushed, bs.Dropped)
	}
	cmem.Free(p)
	if got := scrape(t, reg)["cgoguard_cmem_live_bytes"]; got != float64(bytes0) {
		t.Errorf("after Free: cgoguard_cmem_live_bytes = %v, want %v", got, bytes0)
	}
}

func TestMetricsLint(t *testing.T) {
	newModule(t, "", cgoguard.WithMetrics(cgoguard.MetricsHistogram))
	problems, err := testutil.CollectAndLint(observe.NewCollector())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}
