package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

var (
	textDur   = regexp.MustCompile(`\b\d+(\.\d+)?(ns|µs|ms|s|m\d+s|m0s)\b`)
	jsonDur   = regexp.MustCompile(`"(duration_seconds|elapsed_seconds)": [0-9.e-]+`)
	jsonStart = regexp.MustCompile(`"started": "[^"]+"`)
	durPad    = regexp.MustCompile(`<dur> {2,}`)
	timeHead  = regexp.MustCompile(`TIME +TITLE`)
)

// normalize removes what changes from run to run: durations and times.
func normalize(s string) string {
	s = jsonDur.ReplaceAllString(s, `"$1": 0`)
	s = jsonStart.ReplaceAllString(s, `"started": "T"`)
	s = textDur.ReplaceAllString(s, "<dur>")
	// The table's column widths follow the durations: fix them too.
	s = durPad.ReplaceAllString(s, "<dur>  ")
	s = timeHead.ReplaceAllString(s, "TIME  TITLE")
	return s
}

// TestCheckGolden runs `cgoguard check` in-process; golden files are named
// <case>.exit<code>.<stream>.golden.
func TestCheckGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
		exit int
	}{
		{"mixed-text", []string{"-f", "testdata/check/mixed.yaml", "-q"}, checkExitFailed},
		{"mixed-json-prod", []string{"-f", "testdata/check/mixed.yaml", "-q", "--env", "prod", "-o", "json=-"}, checkExitFailed},
		{"passing-text", []string{"-f", "testdata/check/passing.yaml", "-q"}, checkExitPassed},
		{"two-files-list", []string{"-f", "testdata/check/passing.yaml", "-f", "testdata/check/mixed.yaml", "-list"}, checkExitPassed},
		{"invalid", []string{"-f", "testdata/check/invalid.yaml"}, checkExitUsage},
		{"badwith", []string{"-f", "testdata/check/badwith.yaml"}, checkExitUsage},
		{"cycle", []string{"-f", "testdata/check/cycle.yaml"}, checkExitUsage},
		{"unknown-env", []string{"-f", "testdata/check/mixed.yaml", "--env", "staging"}, checkExitUsage},
		{"unknown-format", []string{"-o", "html=x.html"}, checkExitUsage},
		{"duplicate-ids", []string{"-f", "testdata/check/mixed.yaml", "-f", "testdata/check/mixed.yaml"}, checkExitUsage},
		{"shipped-list", []string{"-list"}, checkExitPassed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"check"}, tt.args...), &stdout, &stderr)
			if code != tt.exit {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.exit, stdout.String(), stderr.String())
			}
			for stream, out := range map[string]string{"stdout": stdout.String(), "stderr": stderr.String()} {
				path := filepath.Join("testdata", "check", fmt.Sprintf("%s.exit%d.%s.golden", tt.name, tt.exit, stream))
				got := normalize(out)
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
					t.Fatalf("%v (run go test ./cmd/cgoguard -update)", err)
				}
				if got != string(want) {
					t.Errorf("%s differs from %s (run go test ./cmd/cgoguard -run TestCheckGolden -update):\n%s", stream, path, got)
				}
			}
		})
	}
}

