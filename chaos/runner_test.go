//go:build cgo

package chaos_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/chaos"
	"github.com/cgoguard/cgoguard/internal/cfixture"
	"github.com/cgoguard/cgoguard/observe"
)

// service is a small in-process service: two guarded modules under a
// steady load, /metrics (observe and chaos collectors) and the failpoint
// admin endpoint.
type service struct {
	url  string
	stop func()
}

func startService(t *testing.T, token string, modules ...*cgoguard.Module) *service {
	t.Helper()
	reg := prometheus.NewRegistry()
	if err := observe.Register(reg); err != nil {
		t.Fatal(err)
	}
	reg.MustRegister(chaos.Collector())
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	admin := chaos.Handler(chaos.WithToken(token), chaos.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	mux.Handle("/debug/cgoguard/failpoints", admin)
	mux.Handle("/debug/cgoguard/failpoints/", admin)
	srv := httptest.NewServer(mux)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, m := range modules {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				case <-time.After(2 * time.Millisecond):
				}
				m.Call(context.Background(), cfixture.Empty, nil)
			}
		}()
	}
	s := &service{url: srv.URL, stop: func() { close(done); wg.Wait(); srv.Close() }}
	t.Cleanup(s.stop)
	return s
}

const runnerExperiments = `
vars:
  ERR: '~error|crash|rejected|timeout'
defaults:
  target: {admin: "${SVC}/debug/cgoguard/failpoints", module: runner-restart}
  duration: 1200ms
  interval: 200ms
  consecutive_ok: 2
  recovery_sla: 10s
  ttl: 600ms
  slo_target:
    description: error ratio < 5% over 1s
    scrape: ${SVC}/metrics
    metric: cgoguard_calls_total
    labels: {module: "${MODULE:-runner-restart}", outcome: "${ERR}"}
    func: ratio
    over: {labels: {module: "${MODULE:-runner-restart}"}}
    op: "<"
    threshold: 5%
    window: 1s
    scrape_interval: 100ms
experiments:
  - name: errno-recovers
    fault_type: errno
    failpoint: errno(EIO)
  - name: delay-holds
    fault_type: delay
    failpoint: 1*delay(1ms)
  - name: segv-needs-reset
    fault_type: segv
    failpoint: 1*segv
    target: {module: runner-quarantine}
    remediation: reset
    slo_target:
      scrape: ${SVC}/metrics
      metric: cgoguard_module_state
      labels: {module: runner-quarantine, state: quarantined}
      op: "=="
      threshold: 0
  - name: command-fault
    fault_type: command
    inject: echo "injected fault-id-7"
    capture: 'fault-id-(\d+)'
    revert: echo "$CHAOS_ID" > reverted.txt
  - name: recovery-too-slow
    fault_type: errno
    failpoint: errno(EIO)
    recovery_sla: 100ms
  - name: steady-state-fails
    fault_type: segv
    steady_state:
      scrape: ${SVC}/metrics
      metric: cgoguard_calls_total
      labels: {module: runner-restart, outcome: ok}
      op: "<"
      threshold: 0
`

