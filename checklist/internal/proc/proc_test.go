package proc

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestBuffer(t *testing.T) {
	tests := []struct {
		name   string
		limit  int
		writes []string
		want   string
	}{
		{"fits", 10, []string{"abc", "def"}, "abcdef"},
		{"unbounded", 0, []string{strings.Repeat("x", 100)}, strings.Repeat("x", 100)},
		{"head and tail", 6, []string{"abcdefghij"}, "abc\n... [4 bytes omitted] ...\nhij"},
		{"many small writes", 4, []string{"1", "2", "3", "4", "5", "6", "7"}, "12\n... [3 bytes omitted] ...\n67"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBuffer(tt.limit)
			for _, w := range tt.writes {
				if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if got := b.String(); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRun(t *testing.T) {
	tests := []struct {
		name     string
		argv     []string
		timeout  time.Duration
		wantCode int
		wantOut  string
		wantErr  bool
	}{
		{"exit code", []string{"sh", "-c", "echo out; echo err >&2; exit 7"}, time.Minute, 7, "out\n", false},
		{"missing binary", []string{"/nonexistent"}, time.Minute, -1, "", true},
		{"killed on timeout", []string{"sh", "-c", "sleep 30 & sleep 30"}, 200 * time.Millisecond, -1, "", true},
		{"empty", nil, time.Minute, -1, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			start := time.Now()
			out, err := Run(ctx, Cmd{Argv: tt.argv, Limit: 1024})
			if (err != nil) != tt.wantErr || out.ExitCode != tt.wantCode || out.Stdout != tt.wantOut {
				t.Fatalf("Run = %+v, %v", out, err)
			}
			// The grandchild holding the pipes must not keep Run waiting
			// for its 30 s.
			if time.Since(start) > 10*time.Second {
				t.Fatalf("Run took %s", time.Since(start))
			}
		})
	}
}

// A command that exits while a background child still holds its stdout:
// the child is killed with the group at once and Run says so, instead of
// waiting and failing.
func TestRunKillsWhatTheCommandLeft(t *testing.T) {
	pidfile := t.TempDir() + "/pid"
	start := time.Now()
	out, err := Run(context.Background(), Cmd{Argv: []string{"sh", "-c", "sleep 30 & echo $! > " + pidfile + "; echo started"}, Limit: 1024})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if out.ExitCode != 0 || out.Stdout != "started\n" {
		t.Fatalf("Run = %+v", out)
	}
	if !out.LeftRunning {
		t.Error("LeftRunning not set")
	}
	if d := time.Since(start); d > waitDelay {
		t.Errorf("Run took %s: it waited for the child", d)
	}
	assertDead(t, pidfile)
}

// A process outside the group (setsid) that keeps stdout open cannot be
// killed with the group: Run stops reading and names what happened.
func TestRunNamesAnEscapedOutputHolder(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("setsid not installed")
	}
	pidfile := t.TempDir() + "/pid"
	t.Cleanup(func() { killPidfile(pidfile) })
	out, err := Run(context.Background(), Cmd{Argv: []string{"sh", "-c",
		"setsid sh -c 'echo $$ > " + pidfile + "; exec sleep 30' & echo started; sleep 0.2"}, Limit: 1024})
	if !errors.Is(err, ErrOutputHeld) {
		t.Fatalf("err = %v, want ErrOutputHeld", err)
	}
	if !strings.Contains(err.Error(), "kept stdout") || out.Stdout != "started\n" || out.ExitCode != 0 {
		t.Fatalf("Run = %+v, %v", out, err)
	}
}

// Output is copied as fast as the reader takes it: a slow consumer is not
// cut off once the command has exited.
func TestRunWaitsForASlowReader(t *testing.T) {
	var got countingSlowWriter
	_, err := Run(context.Background(), Cmd{Argv: []string{"sh", "-c", "head -c 3000000 /dev/zero"}, Stdout: &got})
	if err != nil || got.n != 3000000 {
		t.Fatalf("copied %d bytes, err %v", got.n, err)
	}
}

type countingSlowWriter struct{ n int }

func (w *countingSlowWriter) Write(p []byte) (int, error) {
	time.Sleep(time.Duration(len(p)) * time.Microsecond) // 1 MB/s: the copy outlives waitDelay
	w.n += len(p)
	return len(p), nil
}

func assertDead(t *testing.T, pidfile string) {
	t.Helper()
	b, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	for range 100 {
		// Killed means gone, or a zombie waiting for init to reap it.
		st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil || strings.Contains(string(st), ") Z ") {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("background child %d still runs", pid)
}

func killPidfile(pidfile string) {
	b, _ := os.ReadFile(pidfile)
	if pid, _ := strconv.Atoi(strings.TrimSpace(string(b))); pid > 0 {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}
