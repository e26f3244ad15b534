//go:build cgo && linux

package isolate_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/isolate"
	"github.com/cgoguard/cgoguard/isolate/internal/fixture"
	"github.com/cgoguard/cgoguard/observe"
)

// TestObserve: an isolated module's calls, crashes and worker restarts
// are in the metrics, its readiness in /readyz, its counts in the status
// file.
func TestObserve(t *testing.T) {
	flag := filepath.Join(t.TempDir(), "fail")
	p := newPool(t, isolate.WithWorkers(1), isolate.WithSpares(0), isolate.WithEnv(envStartCrash+"="+flag),
		isolate.WithRestartBackoff(time.Millisecond, 10*time.Millisecond))
	name := t.Name()
	if _, err := call(t, p, fixture.Empty); err != nil {
		t.Fatal(err)
	}
	if _, err := call(t, p, fixture.Segv); !errors.As(err, new(*cgoguard.CrashError)) {
		t.Fatal(err)
	}
	if _, err := call(t, p, fixture.Empty); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	if err := observe.Register(reg); err != nil {
		t.Fatal(err)
	}
	restarts := series(t, reg, "cgoguard_worker_restarts_total", name, "reason")
	if len(restarts) != len(isolate.Reasons) || restarts["crash"] != 1 || restarts["start_failed"] != 0 || restarts["timeout"] != 0 || restarts["exit"] != 0 {
		t.Fatalf("cgoguard_worker_restarts_total of %s: %v", name, restarts)
	}
	if calls := series(t, reg, "cgoguard_calls_total", name, "outcome"); calls["ok"] != 2 || calls["crash"] != 1 || calls["error"] != 0 {
		t.Fatalf("cgoguard_calls_total of %s: %v", name, calls)
	}
	if workers := series(t, reg, "cgoguard_workers", name, "state"); workers["idle"] != 1 || workers["busy"] != 0 {
		t.Fatalf("cgoguard_workers of %s: %v", name, workers)
	}
	if rd := observe.CheckReady(); !rd.Ready || rd.Modules[name] != "serving" {
		t.Fatalf("readiness %+v", rd)
	}

	sw, err := observe.StartStatus(observe.WithStatusDir(t.TempDir()), observe.WithStatusInterval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer sw.Stop()
	sw.Update()
	st, err := observe.ReadStatusFile(sw.Path())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range st.Modules {
		if m.Name == name {
			found = m.OK == 2 && m.Crashes == 1
		}
	}
	if !found {
		t.Fatalf("status file modules %+v lack %s with ok 2, crashes 1", st.Modules, name)
	}

	// No worker can start: not ready, with the reason.
	if err := os.WriteFile(flag, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	call(t, p, fixture.Segv)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		rd := observe.CheckReady()
		if !rd.Ready {
			if len(rd.NotReady) == 0 || rd.NotReady[0].Module != name || !strings.Contains(rd.NotReady[0].Reason, "refusing to start") {
				t.Fatalf("readiness %+v", rd)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("still ready although no worker can start")
		}
	}
	os.Remove(flag)
}

// series returns the values of metric for module, by the label key.
func series(t *testing.T, reg *prometheus.Registry, metric, module, key string) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != metric {
			continue
		}
		for _, m := range mf.GetMetric() {
			var mod, val string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "module":
					mod = l.GetValue()
				case key:
					val = l.GetValue()
				}
			}
			if mod != module {
				continue
			}
			if c := m.GetCounter(); c != nil {
				got[val] = c.GetValue()
			} else {
				got[val] = m.GetGauge().GetValue()
			}
		}
	}
	return got
}
