package checklist_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard/checklist"
	_ "github.com/cgoguard/cgoguard/checklist/kinds"
)

func parse(t *testing.T, yml string, opts ...checklist.LoadOptions) *checklist.Checklist {
	t.Helper()
	var o checklist.LoadOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	cl, err := checklist.Parse("test.yaml", []byte(yml), o)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func byID(res *checklist.Result) map[string]checklist.CheckResult {
	m := map[string]checklist.CheckResult{}
	for _, c := range res.Checks {
		m[c.ID] = c
	}
	return m
}

// alive reports whether a process still exists (and is not a zombie)
// after giving a killed process up to 5 s to finish dying.
func alive(pid int) bool {
	for range 500 {
		if !exists(pid) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

func exists(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(stat))
	return len(f) > 2 && f[2] != "Z"
}

func readPID(t *testing.T, path string) int {
	t.Helper()
	for range 200 {
		b, err := os.ReadFile(path)
		if err == nil && len(strings.TrimSpace(string(b))) > 0 {
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err == nil {
				return pid
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no pid in %s", path)
	return 0
}

func TestOutcomes(t *testing.T) {
	dir := t.TempDir()
	counter := filepath.Join(dir, "count")
	pidfile := filepath.Join(dir, "pid")
	cl := parse(t, fmt.Sprintf(`
checklist: outcomes
checks:
  - {id: PASS, title: passes, kind: command, with: {run: "echo ok", stdout_matches: "^ok"}}
  - {id: FAIL, title: fails, kind: command, with: {run: "echo boom >&2; exit 3"}}
  - id: SLOW
    title: times out
    kind: command
    # a grandchild in the same group must die with it
    with: {run: "sleep 300 & echo $! > %s; wait"}
    timeout_seconds: 0.5
  - id: FLAKY
    title: passes on its second attempt
    kind: command
    with: {run: "n=$(cat %s 2>/dev/null || echo 0); n=$((n+1)); echo $n > %s; echo attempt $n; [ $n -ge 2 ]"}
    retry_on_failure: {attempts: 3, delay_seconds: 0.05}
  - {id: DEP, title: depends on a failure, kind: command, with: {run: "true"}, depends_on: [FAIL]}
  - {id: DEP2, title: depends on a skip, kind: command, with: {run: "true"}, depends_on: [DEP]}
  - {id: DEPOK, title: depends on a pass, kind: command, with: {run: "true"}, depends_on: [PASS, FLAKY]}
  - id: SECRET
    title: leaks a secret
    kind: command
    with: {run: "echo password=hunter2 Authorization: Bearer abcdefghijklmnop; echo internal-42 >&2; echo AKIAABCDEFGHIJKLMNOP"}
  - {id: EXPIRED, title: expired waiver, kind: command, with: {run: "exit 1"}, waiver: {reason: old, expires: 2020-01-01}}
  - {id: WAIVED, title: valid waiver, kind: command, with: {run: "exit 1"}, waiver: {reason: "fix in progress", expires: 2099-01-01}}
  - {id: BIG, title: large output, kind: command, with: {run: "seq 1 100000"}}
  - {id: ERR, title: cannot run, kind: command, with: {argv: [/nonexistent/binary]}}
  - {id: REQ, title: required evidence, kind: command, with: {run: "true"}, evidence: required}
redact: ["internal-[0-9]+"]
`, pidfile, counter, counter))
	var mu sync.Mutex
	var events []string
	r := checklist.NewRunner(
		checklist.WithParallelism(3),
		checklist.WithEvidenceLimit(1024),
		checklist.WithProgress(func(ev checklist.Event) {
			mu.Lock()
			defer mu.Unlock()
			if ev.Type == checklist.CheckFinished {
				events = append(events, fmt.Sprintf("%d/%d", ev.Done, ev.Total))
			}
		}),
	)
	res, err := r.Run(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	got := byID(res)
	want := map[string]checklist.Outcome{
		"PASS": checklist.Pass, "FAIL": checklist.Fail, "SLOW": checklist.Timeout, "FLAKY": checklist.Pass,
		"DEP": checklist.Skip, "DEP2": checklist.Skip, "DEPOK": checklist.Pass, "SECRET": checklist.Pass,
		"EXPIRED": checklist.Fail, "WAIVED": checklist.Waived, "BIG": checklist.Pass, "ERR": checklist.Error,
		"REQ": checklist.Error,
	}
	for id, w := range want {
		if got[id].Outcome != w {
			t.Errorf("%s: outcome %s (%s), want %s", id, got[id].Outcome, got[id].Message, w)
		}
	}
	if len(events) != len(want) || events[len(events)-1] != fmt.Sprintf("%d/%d", len(want), len(want)) {
		t.Errorf("progress events %v", events)
	}
	if res.Passed() {
		t.Error("run with failures passed")
	}

	if c := got["FAIL"]; c.Evidence.ExitCode != 3 || !strings.Contains(c.Evidence.Stderr, "boom") || !strings.Contains(c.Message, "exit code 3, want 0") {
		t.Errorf("FAIL evidence %+v, message %q", c.Evidence, c.Message)
	}
	pid := readPID(t, pidfile)
	if alive(pid) {
		t.Errorf("the timed-out check's grandchild %d is still running", pid)
	}
	if c := got["SLOW"]; !strings.Contains(c.Message, "timed out after 500ms") {
		t.Errorf("SLOW message %q", c.Message)
	}
	if c := got["FLAKY"]; c.Attempts != 2 || !strings.Contains(c.Message, "passed on attempt 2 of 3") || !strings.Contains(c.Evidence.Stdout, "attempt 2") {
		t.Errorf("FLAKY attempts %d, message %q, stdout %q", c.Attempts, c.Message, c.Evidence.Stdout)
	}
	if c := got["DEP"]; c.Message != "dependency FAIL did not pass (fail)" || c.Attempts != 0 {
		t.Errorf("DEP message %q attempts %d", c.Message, c.Attempts)
	}
	if c := got["DEP2"]; c.Message != "dependency DEP did not pass (skip)" {
		t.Errorf("DEP2 message %q", c.Message)
	}
	sec := got["SECRET"].Evidence
	for _, leak := range []string{"hunter2", "abcdefghijklmnop", "internal-42", "AKIAABCDEFGHIJKLMNOP"} {
		if strings.Contains(sec.Stdout+sec.Stderr+sec.Command, leak) {
			t.Errorf("secret %q not redacted: %+v", leak, sec)
		}
	}
	if !strings.Contains(sec.Stdout, "password=[REDACTED]") {
		t.Errorf("redaction lost the key: %q", sec.Stdout)
	}
	if c := got["EXPIRED"]; !strings.Contains(c.Message, "waiver expired on 2020-01-01") {
		t.Errorf("EXPIRED message %q", c.Message)
	}
	if c := got["WAIVED"]; !strings.Contains(c.Message, "waived until 2099-01-01 (fix in progress)") {
		t.Errorf("WAIVED message %q", c.Message)
	}
	big := got["BIG"].Evidence.Stdout
	if len(big) > 1200 || !strings.HasPrefix(big, "1\n2\n") || !strings.HasSuffix(big, "100000\n") || !strings.Contains(big, "bytes omitted") {
		t.Errorf("BIG evidence not bounded head+tail: %d bytes", len(big))
	}
	if c := got["REQ"]; c.Message != "evidence is required but the check captured none" {
		t.Errorf("REQ message %q", c.Message)
	}
}

func TestCancelLeavesNoChild(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "pid")
	cl := parse(t, fmt.Sprintf(`
checklist: cancel
checks:
  - {id: LONG, title: runs long, kind: command, with: {run: "sh -c 'sleep 300' & echo $! > %s; wait"}}
  - {id: AFTER, title: waits for LONG, kind: command, with: {run: "true"}, depends_on: [LONG]}
`, pidfile))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan *checklist.Result, 1)
	go func() {
		res, err := checklist.NewRunner().Run(ctx, cl)
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	pid := readPID(t, pidfile)
	cancel() // what Ctrl-C does in cgoguard check
	var res *checklist.Result
	select {
	case res = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if alive(pid) {
		t.Fatalf("child %d still running after cancel", pid)
	}
	if !res.Interrupted || res.Passed() {
		t.Fatalf("interrupted = %v, passed = %v", res.Interrupted, res.Passed())
	}
	for _, c := range res.Checks {
		if c.Outcome != checklist.Error {
			t.Errorf("%s: %s after cancel, want error", c.ID, c.Outcome)
		}
	}
}

func TestParallelismIsBounded(t *testing.T) {
	runs, maxes := t.TempDir(), t.TempDir()
	var b strings.Builder
	b.WriteString("checklist: par\nchecks:\n")
	// Each check makes a directory while it runs and records how many
	// such directories it saw.
	for i := range 6 {
		fmt.Fprintf(&b, "  - {id: P%d, title: p, kind: command, with: {run: \"mkdir %s/r%d; ls %s | wc -l > %s/m%d; sleep 0.2; rmdir %s/r%d\"}}\n",
			i, runs, i, runs, maxes, i, runs, i)
	}
	res, err := checklist.NewRunner(checklist.WithParallelism(2)).Run(context.Background(), parse(t, b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Passed() {
		t.Fatalf("counts %v", res.Counts())
	}
	maxSeen := 0
	for i := range 6 {
		data, _ := os.ReadFile(filepath.Join(maxes, fmt.Sprintf("m%d", i)))
		n, _ := strconv.Atoi(strings.TrimSpace(string(data)))
		maxSeen = max(maxSeen, n)
	}
	if maxSeen < 1 || maxSeen > 2 {
		t.Fatalf("%d checks ran at once with parallelism 2", maxSeen)
	}
}

func TestValidateNamesCheckLine(t *testing.T) {
	// A checklist built in Go, not by Parse, is validated by Run.
	cl := &checklist.Checklist{Name: "x", File: "test.yaml", Checks: []checklist.Check{
		{ID: "A", Title: "t", Kind: "command", Line: 3, With: map[string]any{"run": "ls", "exit": 0}},
	}}
	_, err := checklist.NewRunner().Run(context.Background(), cl)
	if err == nil || !strings.Contains(err.Error(), "test.yaml:3: check A: with: unknown key exit") {
		t.Fatalf("err = %v", err)
	}
}
