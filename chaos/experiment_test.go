package chaos_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/cgoguard/cgoguard/chaos"
	"github.com/cgoguard/cgoguard/chaos/experiments"
)

var shippedVars = map[string]string{"SERVICE": "http://127.0.0.1:8080", "PROMETHEUS": "http://127.0.0.1:9090"}

func TestShippedExperiments(t *testing.T) {
	f, err := chaos.ParseFile(experiments.ServiceName, experiments.Service, nil)
	if err != nil {
		t.Fatal(err)
	}
	// One experiment per fault type.
	seen := map[string]bool{}
	for _, e := range f.Experiments {
		if seen[e.FaultType] {
			t.Errorf("fault type %s twice", e.FaultType)
		}
		seen[e.FaultType] = true
		if e.Interval.D() != 30*time.Second || e.ConsecutiveOK != 3 || e.RecoverySLA.D() != 300*time.Second {
			t.Errorf("%s: interval %v, consecutive_ok %d, sla %v: want the design's 30s, 3, 300s", e.Name, e.Interval, e.ConsecutiveOK, e.RecoverySLA)
		}
	}
	for _, k := range append(chaos.Kinds, chaos.Kind(chaos.FaultCommand)) {
		if !seen[string(k)] {
			t.Errorf("no experiment of fault type %s", k)
		}
	}
	if err := compileSchema(t).Validate(asJSON(t, experiments.Service)); err != nil {
		t.Fatalf("service.yaml fails the schema: %v", err)
	}
}

