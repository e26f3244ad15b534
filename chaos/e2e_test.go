//go:build cgo

package chaos_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard/chaos"
	"github.com/cgoguard/cgoguard/chaos/experiments"
	"github.com/cgoguard/cgoguard/internal/e2e"
)

const e2eToken = "e2e-admin-token"

func e2eRunner(t *testing.T, journal string) *chaos.Runner {
	return chaos.NewRunner(chaos.WithJournal(journal),
		chaos.WithLookupEnv(func(k string) (string, bool) {
			if k == chaos.TokenEnvVar {
				return e2eToken, true
			}
			return "", false
		}),
		chaos.WithProgress(func(e chaos.Event) {
			if e.Phase != "poll" {
				t.Logf("[%d/%d] %s: %s", e.Index, e.Total, e.Experiment, e.Message)
			}
		}))
}

// waitForData waits until Prometheus has a value for query.
func waitForData(t *testing.T, prom, query string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(prom + "/api/v1/query?query=" + url.QueryEscape(query))
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(b), `"value"`) && !strings.Contains(string(b), `"NaN"`) {
				return
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("prometheus has no value for %s after 60s", query)
}

// TestE2EPrometheus runs the shipped experiments (short intervals) against
// the example service under load, with a private Prometheus evaluating
// the SLOs.
func TestE2EPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts Prometheus and the example service")
	}
	e2e.Need(t, "prometheus")
	t.Parallel()
	svc := e2e.StartService(t, e2eToken)
	prom := e2e.StartPrometheus(t, svc.Addr, "cgoguard-service")
	load := e2e.StartLoad(t, svc.URL, 6)
	waitForData(t, prom.URL, `sum(rate(cgoguard_calls_total{module="zlib"}[3s])) > 0`)

	const interval = time.Second
	vars := map[string]string{
		"SERVICE": svc.URL, "PROMETHEUS": prom.URL, "JOB": prom.Job, "SERVICE_PID": strconv.Itoa(svc.PID()),
		"INTERVAL": "1s", "DURATION": "3s", "WINDOW": "3s", "RECOVERY_SLA": "30s", "TTL": "6s",
	}
	f, err := chaos.ParseFile(experiments.ServiceName, experiments.Service, vars)
	if err != nil {
		t.Fatal(err)
	}
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	res, err := e2eRunner(t, journal).Run(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	chaos.WriteReport(&text, "text", res)
	t.Logf("red-blue table:\n%s", text.String())
	if dir := os.Getenv("CGOGUARD_CHAOS_REPORT_DIR"); dir != "" {
		for _, format := range chaos.ReportFormats {
			out, err := os.Create(filepath.Join(dir, "service."+format))
			if err != nil {
				t.Fatal(err)
			}
			chaos.WriteReport(out, format, res)
			out.Close()
		}
	}
	if len(res.Experiments) != 9 {
		t.Fatalf("%d experiments ran, want 9", len(res.Experiments))
	}
	for _, e := range res.Experiments {
		want := chaos.Recovered
		if e.Name == "zlib-delay" {
			want = chaos.Held
		}
		if e.Verdict != want {
			t.Errorf("%s: %s, want %s\npolls:\n%s\nlog:\n%s", e.Name, e.Summary(), want, pollText(e), strings.Join(e.Log, "\n"))
			continue
		}
		if e.FaultType != chaos.FaultCommand && (e.Fired == nil || *e.Fired == 0) {
			t.Errorf("%s: the failpoint fired on %v calls", e.Name, e.Fired)
		}
		if e.Verdict == chaos.Recovered {
			checkOnPollGrid(t, e)
			if e.Interval.D() != interval {
				t.Errorf("%s: interval %v", e.Name, e.Interval)
			}
		}
	}
	if e := find2(res, "service-stopped"); e.FaultID != strconv.Itoa(svc.PID()) {
		t.Errorf("service-stopped: captured id %q, want the pid %d", e.FaultID, svc.PID())
	}
	if e := find2(res, "zlib-abort"); !e.Remediated {
		t.Errorf("zlib-abort: the reset remediation did not run")
	}
	// The service counted what fired, and nothing is left behind.
	metrics := get(t, svc.URL+"/metrics", "")
	for _, action := range []string{"segv", "bus", "fpe", "abort", "delay", "hang", "errno", "error"} {
		re := regexp.MustCompile(`cgoguard_failpoints_fired_total\{action="` + action + `",module="zlib"\} ([0-9]+)`)
		if m := re.FindStringSubmatch(metrics); m == nil || m[1] == "0" {
			t.Errorf("no cgoguard_failpoints_fired_total for %s in the service's metrics", action)
		}
	}
	if l := get(t, svc.URL+"/debug/cgoguard/failpoints", e2eToken); !strings.Contains(l, `"failpoints": []`) {
		t.Errorf("failpoints left on the service: %s", l)
	}
	if _, err := os.Stat(journal); !os.IsNotExist(err) {
		t.Errorf("journal left behind: %v", err)
	}
	if load.OK.Load() == 0 {
		t.Error("the load driver saw no successful request")
	}
}

