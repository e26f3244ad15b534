package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/cgoguard/cgoguard/probe"
)

// TestProbeGolden covers the runs of cgoguard probe that end before
// anything is attached. Refresh with -update.
func TestProbeGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"no-pid", nil, 2},
		{"zero-pid", []string{"--pid", "0"}, 2},
		{"extra-arg", []string{"--pid", "1", "now"}, 2},
		{"bad-output", []string{"--pid", "1", "-o", "yaml=x"}, 2},
		{"empty-output-path", []string{"--pid", "1", "-o", "json="}, 2},
		// Accepted outputs get as far as the missing process (exit 4).
		{"txt-output", []string{"--pid", "4194303", "--func", "inflate", "-o", "txt=x.txt"}, 4},
		{"bare-output", []string{"--pid", "4194303", "--func", "inflate", "-o", "json"}, 4},
		{"bad-module", []string{"--pid", "1", "--module", "zlib"}, 2},
		{"bad-glob", []string{"--pid", "1", "--func", "inflate["}, 2},
		{"bad-duration", []string{"--pid", "1", "--duration", "-1s"}, 2},
		{"no-process", []string{"--pid", "4194303", "--func", "inflate"}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"probe"}, tt.args...), &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, stderr.String())
			}
			got := stdout.String() + "--- stderr\n" + stderr.String()
			golden := filepath.Join("testdata", "probe", fmt.Sprintf("%s.exit%d.text.golden", tt.name, tt.code))
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./cmd/cgoguard -run TestProbeGolden -update)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s:\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
		})
	}
}

// TestProbeNotPermitted runs cgoguard probe as an unprivileged user against
// a process of that user: it must exit 4 with a message that says what is
// missing, and no Go stack trace.
func TestProbeNotPermitted(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the probe as another user")
	}
	const nobody = 65534
	dir, err := os.MkdirTemp("", "cgoguard-probe-perm-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "cgoguard")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cred := &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	target := exec.Command("sleep", "60")
	target.SysProcAttr = cred
	if err := target.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { target.Process.Kill(); target.Wait() }()
	cmd := exec.Command(bin, "probe", "--pid", fmt.Sprint(target.Process.Pid), "--func", "libc.so*:clock_nanosleep", "--duration", "1s")
	cmd.SysProcAttr = cred
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	code := cmd.ProcessState.ExitCode()
	if code != 4 {
		t.Fatalf("exit %d (%v), want 4; stderr:\n%s", code, err, stderr.String())
	}
	msg := stderr.String()
	for _, want := range []string{"not permitted", "CAP_BPF", "CAP_PERFMON"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	for _, bad := range []string{"goroutine ", "panic", ".go:"} {
		if strings.Contains(msg, bad) {
			t.Errorf("message holds %q, a stack trace:\n%s", bad, msg)
		}
	}
	t.Logf("as nobody: exit 4, %s", strings.TrimSpace(msg))
}

// TestProbeEndToEnd runs cgoguard probe against a cgo program that calls
// tr_work exactly N times on several threads: the Prometheus endpoint, the
// JSON and text outputs and the trace all count N calls, and SIGTERM ends
// the run with exit 0.
func TestProbeEndToEnd(t *testing.T) {
	const calls = 2000
	dir := t.TempDir()
	bin := buildCgoguard(t)
	tracee := filepath.Join(dir, "tracee")
	if out, err := exec.Command("go", "build", "-o", tracee, "../../probe/testdata/tracee").CombinedOutput(); err != nil {
		t.Fatalf("go build tracee: %v\n%s", err, out)
	}
	tr := exec.Command(tracee, "-mode", "count", "-calls", fmt.Sprint(calls), "-threads", "4")
	trIn, _ := tr.StdinPipe()
	trOut, _ := tr.StdoutPipe()
	if err := tr.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { trIn.Close(); tr.Process.Kill(); tr.Wait() }()
	trLines := bufio.NewScanner(trOut)
	trLines.Scan() // ready PID

	jsonOut, textOut, traceOut := filepath.Join(dir, "out.json"), filepath.Join(dir, "out.txt"), filepath.Join(dir, "trace.json")
	cmd := exec.Command(bin, "probe", "--pid", fmt.Sprint(tr.Process.Pid), "--func", "tr_work",
		"--listen", "127.0.0.1:0", "-o", "json="+jsonOut, "-o", "text="+textOut, "--trace", traceOut)
	stderr, _ := cmd.StderrPipe()
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	errLines := bufio.NewScanner(stderr)
	var addr string
	var errText strings.Builder
	for addr == "" && errLines.Scan() {
		l := errLines.Text()
		errText.WriteString(l + "\n")
		if strings.Contains(l, "not permitted") || strings.Contains(l, "not supported") {
			cmd.Wait()
			skipOrFailNotPermitted(t, l)
		}
		if a, ok := strings.CutPrefix(l, "cgoguard probe: listening on "); ok {
			addr = a
		}
	}
	if addr == "" {
		t.Fatalf("no listening line; stderr:\n%s", errText.String())
	}
	go io.Copy(&errText, stderr)

	io.WriteString(trIn, "go\n")
	for trLines.Scan() && trLines.Text() != "done" {
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		fmt.Sprintf(`cgoguard_probe_calls_total{function="tr_work",module=""} %d`, calls),
		fmt.Sprintf(`cgoguard_probe_duration_seconds_count{function="tr_work",module=""} %d`, calls),
		fmt.Sprintf(`cgoguard_probe_errors_total{function="tr_work",module=""} %d`, (calls+6)/7),
		`cgoguard_probe_threads{function="tr_work",module=""} 4`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %q:\n%s", want, grepLines(string(metrics), "cgoguard_probe"))
		}
	}

	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("probe: %v\n%s", err, errText.String())
	}
	var snap probe.Snapshot
	data, err := os.ReadFile(jsonOut)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &snap); err != nil {
		t.Fatal(err)
	}
	if len(snap.Functions) != 1 || snap.Functions[0].Calls != calls || snap.Functions[0].HistogramTotal() != calls || len(snap.Functions[0].Threads) != 4 {
		t.Errorf("json output: %s", data)
	}
	text, _ := os.ReadFile(textOut)
	if !regexp.MustCompile(`(?m)^-\s+tr_work\s+tracee\s+2000\s`).Match(text) {
		t.Errorf("text output lacks the tr_work row:\n%s", text)
	}
	if !bytes.Equal(text, stdout.Bytes()) {
		t.Errorf("the table on stdout differs from -o text:\n%s\n---\n%s", stdout.String(), text)
	}
	var tf struct {
		TraceEvents []struct {
			Name string  `json:"name"`
			Ph   string  `json:"ph"`
			Tid  int     `json:"tid"`
			Ts   float64 `json:"ts"`
			Dur  float64 `json:"dur"`
		} `json:"traceEvents"`
		OtherData map[string]any `json:"otherData"`
	}
	data, err = os.ReadFile(traceOut)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &tf); err != nil {
		t.Fatalf("trace is not JSON: %v", err)
	}
	n, tids := 0, map[int]bool{}
	for _, e := range tf.TraceEvents {
		if e.Ph == "X" && e.Name == "tr_work" {
			n++
			tids[e.Tid] = true
			if e.Dur <= 0 || e.Ts <= 0 {
				t.Errorf("event %+v", e)
			}
		}
	}
	if n != calls || len(tids) != 4 {
		t.Errorf("trace holds %d tr_work intervals on %d threads, want %d on 4", n, len(tids), calls)
	}
	if _, ok := tf.OtherData["ktime_minus_go_monotonic_ns"]; !ok {
		t.Errorf("trace otherData lacks the clock offset: %v", tf.OtherData)
	}
}

