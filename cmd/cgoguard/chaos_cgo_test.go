//go:build cgo

package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard/internal/e2e"
)

const chaosToken = "cli-admin-token"

// killedYAML are the experiments a runner is killed in: a failpoint and a
// command fault (SIGSTOP of the service), each with an hour to run and a
// steady state that holds.
const killedFailpointYAML = `
experiments:
  - name: killed-failpoint
    fault_type: errno
    failpoint: errno(EIO)
    target: {admin: "${SERVICE}/debug/cgoguard/failpoints", module: zlib, function: inflate}
    duration: 1h
    interval: 200ms
    ttl: 10m
    slo_target:
      scrape: ${SERVICE}/metrics
      metric: go_goroutines
      op: ">"
      threshold: 0
`

const killedCommandYAML = `
experiments:
  - name: killed-command
    fault_type: command
    inject: kill -STOP ${PID} && echo "stopped ${PID}"
    capture: 'stopped (\d+)'
    revert: kill -CONT "$CHAOS_ID"
    duration: 1h
    interval: 200ms
    slo_target:
      scrape: ${SERVICE}/metrics
      metric: go_goroutines
      op: ">"
      threshold: 0
      timeout: 1s
`

func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func failpoints(t *testing.T, svcURL string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", svcURL+"/debug/cgoguard/failpoints", nil)
	req.Header.Set("Authorization", "Bearer "+chaosToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func procState(pid int) byte {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 || i+2 >= len(data) {
		return 0
	}
	return data[i+2]
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached in 60s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func chaosCmd(bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, append([]string{"chaos"}, args...)...)
	cmd.Env = append(os.Environ(), "CGOGUARD_ADMIN_TOKEN="+chaosToken)
	return cmd
}

// TestChaosKilledRunnerCleanup kills runners with SIGKILL in the middle of
// a failpoint experiment and of a command experiment; `cgoguard chaos
// cleanup` then reverts both from the journal.
func TestChaosKilledRunnerCleanup(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and the example service")
	}
	bin := buildCgoguard(t)
	svc := e2e.StartService(t, chaosToken)
	dir := t.TempDir()
	journal := filepath.Join(dir, "journal.jsonl")
	vars := []string{"-var", "SERVICE=" + svc.URL, "-var", fmt.Sprintf("PID=%d", svc.PID())}
	fp := writeFile(t, dir, "fp.yaml", killedFailpointYAML)
	cm := writeFile(t, dir, "cmd.yaml", killedCommandYAML)

	// 1. A runner injects the failpoint.
	var out1 bytes.Buffer
	r1 := chaosCmd(bin, append(append([]string{"run", "--journal", journal}, vars...), fp)...)
	r1.Stdout, r1.Stderr = &out1, &out1
	if err := r1.Start(); err != nil {
		t.Fatal(err)
	}
	defer r1.Process.Kill()
	waitUntil(t, "failpoint listed", func() bool { return strings.Contains(failpoints(t, svc.URL), "zlib.inflate") })

	// While it runs, cleanup leaves its fault alone.
	var cl bytes.Buffer
	c := chaosCmd(bin, "cleanup", "--journal", journal)
	c.Stdout, c.Stderr = &cl, &cl
	if err := c.Run(); exitCode(err) != chaosExitFailed || !strings.Contains(cl.String(), "skipped") {
		t.Fatalf("cleanup beside a live runner: exit %v\n%s", err, cl.String())
	}

	// 2. SIGKILL: no chance to revert. The failpoint stays.
	r1.Process.Kill()
	r1.Wait()
	if !strings.Contains(failpoints(t, svc.URL), "zlib.inflate") {
		t.Fatalf("the failpoint is gone without cleanup:\n%s", out1.String())
	}

	// 3. A second runner stops the service with a command fault, and is
	// killed too.
	var out2 bytes.Buffer
	r2 := chaosCmd(bin, append(append([]string{"run", "--journal", journal}, vars...), cm)...)
	r2.Stdout, r2.Stderr = &out2, &out2
	if err := r2.Start(); err != nil {
		t.Fatal(err)
	}
	defer r2.Process.Kill()
	waitUntil(t, "service stopped", func() bool { return procState(svc.PID()) == 'T' })
	// The id is journalled right after the inject command returns.
	waitUntil(t, "id journalled", func() bool {
		b, _ := os.ReadFile(journal)
		return bytes.Contains(b, []byte(`"op":"id"`))
	})
	r2.Process.Kill()
	r2.Wait()
	time.Sleep(200 * time.Millisecond)
	if procState(svc.PID()) != 'T' {
		t.Fatalf("service state %c after the runner died, want T (stopped)", procState(svc.PID()))
	}

	// 4. cleanup reverts both, newest first (CONT before the HTTP call).
	var out bytes.Buffer
	c = chaosCmd(bin, "cleanup", "--journal", journal)
	c.Stdout, c.Stderr = &out, &out
	if err := c.Run(); err != nil {
		t.Fatalf("cleanup: %v\n%s", err, out.String())
	}
	t.Logf("cleanup:\n%s", out.String())
	if n := strings.Count(out.String(), "reverted"); n != 2 {
		t.Errorf("cleanup reverted %d faults, want 2:\n%s", n, out.String())
	}
	if st := procState(svc.PID()); st == 'T' {
		t.Error("the service is still stopped")
	}
	if l := failpoints(t, svc.URL); !strings.Contains(l, `"failpoints": []`) {
		t.Errorf("failpoints remain:\n%s", l)
	}
	if _, err := os.Stat(journal); !os.IsNotExist(err) {
		b, _ := os.ReadFile(journal)
		t.Errorf("journal not emptied: %v\n%s", err, b)
	}
	resp, err := http.Post(svc.URL+"/decompress", "application/octet-stream", bytes.NewReader(zlibHello))
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("service after cleanup: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	// 5. Nothing left to do.
	out.Reset()
	c = chaosCmd(bin, "cleanup", "--journal", journal)
	c.Stdout, c.Stderr = &out, &out
	if err := c.Run(); err != nil || !strings.Contains(out.String(), "nothing to clean up") {
		t.Errorf("second cleanup: %v\n%s", err, out.String())
	}
}

// zlibHello is "hello" compressed by zlib.
var zlibHello = []byte{0x78, 0x9c, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x06, 0x2c, 0x02, 0x15}

// TestChaosInterrupt sends SIGINT to a runner with a failpoint in place:
// it removes the failpoint, reports the experiment aborted and exits 130.
func TestChaosInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and the example service")
	}
	bin := buildCgoguard(t)
	svc := e2e.StartService(t, chaosToken)
	dir := t.TempDir()
	journal := filepath.Join(dir, "journal.jsonl")
	fp := writeFile(t, dir, "fp.yaml", killedFailpointYAML)
	var stdout, stderr bytes.Buffer
	r := chaosCmd(bin, "run", "--journal", journal, "-var", "SERVICE="+svc.URL, "-o", "junit="+filepath.Join(dir, "junit.xml"), fp)
	r.Stdout, r.Stderr = &stdout, &stderr
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	defer r.Process.Kill()
	waitUntil(t, "failpoint listed", func() bool { return strings.Contains(failpoints(t, svc.URL), "zlib.inflate") })
	r.Process.Signal(syscall.SIGINT)
	err := r.Wait()
	if exitCode(err) != chaosExitInterrupted {
		t.Fatalf("exit %v, want %d\n%s\n%s", err, chaosExitInterrupted, stdout.String(), stderr.String())
	}
	if l := failpoints(t, svc.URL); !strings.Contains(l, `"failpoints": []`) {
		t.Errorf("failpoint left after SIGINT:\n%s", l)
	}
	if !strings.Contains(stdout.String(), "aborted") || !strings.Contains(stdout.String(), "interrupted") {
		t.Errorf("report:\n%s", stdout.String())
	}
	if _, err := os.Stat(journal); !os.IsNotExist(err) {
		t.Errorf("journal left: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "junit.xml")); err != nil || !bytes.Contains(b, []byte(`name="killed-failpoint:`)) {
		t.Errorf("junit after SIGINT: %v\n%s", err, b)
	}
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}
