package probe

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	traceeOnce sync.Once
	traceePath string
	traceeErr  error
	buildDir   string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cgoguard-probe-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buildDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildTracee builds testdata/tracee once per test run.
func buildTracee(t testing.TB) string {
	t.Helper()
	traceeOnce.Do(func() {
		traceePath = filepath.Join(buildDir, "tracee")
		cmd := exec.Command("go", "build", "-o", traceePath, "./testdata/tracee")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			traceeErr = fmt.Errorf("building testdata/tracee: %v\n%s", err, out)
		}
	})
	if traceeErr != nil {
		t.Fatal(traceeErr)
	}
	return traceePath
}

// tracee is a running testdata/tracee.
type tracee struct {
	cmd   *exec.Cmd
	pid   int
	stdin io.WriteCloser
	out   *bufio.Scanner
}

func startTracee(t testing.TB, args ...string) *tracee {
	t.Helper()
	cmd := exec.Command(buildTracee(t), args...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tr := &tracee{cmd: cmd, pid: cmd.Process.Pid, stdin: stdin, out: bufio.NewScanner(stdout)}
	tr.out.Buffer(make([]byte, 1<<20), 1<<20)
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	line := tr.line(t)
	if line != fmt.Sprintf("ready %d", tr.pid) {
		t.Fatalf("tracee said %q, want ready", line)
	}
	return tr
}

func (tr *tracee) line(t testing.TB) string {
	t.Helper()
	if !tr.out.Scan() {
		t.Fatalf("tracee ended: %v", tr.out.Err())
	}
	return tr.out.Text()
}

// run starts the calls and returns the lines printed before "done".
func (tr *tracee) run(t testing.TB) []string {
	t.Helper()
	if _, err := io.WriteString(tr.stdin, "go\n"); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for {
		l := tr.line(t)
		if l == "done" {
			return lines
		}
		lines = append(lines, l)
	}
}

// openProbe opens a probe, skipping the test where probing is not
// permitted or not supported, unless CI is set and we are root.
func openProbe(t testing.TB, pid int, opts ...Option) *Probe {
	t.Helper()
	p, err := Open(pid, opts...)
	if err != nil {
		skipIfCannotProbe(t, err)
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// skipIfCannotProbe skips for errors that say this machine cannot probe.
// With CI set, running as root, a permission error fails the test: CI runs
// as root, where attaching must work. A kernel without uprobes skips even
// in CI, saying so.
func skipIfCannotProbe(t testing.TB, err error) {
	t.Helper()
	switch {
	case errors.Is(err, ErrNotSupported):
		t.Skipf("this kernel cannot run the probes (uprobe support is missing): %v", err)
	case errors.Is(err, ErrPermission):
		if os.Getenv("CI") != "" && os.Geteuid() == 0 {
			t.Fatalf("attaching failed as root with CI set (it must be permitted there): %v", err)
		}
		t.Skipf("attaching uprobes is not permitted here (needs root or CAP_BPF+CAP_PERFMON): %v", err)
	}
	if strings.Contains(err.Error(), "operation not permitted") && os.Geteuid() != 0 {
		t.Skipf("not permitted: %v", err)
	}
}
