package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var tmpPath = regexp.MustCompile(`/tmp/[^ \n]*/`)

// TestChaosGolden runs `cgoguard chaos` in-process; golden files are
// testdata/chaos/<case>.exit<code>.<stream>.golden.
func TestChaosGolden(t *testing.T) {
	metrics := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "# TYPE temperature gauge\ntemperature 21")
	}))
	defer metrics.Close()
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	tests := []struct {
		name string
		args []string
		exit int
	}{
		{"usage", nil, chaosExitUsage},
		{"help", []string{"help"}, chaosExitPassed},
		{"unknown-subcommand", []string{"explode"}, chaosExitUsage},
		{"run-no-files", []string{"run"}, chaosExitUsage},
		{"run-invalid", []string{"run", "testdata/chaos/invalid.yaml"}, chaosExitUsage},
		{"run-missing-file", []string{"run", "testdata/chaos/nope.yaml"}, chaosExitUsage},
		{"run-bad-output", []string{"run", "-o", "pdf=x.pdf", "testdata/chaos/command.yaml"}, chaosExitUsage},
		{"run-bad-var", []string{"run", "-var", "NOVALUE", "testdata/chaos/command.yaml"}, chaosExitUsage},
		{"run-no-match", []string{"run", "-var", "METRICS=http://x", "-run", "^zzz$", "testdata/chaos/command.yaml"}, chaosExitUsage},
		{"run-list-shipped", []string{"run", "-list", "../../chaos/experiments/service.yaml"}, chaosExitPassed},
		{"run-command", []string{"run", "-q", "--journal", journal, "-var", "METRICS=" + metrics.URL, "testdata/chaos/command.yaml"}, chaosExitFailed},
		{"run-command-held", []string{"run", "-q", "--journal", journal, "-var", "METRICS=" + metrics.URL, "-run", "harmless", "testdata/chaos/command.yaml"}, chaosExitPassed},
		{"cleanup-nothing", []string{"cleanup", "--journal", journal}, chaosExitPassed},
		{"cleanup-extra-args", []string{"cleanup", "now"}, chaosExitUsage},
		{"run-bad-report-to", []string{"run", "--report-to", "hub:8420", "testdata/chaos/command.yaml"}, chaosExitUsage},
		{"run-repo-without-report-to", []string{"run", "--repo", "x", "testdata/chaos/command.yaml"}, chaosExitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"chaos"}, tt.args...), &stdout, &stderr)
			if code != tt.exit {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.exit, stdout.String(), stderr.String())
			}
			for stream, out := range map[string]string{"stdout": stdout.String(), "stderr": stderr.String()} {
				path := filepath.Join("testdata", "chaos", fmt.Sprintf("%s.exit%d.%s.golden", tt.name, tt.exit, stream))
				got := normalize(tmpPath.ReplaceAllString(out, "/tmp/X/"))
				if *update {
					if got == "" {
						os.Remove(path)
						continue
					}
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil && got != "" {
					t.Fatalf("%v (run go test ./cmd/cgoguard -run TestChaosGolden -update)", err)
				}
				if got != string(want) {
					t.Errorf("%s differs from %s (run go test ./cmd/cgoguard -run TestChaosGolden -update):\n%s", stream, path, got)
				}
			}
		})
	}
}

// TestChaosOutputs writes every report format of one run to files.
func TestChaosOutputs(t *testing.T) {
	metrics := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "temperature 21")
	}))
	defer metrics.Close()
	dir := t.TempDir()
	args := []string{"chaos", "run", "--journal", filepath.Join(dir, "j.jsonl"), "-var", "METRICS=" + metrics.URL, "-run", "harmless"}
	for _, f := range []string{"text", "json", "junit", "html", "checklist"} {
		args = append(args, "-o", f+"="+filepath.Join(dir, "sub", "report."+f))
	}
	args = append(args, "testdata/chaos/command.yaml")
	var stdout, stderr bytes.Buffer
	if code := run(args, &stdout, &stderr); code != chaosExitPassed {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	// Progress lines on stderr; the text report still on stdout.
	if !strings.Contains(stderr.String(), "cgoguard chaos: [1/1] harmless: injected") || !strings.Contains(stdout.String(), "VERDICT") {
		t.Errorf("stderr:\n%s\nstdout:\n%s", stderr.String(), stdout.String())
	}
	for _, f := range []string{"text", "json", "junit", "html", "checklist"} {
		data, err := os.ReadFile(filepath.Join(dir, "sub", "report."+f))
		if err != nil || len(data) == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	// The checklist form is what the checklist tools read.
	data, _ := os.ReadFile(filepath.Join(dir, "sub", "report.checklist"))
	var cl struct {
		Checklist string `json:"checklist"`
		Passed    bool   `json:"passed"`
		Checks    []struct {
			ID, Kind, Outcome string
		} `json:"checks"`
	}
	if err := json.Unmarshal(data, &cl); err != nil || !cl.Passed || len(cl.Checks) != 1 || cl.Checks[0].ID != "harmless" || cl.Checks[0].Kind != "chaos" || cl.Checks[0].Outcome != "pass" {
		t.Errorf("checklist form %+v, %v\n%s", cl, err, data)
	}
}

// TestChaosReportTo sends a chaos run to a hub: it is stored as a
// checklist run with one check per experiment.
func TestChaosReportTo(t *testing.T) {
	srv, st, tok := hubServer(t)
	t.Setenv("CGOGUARD_HUB_TOKEN", tok)
	t.Setenv("CGOGUARD_HUB_SPOOL", t.TempDir())
	metrics := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "temperature 21")
	}))
	defer metrics.Close()
	code, _, errOut := runCmd("chaos", "run", "-q", "--journal", filepath.Join(t.TempDir(), "j.jsonl"), "-var", "METRICS="+metrics.URL,
		"--report-to", srv.URL, "--repo", "org/chaos", "--branch", "main", "testdata/chaos/command.yaml")
	if code != chaosExitFailed {
		t.Fatalf("exit %d, want the run's %d\n%s", code, chaosExitFailed, errOut)
	}
	runs := allRuns(t, st)
	if len(runs) != 1 || !strings.Contains(errOut, "stored: "+srv.URL+"/runs/"+runs[0].ID) {
		t.Fatalf("runs %+v\n%s", runs, errOut)
	}
	r, err := st.Run(t.Context(), runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Checklist != "chaos: testdata/chaos/command.yaml" || r.Context.Repo != "org/chaos" || r.Outcome != "fail" || len(r.Checks) != 3 {
		t.Fatalf("stored run %+v", r.RunSummary)
	}
	got := map[string]string{}
	for _, c := range r.Checks {
		got[c.ID] = c.Kind + "/" + string(c.Outcome)
	}
	want := map[string]string{"harmless": "chaos/pass", "never-steady": "chaos/error", "inject-fails": "chaos/error"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("check %s: %s, want %s (all: %v)", k, got[k], v, got)
		}
	}
}

