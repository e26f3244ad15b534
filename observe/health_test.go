//go:build cgo

package observe_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/internal/cfixture"
	"github.com/cgoguard/cgoguard/observe"
	"github.com/cgoguard/cgoguard/observe/internal/obsfixture"
)

func get(t *testing.T, h http.Handler, method, path string, into any) int {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	if into != nil {
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %q", path, ct)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), into); err != nil {
			t.Fatalf("%s: body %q: %v", path, rec.Body.String(), err)
		}
	}
	return rec.Code
}

// notReadyFor returns the /readyz entry for module, if any.
func notReadyFor(r observe.Readiness, module string) *observe.NotReady {
	for i := range r.NotReady {
		if r.NotReady[i].Module == module {
			return &r.NotReady[i]
		}
	}
	return nil
}

func TestHealthz(t *testing.T) {
	h := observe.HealthHandler()
	var body map[string]string
	if code := get(t, h, "GET", "/healthz", &body); code != 200 || body["status"] != "alive" {
		t.Errorf("/healthz: %d %v", code, body)
	}
	tests := []struct {
		method, path string
		want         int
	}{
		{"POST", "/healthz", http.StatusMethodNotAllowed},
		{"GET", "/nope", http.StatusNotFound},
		{"HEAD", "/readyz", 0}, // 200 or 503: any state, no body
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		if tt.want != 0 && rec.Code != tt.want {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.path, rec.Code, tt.want)
		}
	}
}

func TestReadyzQuarantineAndReset(t *testing.T) {
	h := observe.HealthHandler()
	m := newModule(t, "")
	var r observe.Readiness
	if code := get(t, h, "GET", "/readyz", &r); code != 200 || !r.Ready || notReadyFor(r, m.Name()) != nil {
		t.Fatalf("before the crash: %d %+v", code, r)
	}
	callN(t, m, 1, cfixture.Segv, cfixture.BadAddress())
	r = observe.Readiness{}
	code := get(t, h, "GET", "/readyz", &r)
	nr := notReadyFor(r, m.Name())
	if code != http.StatusServiceUnavailable || r.Ready || nr == nil {
		t.Fatalf("after the crash: %d %+v", code, r)
	}
	if nr.State != "quarantined" || !strings.Contains(nr.Reason, "SIGSEGV") {
		t.Errorf("not-ready entry %+v: want state quarantined and the reason naming SIGSEGV", nr)
	}
	if err := m.Reset(); err != nil {
		t.Fatal(err)
	}
	r = observe.Readiness{}
	if code := get(t, h, "GET", "/readyz", &r); code != 200 || !r.Ready {
		t.Errorf("after Reset: %d %+v", code, r)
	}
}

func TestReadyzBreakerOpen(t *testing.T) {
	h := observe.HealthHandler()
	m := newModule(t, "", cgoguard.WithBreaker(cgoguard.BreakerConfig{ConsecutiveFailures: 2, CoolDown: time.Hour}))
	callN(t, m, 2, cfixture.Errno, cInt(t, 5))
	var r observe.Readiness
	code := get(t, h, "GET", "/readyz", &r)
	nr := notReadyFor(r, m.Name())
	if code != http.StatusServiceUnavailable || nr == nil || nr.State != "breaker_open" || !strings.Contains(nr.Reason, "2 consecutive failures") {
		t.Errorf("breaker open: %d %+v", code, r)
	}
}