// TestE2EScrape runs experiments whose SLOs are read straight from the
// service's /metrics, without Prometheus.
func TestE2EScrape(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts the example service")
	}
	t.Parallel()
	svc := e2e.StartService(t, e2eToken)
	e2e.StartLoad(t, svc.URL, 4)
	yaml := `
defaults:
  target: {admin: "${SERVICE}/debug/cgoguard/failpoints", module: zlib}
  duration: 3s
  interval: 500ms
  recovery_sla: 20s
  ttl: 5s
  slo_target:
    description: zlib error ratio < 1% over 2s
    scrape: ${SERVICE}/metrics
    metric: cgoguard_calls_total
    labels: {module: zlib, outcome: "!ok"}
    func: ratio
    over: {labels: {module: zlib}}
    op: "<"
    threshold: 1%
    window: 2s
    scrape_interval: 250ms
experiments:
  - name: scrape-segv
    fault_type: segv
    failpoint: 30%segv
  - name: scrape-delay
    fault_type: delay
    failpoint: delay(5ms)
    slo_target:
      description: zlib p99 latency <= 500ms over 2s
      scrape: ${SERVICE}/metrics
      metric: cgoguard_call_duration_seconds
      labels: {module: zlib}
      func: quantile
      quantile: 0.99
      op: "<="
      threshold: 500ms
      window: 2s
  - name: scrape-slow
    fault_type: delay
    failpoint: delay(600ms)
    slo_target:
      description: zlib p99 latency <= 500ms over 2s
      scrape: ${SERVICE}/metrics
      metric: cgoguard_call_duration_seconds
      labels: {module: zlib}
      func: quantile
      quantile: 0.99
      op: "<="
      threshold: 500ms
      window: 2s
`
	f, err := chaos.ParseFile("scrape.yaml", []byte(yaml), map[string]string{"SERVICE": svc.URL})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e2eRunner(t, filepath.Join(t.TempDir(), "journal.jsonl")).Run(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	chaos.WriteReport(&text, "text", res)
	t.Logf("red-blue table:\n%s", text.String())
	want := map[string]chaos.Verdict{"scrape-segv": chaos.Recovered, "scrape-delay": chaos.Held, "scrape-slow": chaos.Recovered}
	for _, e := range res.Experiments {
		if e.Verdict != want[e.Name] {
			t.Errorf("%s: %s, want %s\npolls:\n%s", e.Name, e.Summary(), want[e.Name], pollText(e))
			continue
		}
		if e.Verdict == chaos.Recovered {
			checkOnPollGrid(t, e)
		}
		if len(e.Series) < 5 {
			t.Errorf("%s: %d points of series from the scrape history", e.Name, len(e.Series))
		}
	}
	if e := find2(res, "scrape-slow"); e.Worst == nil || *e.Worst < 0.5 {
		t.Errorf("scrape-slow: worst p99 %v, want above 0.5s", e.Worst)
	}
}

func find2(res *chaos.Result, name string) chaos.ExperimentResult {
	for _, e := range res.Experiments {
		if e.Name == name {
			return e
		}
	}
	return chaos.ExperimentResult{}
}

func pollText(e chaos.ExperimentResult) string {
	var b strings.Builder
	for _, p := range e.Polls {
		v := "-"
		if p.Value != nil {
			v = fmt.Sprint(*p.Value)
		}
		fmt.Fprintf(&b, "  %s %-8s %s ok=%v %s\n", p.T.Format("15:04:05.000"), p.Phase, v, p.OK, p.Err)
	}
	return b.String()
}

func get(t *testing.T, u, token string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