// TestChaosFlagsAfterFiles: flags after the files are honoured as before
// them, and "--" ends the flags (a file after it may start with '-').
func TestChaosFlagsAfterFiles(t *testing.T) {
	metrics := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "temperature 21")
	}))
	defer metrics.Close()
	data, err := os.ReadFile("testdata/chaos/command.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// A file whose name starts with '-', reachable only after "--".
	dash := t.TempDir()
	if err := os.WriteFile(filepath.Join(dash, "-exp.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	const file = "testdata/chaos/command.yaml"
	tests := []struct {
		name string
		dir  string // working directory; "" = this one
		args func(dir string) []string
	}{
		{"flags-after-file", "", func(dir string) []string {
			return []string{file, "-q", "--journal", filepath.Join(dir, "j.jsonl"), "-var", "METRICS=" + metrics.URL, "-run", "harmless", "-o", "json=" + filepath.Join(dir, "out.json")}
		}},
		{"flags-around-file", "", func(dir string) []string {
			return []string{"-q", "--journal", filepath.Join(dir, "j.jsonl"), file, "-var=METRICS=" + metrics.URL, "--run", "harmless", "-o", "json=" + filepath.Join(dir, "out.json")}
		}},
		{"dash-dash", dash, func(dir string) []string {
			return []string{"-q", "--journal", filepath.Join(dir, "j.jsonl"), "-var", "METRICS=" + metrics.URL, "-run", "harmless", "-o", "json=" + filepath.Join(dir, "out.json"), "--", "-exp.yaml"}
		}},
		{"flag-value-is-dash-dash", "", func(dir string) []string {
			// "--" as the value of a flag is a value, not the end of the flags.
			return []string{file, "-var", "--", "-q", "--journal", filepath.Join(dir, "j.jsonl"), "-var", "METRICS=" + metrics.URL, "-run", "harmless", "-o", "json=" + filepath.Join(dir, "out.json")}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.dir != "" {
				t.Chdir(tt.dir)
			}
			var stdout, stderr bytes.Buffer
			args := append([]string{"chaos", "run"}, tt.args(dir)...)
			code := run(args, &stdout, &stderr)
			if tt.name == "flag-value-is-dash-dash" {
				// -var -- is not NAME=VALUE: a usage error, proving "--" was read as its value.
				if code != chaosExitUsage || !strings.Contains(stderr.String(), `-var "--" is not NAME=VALUE`) {
					t.Fatalf("exit %d\n%s", code, stderr.String())
				}
				return
			}
			if code != chaosExitPassed {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, chaosExitPassed, stdout.String(), stderr.String())
			}
			out, err := os.ReadFile(filepath.Join(dir, "out.json"))
			if err != nil {
				t.Fatalf("the -o after the file was not honoured: %v", err)
			}
			if !strings.Contains(string(out), `"harmless"`) || strings.Contains(string(out), "never-steady") {
				t.Errorf("report does not hold only the -run selection:\n%s", out)
			}
			if stderr.Len() != 0 {
				t.Errorf("-q not honoured, stderr:\n%s", stderr.String())
			}
		})
	}
	// --report-to after the file is read (its bad URL is a usage error).
	{
		var stdout, stderr bytes.Buffer
		code := run([]string{"chaos", "run", file, "-o", "json=" + filepath.Join(t.TempDir(), "out.json"), "--report-to", "hub:8420"}, &stdout, &stderr)
		if code != chaosExitUsage || !strings.Contains(stderr.String(), `hub URL "hub:8420"`) {
			t.Errorf("--report-to after the file: exit %d\n%s", code, stderr.String())
		}
	}
	// cleanup: flags after an argument are parsed; extra arguments are still refused.
	var stdout, stderr bytes.Buffer
	j := filepath.Join(t.TempDir(), "j.jsonl")
	if code := run([]string{"chaos", "cleanup", "--", "--journal", j}, &stdout, &stderr); code != chaosExitUsage {
		t.Errorf("cleanup -- --journal: exit %d, want %d (after -- it is an argument)", code, chaosExitUsage)
	}
	stdout.Reset()
	if code := run([]string{"chaos", "cleanup", "--force", "--journal", j}, &stdout, &stderr); code != chaosExitPassed || !strings.Contains(stdout.String(), j) {
		t.Errorf("cleanup: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
}
