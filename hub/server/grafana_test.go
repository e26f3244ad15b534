package server

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestGrafanaDashboard checks the shipped dashboard against what /metrics
// really serves: every metric a panel queries exists, and every feedback
// metric is plotted.
func TestGrafanaDashboard(t *testing.T) {
	raw, err := os.ReadFile("../grafana/cgoguard-hub.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title  string `json:"title"`
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name string `json:"name"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("dashboard is not JSON: %v", err)
	}
	if d.Title == "" || d.UID == "" || len(d.Panels) < 5 {
		t.Fatalf("dashboard: %q %q, %d panels", d.Title, d.UID, len(d.Panels))
	}
	now := time.Now().UTC()
	e := newEnv(t, sqliteDSN(t), WithClock(func() time.Time { return now }))
	seed(t, e, now)
	e.do("GET", "/api/v1/runs", e.tokens["viewer"], nil)
	served := e.do("GET", "/metrics", "", nil).body
	name := regexp.MustCompile(`\bcgoguard_hub_[a-z_]+`)
	plotted := map[string]bool{}
	for _, p := range d.Panels {
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			for _, m := range name.FindAllString(tg.Expr, -1) {
				plotted[m] = true
				base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m, "_bucket"), "_sum"), "_count")
				if !strings.Contains(served, "# TYPE "+base+" ") {
					t.Errorf("panel %q queries %s, which /metrics does not serve", p.Title, m)
				}
			}
		}
	}
	for _, m := range []string{"cgoguard_hub_check_failure_ratio", "cgoguard_hub_check_skip_ratio",
		"cgoguard_hub_check_duration_seconds", "cgoguard_hub_check_flaky_total", "cgoguard_hub_runs_total"} {
		if !plotted[m] {
			t.Errorf("the dashboard does not plot %s", m)
		}
	}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	if !vars["datasource"] || !vars["checklist"] {
		t.Errorf("template variables: %v", vars)
	}
}