func TestCheckWritesOutputs(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	args := []string{"check", "-f", "testdata/check/mixed.yaml",
		"-o", "junit=" + filepath.Join(dir, "sub", "junit.xml"), "-o", "sarif=" + filepath.Join(dir, "out.sarif"),
		"-o", "prometheus=" + filepath.Join(dir, "check.prom"), "-o", "json=" + filepath.Join(dir, "out.json"),
		"-o", "txt=" + filepath.Join(dir, "out.txt")}
	if code := run(args, &stdout, &stderr); code != checkExitFailed {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, f := range []string{"sub/junit.xml", "out.sarif", "check.prom", "out.json", "out.txt"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Size() == 0 || st.Mode().Perm() != 0o644 {
			t.Errorf("%s: %v %v", f, st, err)
		}
	}
	// Progress lines went to stderr, one per check.
	if n := strings.Count(stderr.String(), "\n"); n != 6 || !strings.Contains(stderr.String(), "[6/6]") {
		t.Errorf("progress:\n%s", stderr.String())
	}
	// The secret printed by FAILS is redacted in every output.
	for _, f := range []string{"sub/junit.xml", "out.sarif", "out.json", "out.txt"} {
		data, _ := os.ReadFile(filepath.Join(dir, f))
		if bytes.Contains(data, []byte("abc123")) {
			t.Errorf("%s holds the secret", f)
		}
	}
	if strings.Contains(stdout.String(), "abc123") {
		t.Error("text report holds the secret")
	}
}

// buildCgoguard builds the command once into a temporary directory.
func buildCgoguard(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cgoguard")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestCheckInterrupt sends SIGINT to a running `cgoguard check`: it exits
// 130 and leaves no child running.
func TestCheckInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	bin := buildCgoguard(t)
	pidfile := filepath.Join(t.TempDir(), "pid")
	cmd := exec.Command(bin, "check", "-f", "testdata/check/interrupt.yaml", "-var", "PIDFILE="+pidfile)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	for range 500 {
		b, _ := os.ReadFile(pidfile)
		if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			pid = p
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if pid == 0 {
		_ = cmd.Process.Kill()
		t.Fatalf("child never started:\n%s", out.String())
	}
	_ = cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != checkExitInterrupted {
		t.Fatalf("exit %v, want %d\n%s", err, checkExitInterrupted, out.String())
	}
	// The child was SIGKILLed; give it a moment to finish dying.
	for i := 0; ; i++ {
		stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		f := strings.Fields(string(stat))
		if syscall.Kill(pid, 0) != nil || len(f) < 3 || f[2] == "Z" {
			break
		}
		if i == 500 {
			t.Fatalf("child %d still running after Ctrl-C", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "INTERRUPTED") {
		t.Errorf("report does not say it was interrupted:\n%s", out.String())
	}
}

type jsonResult struct {
	Checks []struct {
		ID       string `json:"id"`
		Outcome  string `json:"outcome"`
		Message  string `json:"message"`
		Evidence struct {
			Stdout string `json:"stdout"`
			Stderr string `json:"stderr"`
		} `json:"evidence"`
		Findings []struct {
			Rule string `json:"rule"`
			File string `json:"file"`
		} `json:"findings"`
	} `json:"checks"`
	Counts map[string]int `json:"counts"`
}

// TestCheckExamples is the main job: the shipped checklist on ./examples/...
// finds the planted hazards and passes the clean service.
func TestCheckExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the shipped checklist on the examples")
	}
	if os.Getenv("CGOGUARD_CHECK") != "" {
		// Inside a checklist run (the project's dogfood) this would run the
		// whole checklist again under that run's flags.
		t.Skip("already inside cgoguard check")
	}
	bin := buildCgoguard(t)
	dir := t.TempDir()
	jsonPath := filepath.Join(dir, "report.json")
	cmd := exec.Command(bin, "check", "-o", "json="+jsonPath, "-o", "sarif="+filepath.Join(dir, "report.sarif"), "./examples/...")
	cmd.Dir = filepath.Join("..", "..")
	// The checklist sets its own flags per check; an inherited experiment
	// or GOFLAGS would change every check's result.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOEXPERIMENT=") && !strings.HasPrefix(kv, "GOFLAGS=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != checkExitFailed {
		t.Fatalf("exit %v, want %d\n%s\n%s", err, checkExitFailed, stdout.String(), stderr.String())
	}
	text := stdout.String()
	t.Logf("report:\n%s", text)
	for _, want := range []string{"cgo-reliability: 32 checks", "ID           OUTCOME", "FAILED: "} {
		if !strings.Contains(text, want) {
			t.Errorf("text report lacks %q", want)
		}
	}
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var res jsonResult
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for i, c := range res.Checks {
		got[c.ID] = i
	}
	type want struct {
		outcome string
		message []string // substrings of message or evidence
	}
	wants := map[string]want{
		// The clean parts pass.
		"CG-BUILD-01": {"pass", nil},
		"CG-BUILD-02": {"pass", nil},
		"CG-BUILD-03": {"pass", nil},
		"CG-OBS-01":   {"pass", []string{"/healthz: 200"}},
		"CG-OBS-02":   {"pass", []string{"/readyz: 200"}},
		"CG-OBS-03":   {"pass", []string{"cgoguard_calls_total = "}},
		// The planted hazards are found, each by its check, and only there.
		"CG-BUILD-05": {"fail", []string{"examples/hazards: #cgo CFLAGS \"-O2\""}},
		"CG-BUILD-06": {"fail", []string{"examples/hazards.TestCountConcurrently", "WARNING: DATA RACE", "ok   github.com/cgoguard/cgoguard/examples/service"}},
		"CG-BUILD-07": {"fail", []string{"examples/hazards.TestRegisterCallback", "Go pointer stored into non-Go memory"}},
		"CG-MEM-05":   {"fail", []string{"leakcheck:   c-heap", "LEAK", "TestLeakHeapGreet"}},
		"CG-MEM-06":   {"fail", []string{"leakcheck: fd: 100 new (1.00 per iteration): descriptor to /dev/null"}},
		"CG-CRASH-01": {"fail", []string{"examples/hazards/hazards.c:12: strcpy("}},
		"CG-CRASH-02": {"fail", []string{"examples/hazards/hazards.c:", "abort();"}},
		"CG-SIG-02":   {"fail", []string{"examples/hazards/hazards_cgo.go:", "signal.Ignore(syscall.SIGABRT)"}},
	}
	for id, w := range wants {
		i, ok := got[id]
		if !ok {
			t.Errorf("%s missing from the report", id)
			continue
		}
		c := res.Checks[i]
		if c.Outcome != w.outcome {
			t.Errorf("%s: %s (%s), want %s", id, c.Outcome, c.Message, w.outcome)
			continue
		}
		all := c.Message + "\n" + c.Evidence.Stdout + "\n" + c.Evidence.Stderr
		for _, s := range w.message {
			if !strings.Contains(all, s) {
				t.Errorf("%s: message/evidence lacks %q:\n%s", id, s, all)
			}
		}
		if w.outcome == "fail" && strings.Contains(c.Message, "examples/service") {
			t.Errorf("%s blames the clean service: %s", id, c.Message)
		}
	}
	// vet checks: with the vet command in this build they run and the
	// planted C.CString leak is found; without it they are errors that say so.
	_, haveVet := commands["vet"]
	for _, c := range res.Checks {
		if !strings.HasPrefix(c.ID, "CG-PTR") && !strings.HasPrefix(c.ID, "CG-CLN") && !strings.HasPrefix(c.ID, "CG-THR") &&
			!strings.HasPrefix(c.ID, "CG-ERR") && c.ID != "CG-SIG-01" && !(strings.HasPrefix(c.ID, "CG-MEM-0") && c.ID != "CG-MEM-05" && c.ID != "CG-MEM-06") {
			continue
		}
		switch {
		case haveVet && c.Outcome == "error":
			t.Errorf("%s: vet is built in but the check errored: %s", c.ID, c.Message)
		case !haveVet && (c.Outcome != "error" || !strings.Contains(c.Message, "vet")):
			t.Errorf("%s: %s (%s), want an error naming the missing vet command", c.ID, c.Outcome, c.Message)
		}
	}
	if haveVet {
		c := res.Checks[got["CG-MEM-01"]]
		found := false
		for _, f := range c.Findings {
			found = found || (f.Rule == "CG013" && strings.Contains(f.File, "examples/hazards"))
			if strings.Contains(f.File, "examples/service") {
				t.Errorf("CG-MEM-01 flags the clean service: %+v", f)
			}
		}
		if c.Outcome != "fail" || !found {
			t.Errorf("CG-MEM-01: %s, findings %+v: the planted C.CString leak was not found", c.Outcome, c.Findings)
		}
	}
	sarifData, err := os.ReadFile(filepath.Join(dir, "report.sarif"))
	if err != nil || !bytes.Contains(sarifData, []byte(`"version": "2.1.0"`)) {
		t.Errorf("sarif: %v", err)
	}
}