func TestDebugSnapshot(t *testing.T) {
	h := observe.HealthHandler()
	m := newModule(t, "", cgoguard.WithMetrics(cgoguard.MetricsHistogram), cgoguard.WithHistogramSampling(1))
	if rc := obsfixture.Register(m.Name()); rc != 0 {
		t.Fatalf("cg_snapshot_register = %d", rc)
	}
	defer obsfixture.Unregister(m.Name())
	if rc := obsfixture.Register(m.Name()); rc != -17 { // -EEXIST
		t.Errorf("registering twice = %d, want -EEXIST", rc)
	}
	orphan := t.Name() + "-not-a-module"
	if rc := obsfixture.RegisterFlood(orphan); rc != 0 {
		t.Fatalf("cg_snapshot_register(flood) = %d", rc)
	}
	defer obsfixture.UnregisterFlood(orphan)
	obsfixture.SetDepth(42)
	callN(t, m, 3, cfixture.Empty, nil)
	callN(t, m, 1, cfixture.Segv, cfixture.BadAddress())

	var s observe.Snapshot
	if code := get(t, h, "GET", "/debug/cgoguard", &s); code != 200 {
		t.Fatalf("/debug/cgoguard: %d", code)
	}
	var ms *observe.ModuleSnapshot
	for i := range s.Modules {
		if s.Modules[i].Name == m.Name() {
			ms = &s.Modules[i]
		}
	}
	if ms == nil {
		t.Fatalf("module %s missing from %+v", m.Name(), s.Modules)
	}
	if ms.State != "quarantined" || ms.Calls["ok"] != 3 || ms.Calls["crash"] != 1 || ms.Crashes["SIGSEGV"] != 1 {
		t.Errorf("module snapshot %+v", ms)
	}
	if len(ms.Recent) != 1 || ms.Recent[0].Signal != "SIGSEGV" || ms.Recent[0].Addr != "0xdead0000" ||
		len(ms.Recent[0].Frames) == 0 || !strings.HasPrefix(ms.Recent[0].Frames[0], "fx_segv") {
		t.Errorf("recent crashes %+v", ms.Recent)
	}
	if ms.Durations == nil || ms.Durations.Count != 4 {
		t.Errorf("durations %+v, want 4 timed calls", ms.Durations)
	}
	if ms.C["queue_depth"] != "42" || ms.C["version"] != "zlib-like 1.3" || len(ms.C) != 2 || ms.CTruncated {
		t.Errorf("C key/values %v (truncated %v)", ms.C, ms.CTruncated)
	}
	if s.Ready || s.PID == 0 {
		t.Errorf("snapshot ready %v pid %d", s.Ready, s.PID)
	}
	if kv := s.C[orphan]; len(kv) != 64 || kv["k000"] != "0" || kv["k063"] != "63" {
		t.Errorf("orphan callback's keys: %d (%v)", len(kv), kv["k000"])
	}
	// A callback sees the state at each snapshot.
	obsfixture.SetDepth(7)
	if got := observe.TakeSnapshot(); got.C[orphan] == nil {
		t.Errorf("orphan callback missing on second snapshot")
	} else {
		for _, x := range got.Modules {
			if x.Name == m.Name() && x.C["queue_depth"] != "7" {
				t.Errorf("queue_depth %q after SetDepth(7)", x.C["queue_depth"])
			}
		}
	}
}

func TestSnapshotRegisterErrors(t *testing.T) {
	if n := obsfixture.BadRegistrations("x"); n != 4 {
		t.Errorf("%d of 4 invalid calls refused with -EINVAL", n)
	}
	long := strings.Repeat("m", 64)
	if rc := obsfixture.Register(long); rc != -22 {
		t.Errorf("64-byte module name: %d, want -EINVAL", rc)
	}
	if rc := obsfixture.Unregister("never-registered"); rc != -2 {
		t.Errorf("unregister of an unknown callback: %d, want -ENOENT", rc)
	}
}

func TestReadyzSignalTaken(t *testing.T) {
	// Ignoring SIGABRT takes cgoguard's handler: do it in a child process.
	out := runChild(t, "sigtaken", nil)
	var r observe.Readiness
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("child output %q: %v", out, err)
	}
	if r.Ready || len(r.NotReady) != 1 || r.NotReady[0].Module != "" || !strings.Contains(r.NotReady[0].Reason, "SIGABRT") {
		t.Errorf("readiness with SIGABRT ignored: %+v", r)
	}
}