// buildTracee builds probe/testdata/tracee into dir.
func buildTracee(t *testing.T, dir string) string {
	t.Helper()
	tracee := filepath.Join(dir, "tracee")
	if out, err := exec.Command("go", "build", "-o", tracee, "../../probe/testdata/tracee").CombinedOutput(); err != nil {
		t.Fatalf("go build tracee: %v\n%s", err, out)
	}
	return tracee
}

// probeSession starts the tracee with traceeArgs and cgoguard probe on it
// with probeArgs, lets the tracee make its calls once the probe has
// attached, stops the probe with SIGTERM and returns its standard output.
func probeSession(t *testing.T, bin, tracee string, traceeArgs []string, probeArgs ...string) string {
	t.Helper()
	tr := exec.Command(tracee, traceeArgs...)
	trIn, _ := tr.StdinPipe()
	trOut, _ := tr.StdoutPipe()
	if err := tr.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { trIn.Close(); tr.Process.Kill(); tr.Wait() }()
	trLines := bufio.NewScanner(trOut)
	trLines.Scan() // ready PID

	cmd := exec.Command(bin, append([]string{"probe", "--pid", fmt.Sprint(tr.Process.Pid)}, probeArgs...)...)
	stderr, _ := cmd.StderrPipe()
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	errLines := bufio.NewScanner(stderr)
	var errText strings.Builder
	attached := false
	for !attached && errLines.Scan() {
		l := errLines.Text()
		errText.WriteString(l + "\n")
		if strings.Contains(l, "not permitted") || strings.Contains(l, "not supported") {
			cmd.Wait()
			skipOrFailNotPermitted(t, l)
		}
		attached = strings.HasPrefix(l, "cgoguard probe: attached to ")
	}
	if !attached {
		cmd.Wait()
		t.Fatalf("no attached line; stderr:\n%s", errText.String())
	}
	done := make(chan struct{})
	go func() { io.Copy(&errText, stderr); close(done) }()
	io.WriteString(trIn, "go\n")
	for trLines.Scan() && trLines.Text() != "done" {
	}
	cmd.Process.Signal(syscall.SIGTERM)
	<-done
	if err := cmd.Wait(); err != nil {
		t.Fatalf("probe: %v\n%s", err, errText.String())
	}
	return stdout.String()
}

