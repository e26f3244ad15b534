package probe

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHelperProbeProcess is not a test: run by TestKilledProbeLeavesNothing
// as a separate process, it attaches to the pid in its environment, says
// "attached" and waits to be killed.
func TestHelperProbeProcess(t *testing.T) {
	pid, _ := strconv.Atoi(os.Getenv("CGOGUARD_PROBE_HELPER_PID"))
	if pid == 0 {
		t.Skip("helper process only")
	}
	opts := []Option{WithFunctions("tr_work")}
	if os.Getenv("CGOGUARD_PROBE_HELPER_PERF") != "" {
		opts = append(opts, withPerfLinks())
	}
	p, err := Open(pid, opts...)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	_ = p
	fmt.Println("attached")
	time.Sleep(time.Minute)
	os.Exit(2)
}

// TestKilledProbeLeavesNothing attaches from a helper process, kills it
// with SIGKILL (no deferred Close runs) and checks that the kernel removed
// the probe: the breakpoint the uprobe wrote over the function's first
// instruction in the target's memory is gone, and no uprobe event is left
// in tracefs.
func TestKilledProbeLeavesNothing(t *testing.T) {
	for _, perf := range []bool{false, true} {
		name := "uprobe_multi"
		if perf {
			name = "perf-links"
		}
		t.Run(name, func(t *testing.T) { testKilledProbe(t, perf) })
	}
}

func testKilledProbe(t *testing.T, perf bool) {
	tr := startTracee(t, "-mode", "count", "-calls", "10", "-threads", "1")
	// Skip here if probing is not possible at all.
	p := openProbe(t, tr.pid, WithFunctions("tr_work"))
	p.Close()

	addr := functionAddress(t, tr.pid, "tr_work")
	orig := peek(t, tr.pid, addr)
	if orig == 0xcc {
		t.Fatalf("tr_work already starts with a breakpoint before any probe")
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProbeProcess$")
	cmd.Env = append(os.Environ(), "CGOGUARD_PROBE_HELPER_PID="+strconv.Itoa(tr.pid))
	if perf {
		cmd.Env = append(cmd.Env, "CGOGUARD_PROBE_HELPER_PERF=1")
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(out)
	if !sc.Scan() || sc.Text() != "attached" {
		t.Fatalf("helper said %q", sc.Text())
	}
	if b := peek(t, tr.pid, addr); b != 0xcc {
		t.Fatalf("with the probe attached, tr_work starts with %#x, want the breakpoint 0xcc", b)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for peek(t, tr.pid, addr) != orig {
		if time.Now().After(deadline) {
			t.Fatalf("10s after the probe was killed, tr_work still starts with %#x, want %#x", peek(t, tr.pid, addr), orig)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, f := range []string{"/sys/kernel/tracing/uprobe_events", "/sys/kernel/debug/tracing/uprobe_events"} {
		if b, err := os.ReadFile(f); err == nil && strings.Contains(string(b), "tracee") {
			t.Errorf("%s still names the tracee:\n%s", f, b)
		}
	}
	// The tracee runs on, unprobed.
	if lines := tr.run(t); len(lines) != 0 {
		t.Errorf("tracee printed %q", lines)
	}
}

// functionAddress returns the address of symbol name in process pid.
func functionAddress(t *testing.T, pid int, name string) uint64 {
	t.Helper()
	objs, err := loadObjects(pid)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if s, ok := o.byName(name); ok {
			for _, m := range o.maps {
				if s.off >= m.off && s.off < m.off+(m.end-m.start) {
					return m.start + s.off - m.off
				}
			}
		}
	}
	t.Fatalf("%s not found in pid %d", name, pid)
	return 0
}

// peek reads one byte of process pid's memory.
func peek(t *testing.T, pid int, addr uint64) byte {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], int64(addr)); err != nil {
		t.Fatal(err)
	}
	return b[0]
}
