//go:build cgo

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/internal/cfixture"
	"github.com/cgoguard/cgoguard/observe"
)

// TestStatusHelperProcess is the second process of TestStatusOtherProcess:
// it publishes a status file and waits for its stdin to close.
func TestStatusHelperProcess(t *testing.T) {
	dir := os.Getenv("CGOGUARD_STATUS_HELPER_DIR")
	if dir == "" {
		t.Skip("runs only as the helper process of TestStatusOtherProcess")
	}
	m, err := cgoguard.New("helper-zlib")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	one := cfixture.Int(1)
	for i := 0; i < 7; i++ {
		m.Call(context.Background(), cfixture.Ret, one)
	}
	m.Call(context.Background(), cfixture.Errno, one)
	w, err := observe.StartStatus(observe.WithStatusDir(dir), observe.WithStatusInterval(10*time.Millisecond))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("ready %d\n", os.Getpid())
	io.Copy(io.Discard, os.Stdin)
	w.Stop()
	os.Exit(0)
}

func TestStatusOtherProcess(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestStatusHelperProcess$")
	cmd.Env = append(os.Environ(), "CGOGUARD_STATUS_HELPER_DIR="+dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != fmt.Sprintf("ready %d\n", cmd.Process.Pid) {
		t.Fatalf("helper said %q, %v", line, err)
	}
	pid := cmd.Process.Pid
	tests := []struct {
		name string
		args []string
	}{
		{"by pid", []string{"--pid", fmt.Sprint(pid)}},
		{"all live", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(append([]string{"status", "--dir", dir}, tt.args...), &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			o := stdout.String()
			for _, want := range []string{
				fmt.Sprintf("pid %d (running)", pid),
				"MODULE       STATE    OK  ERRORS  CRASHES",
				"helper-zlib  serving  7   1       0",
			} {
				if !strings.Contains(o, want) {
					t.Errorf("output lacks %q:\n%s", want, o)
				}
			}
		})
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"status", "--dir", dir, "--pid", fmt.Sprint(pid)}, &stdout, &stderr); code != 1 {
		t.Errorf("after the helper exited: exit %d, want 1 (file removed)", code)
	}
}