func TestParseFileDefaultsAndVars(t *testing.T) {
	f, err := chaos.LoadFile(filepath.Join("testdata", "valid.yaml"), map[string]string{"SVC": "http://svc:1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Experiments) != 3 {
		t.Fatalf("%d experiments", len(f.Experiments))
	}
	a, b, c := f.Experiments[0], f.Experiments[1], f.Experiments[2]
	// Inherited from defaults, field by field in target.
	if a.Target.Admin != "http://svc:1/debug/cgoguard/failpoints" || a.Target.Module != "zlib" || a.Target.Function != "exz_uncompress" {
		t.Errorf("a.target %+v", a.Target)
	}
	if a.Interval.D() != 5*time.Second || a.Duration.D() != time.Minute || a.TTL.D() != chaos.DefaultFailpointTTL {
		t.Errorf("a: interval %v duration %v ttl %v", a.Interval, a.Duration, a.TTL)
	}
	if a.Spec() != "zlib.exz_uncompress=20%segv" || a.Remediation.Kind != "reset" {
		t.Errorf("a: spec %s remediation %v", a.Spec(), a.Remediation)
	}
	if a.SLOTarget.Threshold.Value != 0.01 || a.SLOTarget.Window.D() != 30*time.Second || !strings.Contains(a.SLOTarget.String(), "error ratio") {
		t.Errorf("a.slo %+v", a.SLOTarget)
	}
	if b.Target.Function != "" || b.Spec() != "zlib=delay(200ms)" || b.SLOTarget.Threshold.Value != 0.8 || b.SLOTarget.Op != "<=" {
		t.Errorf("b: %+v spec %s slo %+v", b.Target, b.Spec(), b.SLOTarget)
	}
	if got := b.SLOTarget.String(); got != `histogram_quantile(0.99, sum by (le) (rate(d_bucket[30s]))) <= 800ms over 30s` {
		t.Errorf("b.slo string %q", got)
	}
	// ${CHAOS_ID} is left for the run; defaults from ${X:-...}.
	if c.Revert != `kill -CONT ${CHAOS_ID}` || c.Inject != "echo 42" || c.Remediation.Command != "true" {
		t.Errorf("c: %q %q %+v", c.Inject, c.Revert, c.Remediation)
	}
	if c.SLOTarget.Func != chaos.FuncRatio || c.SLOTarget.Over.Labels["module"] != "zlib" || c.SLOTarget.NoData != "ok" {
		t.Errorf("c.slo %+v", c.SLOTarget)
	}
	if err := compileSchema(t).Validate(asJSON(t, mustRead(t, "testdata/valid.yaml"))); err != nil {
		t.Fatalf("valid.yaml fails the schema: %v", err)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseFileErrors(t *testing.T) {
	base := `
experiments:
  - name: x
    fault_type: segv
    target: {admin: "http://h:1/f", module: m}
    duration: 1m
    slo_target: {prometheus: "http://p:9090", query: up, op: "==", threshold: 1}
`
	tests := []struct {
		name string
		yaml string
		want []string // each a "line: message" fragment
		// schema says whether the JSON Schema rejects it too.
		schema bool
	}{
		{"empty", "", []string{"empty experiment file"}, false},
		{"not a mapping", "- a\n", []string{":1: an experiment file is a mapping"}, true},
		{"no experiments", "vars: {A: b}\n", []string{"at least one experiment"}, true},
		{"unknown key", strings.Replace(base, "duration: 1m", "duration: 1m\n    durration: 2m", 1), []string{`:7: experiment: unknown key "durration"`}, true},
		{"unknown key in condition", strings.Replace(base, "threshold: 1}", "threshold: 1, windw: 1m}", 1), []string{`unknown key "windw"`}, true},
		{"bad duration", strings.Replace(base, "duration: 1m", "duration: soon", 1), []string{`:6: "soon" is not a duration`}, true},
		{"unknown fault", strings.Replace(base, "fault_type: segv", "fault_type: meltdown", 1), []string{`:4: experiment x: unknown fault_type "meltdown"`}, true},
		{"no module", strings.Replace(base, ", module: m", "", 1), []string{"target.module is required"}, false},
		{"bad admin", strings.Replace(base, `"http://h:1/f"`, "ftp://h", 1), []string{`target.admin "ftp://h" is not an http(s) URL`}, true},
		{"delay without argument", strings.Replace(base, "fault_type: segv", "fault_type: delay", 1), []string{"needs failpoint: with its argument, e.g. delay(200ms)"}, false},
		{"failpoint syntax", strings.Replace(base, "fault_type: segv", "fault_type: segv\n    failpoint: 20%segfault", 1), []string{`:5: experiment x: failpoint: cgoguard: failpoint spec`, `unknown action "segfault"`}, false},
		{"failpoint of another kind", strings.Replace(base, "fault_type: segv", "fault_type: segv\n    failpoint: errno(EIO)", 1), []string{`has no segv action`}, false},
		{"command without revert", strings.Replace(base, "fault_type: segv", "fault_type: command\n    inject: kill -STOP 1", 1), []string{"needs revert:"}, false},
		{"bad capture", strings.Replace(base, "fault_type: segv", "fault_type: command\n    inject: a\n    revert: b\n    capture: '('", 1), []string{"capture: error parsing regexp"}, false},
		{"no slo", strings.Replace(base, `    slo_target: {prometheus: "http://p:9090", query: up, op: "==", threshold: 1}`, "", 1), []string{"slo_target is required"}, false},
		{"both sources", strings.Replace(base, `query: up,`, `query: up, scrape: "http://s/metrics",`, 1), []string{"not both"}, true},
		{"bad op", strings.Replace(base, `op: "=="`, `op: "=~"`, 1), []string{`op "=~"`}, true},
		{"no threshold", strings.Replace(base, `, threshold: 1}`, `}`, 1), []string{"threshold is required"}, true},
		{"bad threshold", strings.Replace(base, `threshold: 1}`, `threshold: lots}`, 1), []string{`threshold "lots" is not a number`}, false},
		{"window needed", strings.Replace(base, `query: up`, `query: "rate(x[$window])"`, 1), []string{"the query uses $window: set window:"}, false},
		{"scrape ratio without over", strings.Replace(base, `{prometheus: "http://p:9090", query: up,`, `{scrape: "http://s/metrics", metric: m, func: ratio, window: 1m,`, 1), []string{"func ratio needs over:"}, false},
		{"scrape bad label regexp", strings.Replace(base, `{prometheus: "http://p:9090", query: up,`, `{scrape: "http://s/metrics", metric: m, labels: {a: "~("},`, 1), []string{"labels: label a: error parsing regexp"}, false},
		{"unknown variable", strings.Replace(base, `"http://h:1/f"`, `"${NOPE}/f"`, 1), []string{":5: unknown variable ${NOPE}"}, false},
		{"duplicate name", base + `  - name: x
    fault_type: bus
    target: {admin: "http://h:1/f", module: m}
    duration: 1m
    slo_target: {prometheus: "http://p:9090", query: up, op: "==", threshold: 1}
`, []string{":8: experiment x: duplicate name (first at line 3)"}, false},
		{"bad remediation", strings.Replace(base, "duration: 1m", "duration: 1m\n    remediation: reboot", 1), []string{`remediation "reboot"`}, true},
		{"consecutive_ok zero", strings.Replace(base, "duration: 1m", "duration: 1m\n    consecutive_ok: -1", 1), []string{"consecutive_ok must be at least 1"}, true},
	}
	schema := compileSchema(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := chaos.ParseFile("exp.yaml", []byte(tt.yaml), nil)
			var ce *chaos.ConfigError
			if !errors.As(err, &ce) || !errors.Is(err, chaos.ErrInvalid) {
				t.Fatalf("err %v, want a *ConfigError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%s", w, err)
				}
			}
			if !strings.HasPrefix(err.Error(), "exp.yaml") {
				t.Errorf("error does not name the file: %s", err)
			}
			if tt.schema && tt.yaml != "" {
				if schema.Validate(asJSON(t, []byte(tt.yaml))) == nil {
					t.Errorf("the schema accepts it")
				}
			}
		})
	}
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(chaos.Schema))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func asJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}