func TestRunnerVerdicts(t *testing.T) {
	restart, err := cgoguard.New("runner-restart", cgoguard.WithCrashPolicy(cgoguard.Restart))
	if err != nil {
		t.Fatal(err)
	}
	defer restart.Close()
	quarantine, err := cgoguard.New("runner-quarantine")
	if err != nil {
		t.Fatal(err)
	}
	defer quarantine.Close()
	svc := startService(t, "tok", restart, quarantine)
	dir := t.TempDir()
	f, err := chaos.ParseFile("runner.yaml", []byte(runnerExperiments), map[string]string{"SVC": svc.url})
	if err != nil {
		t.Fatal(err)
	}
	journal := filepath.Join(dir, "journal.jsonl")
	var events []chaos.Event
	var mu sync.Mutex
	r := chaos.NewRunner(chaos.WithJournal(journal), chaos.WithDir(dir),
		chaos.WithLookupEnv(func(k string) (string, bool) {
			return map[string]string{"CGOGUARD_ADMIN_TOKEN": "tok"}[k], k == "CGOGUARD_ADMIN_TOKEN"
		}),
		chaos.WithProgress(func(e chaos.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }))
	res, err := r.Run(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]chaos.Verdict{
		"errno-recovers": chaos.Recovered, "delay-holds": chaos.Held, "segv-needs-reset": chaos.Recovered,
		"command-fault": chaos.Held, "recovery-too-slow": chaos.SLAMissed, "steady-state-fails": chaos.Aborted,
	}
	for _, e := range res.Experiments {
		if e.Verdict != want[e.Name] {
			t.Errorf("%s: verdict %s (%s), want %s\npolls: %+v\nlog: %s", e.Name, e.Verdict, e.Summary(), want[e.Name], e.Polls, strings.Join(e.Log, "\n"))
		}
	}
	byName := map[string]chaos.ExperimentResult{}
	for _, e := range res.Experiments {
		byName[e.Name] = e
	}
	if e := byName["errno-recovers"]; e.Recovery == nil || e.Fired == nil || *e.Fired == 0 || !e.Breached {
		t.Errorf("errno-recovers: recovery %v, fired %v, breached %v", e.Recovery, e.Fired, e.Breached)
	} else {
		// The measured recovery is a poll instant: a whole number of
		// intervals after the removal (plus the poll's own latency).
		checkOnPollGrid(t, e)
	}
	if e := byName["segv-needs-reset"]; !e.Remediated || quarantine.State() != cgoguard.Closed {
		t.Errorf("segv-needs-reset: remediated %v, module state %v", e.Remediated, quarantine.State())
	}
	if e := byName["command-fault"]; e.FaultID != "7" {
		t.Errorf("command-fault: id %q, want 7", e.FaultID)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "reverted.txt")); strings.TrimSpace(string(got)) != "7" {
		t.Errorf("revert saw CHAOS_ID %q, want 7", got)
	}
	if e := byName["steady-state-fails"]; e.Injected != nil || !strings.Contains(e.Reason, "steady state did not hold") {
		t.Errorf("steady-state-fails: injected %v, reason %q", e.Injected, e.Reason)
	}
	if res.Passed() {
		t.Error("a run with sla_missed and aborted passed")
	}
	// Nothing is left: no failpoint, an empty journal.
	if l := chaos.List(); len(l) != 0 {
		t.Errorf("failpoints left: %+v", l)
	}
	if _, err := os.Stat(journal); !os.IsNotExist(err) {
		data, _ := os.ReadFile(journal)
		t.Errorf("journal left behind (%v): %s", err, data)
	}
	phases := map[string]bool{}
	for _, e := range events {
		phases[e.Phase] = true
	}
	for _, p := range []string{"start", "steady", "inject", "poll", "remove", "remediate", "verdict"} {
		if !phases[p] {
			t.Errorf("no %q progress event", p)
		}
	}
	checkReports(t, res)
}

func checkOnPollGrid(t *testing.T, e chaos.ExperimentResult) {
	t.Helper()
	rec := e.Recovery.D()
	iv := e.Interval.D()
	k := (rec + iv/2) / iv
	if off := rec - k*iv; off < 0 || off > iv/2 {
		t.Errorf("recovery %v is not on the %v poll grid (off by %v)", rec, iv, off)
	}
	// The run that closed the fault began at poll k of the grid; its last
	// poll is scheduled ConsecutiveOK-1 intervals later.
	if want := (k + time.Duration(e.ConsecutiveOK-1)) * iv; e.Closed == nil || e.Closed.D() < want {
		t.Errorf("closed after %v, want at least %v (poll %d + %d intervals)", e.Closed, want, k, e.ConsecutiveOK-1)
	}
	if rec > e.RecoverySLA.D() {
		t.Errorf("recovered after %v, beyond the SLA %v", rec, e.RecoverySLA)
	}
}

// checkReports writes every format of a real run and checks each parses
// and says what it must.
func checkReports(t *testing.T, res *chaos.Result) {
	t.Helper()
	for _, format := range chaos.ReportFormats {
		var b bytes.Buffer
		if err := chaos.WriteReport(&b, format, res); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		out := b.String()
		switch format {
		case "text":
			for _, want := range []string{"FAULT TYPE", "SLO TARGET", "RECOVERY SLA", "MEASURED RECOVERY", "VERDICT", "errno-recovers", "sla_missed", "FAILED:"} {
				if !strings.Contains(out, want) {
					t.Errorf("text report lacks %q:\n%s", want, out)
				}
			}
		case "json", "checklist":
			var v map[string]any
			if err := json.Unmarshal(b.Bytes(), &v); err != nil {
				t.Fatalf("%s report is not JSON: %v", format, err)
			}
			key := "experiments"
			if format == "checklist" {
				key = "checks"
			}
			if n := len(v[key].([]any)); n != len(res.Experiments) {
				t.Errorf("%s report has %d %s, want %d", format, n, key, len(res.Experiments))
			}
		case "junit":
			var s struct {
				Tests    int `xml:"tests,attr"`
				Failures int `xml:"failures,attr"`
				Errors   int `xml:"errors,attr"`
			}
			if err := xml.Unmarshal(b.Bytes(), &s); err != nil {
				t.Fatalf("junit: %v", err)
			}
			if s.Tests != len(res.Experiments) || s.Failures != 1 || s.Errors != 1 {
				t.Errorf("junit tests=%d failures=%d errors=%d, want %d, 1, 1", s.Tests, s.Failures, s.Errors, len(res.Experiments))
			}
		case "html":
			if n := strings.Count(out, "<svg"); n != len(res.Experiments) {
				t.Errorf("html has %d plots, want %d", n, len(res.Experiments))
			}
			for _, want := range []string{`class="fault"`, `class="recovered"`, `class="threshold"`, "recovered after"} {
				if !strings.Contains(out, want) {
					t.Errorf("html lacks %s", want)
				}
			}
		}
	}
}
