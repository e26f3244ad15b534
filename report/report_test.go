package report_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/report"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// fixture is a run with every outcome, fixed so outputs are stable.
func fixture() *checklist.Result {
	var w checklist.Waiver
	w.Reason = "zlib upgrade pending"
	_ = w.Expires.UnmarshalText([]byte("2027-01-31"))
	return &checklist.Result{
		Checklist: "cgo-reliability",
		Files:     []string{"checklists/cgo-reliability.yaml"},
		Env:       "ci",
		Packages:  []string{"./examples/..."},
		Started:   time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC),
		Duration:  42 * time.Second,
		Checks: []checklist.CheckResult{
			{ID: "CG-BUILD-03", Title: "the packages build with cgo", Severity: "critical", Kind: "command",
				File: "checklists/cgo-reliability.yaml", Line: 40, Outcome: checklist.Pass, Message: "exit code 0", Attempts: 1,
				Duration: 1200 * time.Millisecond, Evidence: checklist.Evidence{Command: "go build ./examples/...", ExitCode: 0}},
			{ID: "CG-OBS-03", Title: "the metrics endpoint counts C calls", Severity: "medium", Kind: "metric",
				File: "checklists/cgo-reliability.yaml", Line: 210, Outcome: checklist.Pass, Attempts: 2, Duration: 2 * time.Second,
				Message:  "passed on attempt 2 of 2. cgoguard_calls_total = 2 over 2 series, want >= 1",
				Evidence: checklist.Evidence{Command: "serve: go run ./examples/service\nGET http://127.0.0.1:40000/metrics", ExitCode: 200}},
			{ID: "CG-MEM-01", Title: "C strings are freed on every path", Severity: "high", Kind: "vet",
				Prevents: "a C.CString leak per call", Fix: "defer C.free", File: "checklists/cgo-reliability.yaml", Line: 90,
				Outcome: checklist.Fail, Message: "1 finding(s) for CG013, first: examples/hazards/hazards_cgo.go:21:20: CG013 C.CString is never freed",
				Attempts: 1, Duration: 3 * time.Second,
				Evidence: checklist.Evidence{Command: "cgoguard vet -format json -rules CG013 ./examples/...", ExitCode: 1,
					Stdout: "examples/hazards/hazards_cgo.go:21:20: CG013 C.CString is never freed\nexamples/service/zlib/zlib_cgo.go:9:2: CG013 inline C.CString (suppressed: freed by callee)"},
				Findings: []checklist.Finding{
					{Rule: "CG013", Severity: "warning", Message: "C.CString is never freed", File: "examples/hazards/hazards_cgo.go", Line: 21, Column: 20, EndLine: 21, EndColumn: 36},
					{Rule: "CG013", Severity: "warning", Message: "inline C.CString", File: "examples/service/zlib/zlib_cgo.go", Line: 9, Column: 2, Suppressed: true, Justification: "freed by callee"},
				}},
			{ID: "CG-BUILD-07", Title: "the tests pass with GOEXPERIMENT=cgocheck2", Severity: "high", Kind: "gotest",
				File: "checklists/cgo-reliability.yaml", Line: 70, Outcome: checklist.Timeout,
				Message: "timed out after 20m0s; the process group was killed", Attempts: 2, Duration: 40 * time.Minute,
				Evidence: checklist.Evidence{Command: "GOEXPERIMENT=cgocheck2 go test -json ./examples/...", ExitCode: -1, Stderr: "signal: killed"}},
			{ID: "CG-OBS-01", Title: "the health endpoint answers", Severity: "medium", Kind: "http",
				File: "checklists/cgo-reliability.yaml", Line: 200, Outcome: checklist.Skip, Message: "dependency CG-BUILD-03 did not pass (fail)",
				Evidence: checklist.Evidence{ExitCode: -1}},
			{ID: "CG-ERR-02", Title: "C status returns are not ignored", Severity: "medium", Kind: "vet",
				File: "checklists/cgo-reliability.yaml", Line: 180, Outcome: checklist.Error, Attempts: 1, Duration: 15 * time.Millisecond,
				Message:  `vet exited 2 without a JSON report: cgoguard: unknown command "vet"`,
				Evidence: checklist.Evidence{Command: "cgoguard vet -format json ./examples/...", ExitCode: 2, Stderr: `cgoguard: unknown command "vet"`}},
			{ID: "CG-MEM-05", Title: "the C heap does not grow per call", Severity: "high", Kind: "leak",
				File: "checklists/cgo-reliability.yaml", Line: 120, Outcome: checklist.Waived, Attempts: 1, Duration: 6500 * time.Millisecond,
				Message: "waived until 2027-01-31 (zlib upgrade pending): leakcheck: C heap grew by 449632 bytes over 2000 calls",
				Waiver:  &w,
				Evidence: checklist.Evidence{Command: "go test -json -run Leak.*Heap ./examples/...", ExitCode: 1,
					Stdout: "leakcheck: C heap grew by 449632 bytes over 2000 calls <&> \"quoted\""},
				Tests: []checklist.TestResult{{Package: "example/hazards", Test: "TestLeakHeapGreet", Outcome: "fail", Elapsed: 0.01, Output: "leakcheck: C heap grew"}}},
		},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from %s (run go test ./report -update to accept):\n%s", name, path, got)
	}
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name   string
		format report.Format
	}{
		{"text", mustLookup(t, "text")},
		{"text-color", report.Text{Color: true}},
		{"json", mustLookup(t, "json")},
		{"junit", mustLookup(t, "junit")},
		{"sarif", mustLookup(t, "sarif")},
		{"prometheus", mustLookup(t, "prometheus")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.format.Write(&b, fixture()); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, b.Bytes())
		})
	}
}