// TestProbeOutputForms checks the FORMAT[=PATH] forms of -o, as cgoguard
// check takes them: txt=PATH is text=PATH, and a bare json writes the
// final counts to standard output (which then gets no table).
func TestProbeOutputForms(t *testing.T) {
	const calls = 300
	dir := t.TempDir()
	bin := buildCgoguard(t)
	tracee := buildTracee(t, dir)
	textOut := filepath.Join(dir, "out.txt")
	stdout := probeSession(t, bin, tracee, []string{"-mode", "count", "-calls", fmt.Sprint(calls), "-threads", "2"},
		"--func", "tr_work", "-o", "json", "-o", "txt="+textOut)
	var snap probe.Snapshot
	if err := json.Unmarshal([]byte(stdout), &snap); err != nil {
		t.Fatalf("standard output is not the JSON counts alone (%v):\n%s", err, stdout)
	}
	if len(snap.Functions) != 1 || snap.Functions[0].Calls != calls {
		t.Errorf("-o json counts: %s", stdout)
	}
	text, err := os.ReadFile(textOut)
	if err != nil {
		t.Fatalf("-o txt=PATH wrote nothing: %v", err)
	}
	if !regexp.MustCompile(fmt.Sprintf(`(?m)^-\s+tr_work\s+tracee\s+%d\s`, calls)).Match(text) {
		t.Errorf("-o txt=PATH lacks the tr_work row:\n%s", text)
	}
}

// TestProbeModules checks the module labels: --module NAME=GLOB names the
// functions it matches whatever calls them, and a function matched by
// --func alone takes the module of the guarded call it runs in, from the
// process's status file.
func TestProbeModules(t *testing.T) {
	const calls = 200
	dir := t.TempDir()
	bin := buildCgoguard(t)
	tracee := buildTracee(t, dir)
	stdout := probeSession(t, bin, tracee, []string{"-mode", "guarded", "-calls", fmt.Sprint(calls), "-threads", "2"},
		"--module", "mine=tr_inn*,tr_nothing", "--func", "tr_guard*", "-o", "json")
	var snap probe.Snapshot
	if err := json.Unmarshal([]byte(stdout), &snap); err != nil {
		t.Fatalf("standard output is not JSON (%v):\n%s", err, stdout)
	}
	got := map[string]string{}
	for _, f := range snap.Functions {
		if f.Calls != calls {
			t.Errorf("%s: %d calls, want %d", f.Function, f.Calls, calls)
		}
		got[f.Function] = f.Module
	}
	if want := map[string]string{"tr_inner": "mine", "tr_guarded": "work"}; !maps.Equal(got, want) {
		t.Errorf("modules by function %v, want %v", got, want)
	}
}

// TestProbeDuration checks that --duration ends the run by itself: exit 0,
// every probe detached, the final table printed.
func TestProbeDuration(t *testing.T) {
	dir := t.TempDir()
	bin := buildCgoguard(t)
	tracee := buildTracee(t, dir)
	tr := exec.Command(tracee, "-mode", "count", "-calls", "1", "-threads", "1")
	trIn, _ := tr.StdinPipe()
	trOut, _ := tr.StdoutPipe()
	if err := tr.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { trIn.Close(); tr.Process.Kill(); tr.Wait() }()
	bufio.NewScanner(trOut).Scan() // ready PID
	cmd := exec.Command(bin, "probe", "--pid", fmt.Sprint(tr.Process.Pid), "--func", "tr_work", "--duration", "500ms")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if strings.Contains(stderr.String(), "not permitted") || strings.Contains(stderr.String(), "not supported") {
		skipOrFailNotPermitted(t, strings.TrimSpace(stderr.String()))
	}
	if err != nil {
		t.Fatalf("probe: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "cgoguard probe: detached: duration reached after ") {
		t.Errorf("no detached line naming the duration:\n%s", stderr.String())
	}
	if !regexp.MustCompile(`(?m)^-\s+tr_work\s+tracee\s+0\s`).MatchString(stdout.String()) {
		t.Errorf("final table lacks the tr_work row:\n%s", stdout.String())
	}
}

func skipOrFailNotPermitted(t *testing.T, line string) {
	t.Helper()
	if strings.Contains(line, "not supported") {
		t.Skipf("the kernel cannot run the probes: %s", line)
	}
	if os.Getenv("CI") != "" && os.Geteuid() == 0 {
		t.Fatalf("attaching failed as root with CI set: %s", line)
	}
	t.Skipf("attaching is not permitted here: %s", line)
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
