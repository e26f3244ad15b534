//go:build cgo

package observe_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/internal/cfixture"
	"github.com/cgoguard/cgoguard/observe"
)

const childEnv = "CGOGUARD_OBSERVE_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(child(mode))
	}
	os.Exit(m.Run())
}

// child runs in a re-executed test binary.
func child(mode string) int {
	switch mode {
	case "sigtaken":
		signal.Ignore(syscall.SIGABRT)
		json.NewEncoder(os.Stdout).Encode(observe.CheckReady())
		return 0
	case "status":
		// Publish a status file with known counts, say so, and stop
		// cleanly when stdin closes.
		m, err := cgoguard.New("child-module")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		one, enoent := cfixture.Int(1), cfixture.Int(2)
		for i := 0; i < 3; i++ {
			m.Call(context.Background(), cfixture.Ret, one)
		}
		m.Call(context.Background(), cfixture.Errno, enoent)
		q, _ := cgoguard.New("child-quarantined")
		q.Call(context.Background(), cfixture.Segv, cfixture.BadAddress())
		w, err := observe.StartStatus(observe.WithStatusDir(os.Getenv("STATUS_DIR")), observe.WithStatusInterval(5*time.Millisecond))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Printf("ready %d\n", os.Getpid())
		io.Copy(io.Discard, os.Stdin)
		if err := w.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(os.Stderr, "unknown child mode %q\n", mode)
	return 2
}

// runChild runs the test binary in mode and returns its stdout.
func runChild(t *testing.T, mode string, env []string) []byte {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), childEnv+"="+mode), env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child %s: %v", mode, err)
	}
	return out
}

// startChild starts a status-publishing child and returns its pid, the
// writer of its stdin (close to stop it) and the command.
func startChild(t *testing.T, dir string) (int, io.WriteCloser, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=status", "STATUS_DIR="+dir)
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
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	var pid int
	if _, err := fmt.Sscanf(strings.TrimSpace(line), "ready %d", &pid); err != nil || pid != cmd.Process.Pid {
		t.Fatalf("child said %q (pid %d)", line, cmd.Process.Pid)
	}
	return pid, stdin, cmd
}