func mustLookup(t *testing.T, name string) report.Format {
	t.Helper()
	f, err := report.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func write(t *testing.T, name string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := mustLookup(t, name).Write(&b, fixture()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestTextHasNoColorUnlessAsked(t *testing.T) {
	if out := write(t, "text"); bytes.Contains(out, []byte("\x1b[")) {
		t.Fatal("plain text report has ANSI escapes")
	}
	var b bytes.Buffer
	_ = report.Text{Color: true}.Write(&b, fixture())
	if !bytes.Contains(b.Bytes(), []byte("\x1b[31mFAIL")) {
		t.Fatal("colour report lacks a red FAIL")
	}
}

func TestJUnitStructure(t *testing.T) {
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
		Skipped  int `xml:"skipped,attr"`
		Suites   []struct {
			Cases []struct {
				Name      string    `xml:"name,attr"`
				Failure   *struct{} `xml:"failure"`
				SystemOut string    `xml:"system-out"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(write(t, "junit"), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Tests != 7 || doc.Failures != 2 || doc.Errors != 1 || doc.Skipped != 2 {
		t.Fatalf("counts %+v", doc)
	}
	c := doc.Suites[0].Cases[2]
	if c.Failure == nil || !strings.Contains(c.SystemOut, "hazards_cgo.go:21:20: CG013") {
		t.Fatalf("testcase %+v", c)
	}
}

func TestSARIFResults(t *testing.T) {
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Rules []struct{ ID string } `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string } `json:"artifactLocation"`
						Region           struct{ StartLine, StartColumn int }
					} `json:"physicalLocation"`
				} `json:"locations"`
				Suppressions []struct{ Kind string } `json:"suppressions"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(write(t, "sarif"), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("log %+v", log)
	}
	run := log.Runs[0]
	// 2 vet findings + timeout + error + waived; pass and skip give none.
	if len(run.Results) != 5 {
		t.Fatalf("%d results: %+v", len(run.Results), run.Results)
	}
	for _, r := range run.Results {
		if run.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID {
			t.Errorf("result %s points at rule %d (%s)", r.RuleID, r.RuleIndex, run.Tool.Driver.Rules[r.RuleIndex].ID)
		}
	}
	f := run.Results[0]
	loc := f.Locations[0].PhysicalLocation
	if f.RuleID != "CG013" || f.Level != "warning" || loc.ArtifactLocation.URI != "examples/hazards/hazards_cgo.go" || loc.Region.StartLine != 21 || loc.Region.StartColumn != 20 {
		t.Fatalf("vet finding %+v", f)
	}
	if s := run.Results[1].Suppressions; len(s) != 1 || s[0].Kind != "inSource" {
		t.Fatalf("suppressed finding %+v", run.Results[1])
	}
	if w := run.Results[4]; w.RuleID != "CG-MEM-05" || len(w.Suppressions) != 1 || w.Suppressions[0].Kind != "external" {
		t.Fatalf("waived result %+v", w)
	}
}

func TestPrometheusValues(t *testing.T) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(write(t, "prometheus")))
	if err != nil {
		t.Fatal(err)
	}
	byOutcome := map[string]float64{}
	for _, m := range mfs["cgoguard_checklist_checks"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "outcome" {
				byOutcome[l.GetValue()] = m.GetGauge().GetValue()
			}
		}
	}
	want := map[string]float64{"pass": 2, "fail": 1, "timeout": 1, "skip": 1, "error": 1, "waived": 1}
	for k, v := range want {
		if byOutcome[k] != v {
			t.Errorf("checks{outcome=%q} = %v, want %v", k, byOutcome[k], v)
		}
	}
	if got := mfs["cgoguard_checklist_skip_ratio"].GetMetric()[0].GetGauge().GetValue(); got != 1.0/7 {
		t.Errorf("skip ratio %v", got)
	}
	if got := mfs["cgoguard_checklist_failure_ratio"].GetMetric()[0].GetGauge().GetValue(); got != 3.0/7 {
		t.Errorf("failure ratio %v", got)
	}
	h := mfs["cgoguard_checklist_check_duration_seconds"].GetMetric()[0].GetHistogram()
	if h.GetSampleCount() != 6 {
		t.Errorf("histogram count %d, want 6 (skips are not timed)", h.GetSampleCount())
	}
}

func TestParseOutput(t *testing.T) {
	tests := []struct {
		in      string
		want    report.Output
		wantErr error
	}{
		{"junit=out/j.xml", report.Output{Format: "junit", Path: "out/j.xml"}, nil},
		{"json", report.Output{Format: "json", Path: "-"}, nil},
		{"html=x", report.Output{}, report.ErrUnknownFormat},
		{"=x", report.Output{}, nil},
		{"txt=r.txt", report.Output{Format: "text", Path: "r.txt"}, nil},
		{"txt", report.Output{Format: "text", Path: "-"}, nil},
	}
	for _, tt := range tests {
		got, err := report.ParseOutput(tt.in)
		switch {
		case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
			t.Errorf("%q: err %v, want %v", tt.in, err, tt.wantErr)
		case tt.want == (report.Output{}) && err == nil:
			t.Errorf("%q: no error", tt.in)
		case tt.want != (report.Output{}) && (err != nil || got != tt.want):
			t.Errorf("%q: %+v, %v", tt.in, got, err)
		}
	}
}

// TestParseOutputIn checks the FORMAT[=PATH] syntax against a command's
// own formats, the txt alias, and the list of accepted formats in the
// error.
func TestParseOutputIn(t *testing.T) {
	formats := []string{"json", "text"}
	tests := []struct {
		in      string
		want    report.Output
		wantErr string
	}{
		{"json=c.json", report.Output{Format: "json", Path: "c.json"}, ""},
		{"json", report.Output{Format: "json", Path: "-"}, ""},
		{"text=-", report.Output{Format: "text", Path: "-"}, ""},
		{"txt=c.txt", report.Output{Format: "text", Path: "c.txt"}, ""},
		{"txt", report.Output{Format: "text", Path: "-"}, ""},
		{"yaml=x", report.Output{}, `cgoguard: unknown report format "yaml" (known: json, text (or txt))`},
		{"sarif", report.Output{}, `cgoguard: unknown report format "sarif" (known: json, text (or txt))`},
		{"json=", report.Output{}, `cgoguard: output "json=" is not FORMAT=PATH`},
		{"=x", report.Output{}, `cgoguard: output "=x" is not FORMAT=PATH`},
	}
	for _, tt := range tests {
		got, err := report.ParseOutputIn(tt.in, formats)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("%q: err %v, want %s", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	if _, err := report.ParseOutputIn("yaml", formats); !errors.Is(err, report.ErrUnknownFormat) {
		t.Errorf("unknown format: %v does not wrap ErrUnknownFormat", err)
	}
}

// TestLookupAlias checks that an alias finds its format.
func TestLookupAlias(t *testing.T) {
	if got, want := report.CanonicalFormat("txt"), "text"; got != want {
		t.Errorf("CanonicalFormat(txt) = %q, want %q", got, want)
	}
	if got := report.CanonicalFormat("json"); got != "json" {
		t.Errorf("CanonicalFormat(json) = %q", got)
	}
	if _, err := report.Lookup("txt"); err != nil {
		t.Errorf("Lookup(txt): %v", err)
	}
}

func ExampleLookup() {
	f, err := report.Lookup("junit")
	if err != nil {
		panic(err)
	}
	res := &checklist.Result{Checklist: "demo", Checks: []checklist.CheckResult{{ID: "A", Title: "a", Outcome: checklist.Pass}}}
	_ = f.Write(os.Stdout, res)
	// Output:
	// <?xml version="1.0" encoding="UTF-8"?>
	// <testsuites name="demo" tests="1" failures="0" errors="0" skipped="0" time="0.000">
	//   <testsuite name="demo" tests="1" failures="0" errors="0" skipped="0" time="0.000" timestamp="0001-01-01T00:00:00">
	//     <testcase name="A: a" classname="demo" time="0.000">
	//       <system-out><![CDATA[outcome: pass
	// attempts: 0
	// duration: 0.000s
	// ]]></system-out>
	//     </testcase>
	//   </testsuite>
	// </testsuites>
}
