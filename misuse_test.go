//go:build cgo

package cgoguard_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/internal/cfixture"
)

// A module name becomes a metric label, a JSON string and a line on a
// terminal: New refuses what would break any of them.
func TestNewRejectsBadNames(t *testing.T) {
	for _, name := range []string{"", "zlib\xff", "\xc3", "zlib\x1b[2J", "a\nb", "tab\there", "\u202ereversed", "del\x7f", "c1\u009b"} {
		m, err := cgoguard.New(name)
		if err == nil {
			m.Close()
			t.Errorf("New(%q) accepted", name)
			continue
		}
		if !errors.Is(err, cgoguard.ErrInvalidName) || !strings.Contains(err.Error(), fmt.Sprintf("%q", name)) {
			t.Errorf("New(%q): %v, want ErrInvalidName naming it", name, err)
		}
	}
	for _, name := range []string{"zlib", "libpng-1.6", "zstd (level 19)", "日本語のライブラリ"} {
		m, err := cgoguard.New(name)
		if err != nil {
			t.Errorf("New(%q): %v", name, err)
			continue
		}
		m.Close()
	}
}

// State names read right: a healthy module is serving, a closed one closed.
func TestStateNames(t *testing.T) {
	m := newModule(t)
	if s := m.State(); s != cgoguard.Closed || s.String() != "serving" {
		t.Errorf("healthy module: %v (%d)", s, s)
	}
	m.Close()
	if s := m.State(); s != cgoguard.Stopped || s.String() != "closed" {
		t.Errorf("closed module: %v (%d)", s, s)
	}
	for s, want := range map[cgoguard.State]string{
		cgoguard.Open: "breaker_open", cgoguard.HalfOpen: "breaker_half_open", cgoguard.Quarantined: "quarantined",
	} {
		if s.String() != want {
			t.Errorf("%d.String() = %q, want %q", s, s.String(), want)
		}
	}
}

// Calls that never reach C are rejected with documented errors and counted
// as rejected, not as timeouts.
func TestCallsThatNeverReachC(t *testing.T) {
	cancelled, cancel := context.WithCancel(bg)
	cancel()
	expired, cancel2 := context.WithDeadline(bg, time.Now().Add(-time.Second))
	defer cancel2()
	for _, c := range []struct {
		name string
		opts []cgoguard.Option
		ctx  context.Context
		fn   unsafe.Pointer
		want []error
	}{
		{"nil function", nil, bg, nil, []error{cgoguard.ErrNilFunc}},
		{"nil function, slow path", []cgoguard.Option{cgoguard.WithMaxConcurrent(4)}, bg, nil, []error{cgoguard.ErrNilFunc}},
		{"cancelled context", nil, cancelled, cfixture.Empty, []error{cgoguard.ErrContextDone, context.Canceled}},
		{"expired deadline", nil, expired, cfixture.Empty, []error{cgoguard.ErrContextDone, context.DeadlineExceeded}},
		{"expired deadline with timeout", []cgoguard.Option{cgoguard.WithTimeout(time.Second)}, expired, cfixture.Empty, []error{cgoguard.ErrContextDone}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := newModule(t, c.opts...)
			_, err := m.Call(c.ctx, c.fn, nil)
			for _, w := range c.want {
				if !errors.Is(err, w) {
					t.Errorf("err = %v, want %v", err, w)
				}
			}
			if errors.Is(err, cgoguard.ErrTimeout) {
				t.Errorf("%v matches ErrTimeout, but C never ran", err)
			}
			st := m.Stats()
			if st.Rejected != 1 || st.Timeouts != 0 || st.OK != 0 {
				t.Errorf("stats: rejected %d, timeouts %d, ok %d; want 1, 0, 0", st.Rejected, st.Timeouts, st.OK)
			}
		})
	}
	// A nil context is the background context, on every path.
	for _, opts := range [][]cgoguard.Option{nil, {cgoguard.WithTimeout(time.Second)}} {
		m := newModule(t, opts...)
		//lint:ignore SA1012 a nil context is what is being tested
		if rc, err := m.Call(nil, cfixture.Ret, cint(t, 5)); rc != 5 || err != nil { //nolint:staticcheck
			t.Errorf("nil context: %d, %v", rc, err)
		}
	}
}

// A call abandoned at its deadline that crashes later is a crash in the
// counters, beside the timeout it already was.
func TestAbandonedCallThatCrashesIsCounted(t *testing.T) {
	cfixture.SetGate(false)
	defer cfixture.SetGate(true)
	m := newModule(t, cgoguard.WithTimeout(20*time.Millisecond))
	if _, err := m.Call(bg, cfixture.WaitGateSegv, nil); !errors.Is(err, cgoguard.ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	cfixture.SetGate(true)
	waitFor(t, "the abandoned call to crash", func() bool { return m.Abandoned() == 0 })
	st := m.Stats()
	if st.Crashes != 1 || st.CrashesBySignal["SIGSEGV"] != 1 || st.Timeouts != 1 || st.State != cgoguard.Quarantined {
		t.Errorf("stats: crashes %d (%v), timeouts %d, state %v; want 1, 1, quarantined", st.Crashes, st.CrashesBySignal, st.Timeouts, st.State)
	}
	if calls := st.Calls(); calls[cgoguard.OutcomeCrash] != 1 {
		t.Errorf("Calls()[crash] = %d", calls[cgoguard.OutcomeCrash])
	}
}

// A crash directory that cannot be written is reported once in the log and
// counted on every crash; the module goes on.
func TestCrashDirWriteErrorsAreReported(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	log.SetOutput(&logged)
	defer log.SetOutput(os.Stderr)
	dir := filepath.Join(file, "crashes") // below a regular file: never writable, even for root
	m := newModule(t, cgoguard.WithCrashDir(dir), cgoguard.WithCrashPolicy(cgoguard.Restart))
	for range 3 {
		if _, err := m.Call(bg, cfixture.Abort, nil); !isCrash(err) {
			t.Fatalf("err = %v", err)
		}
	}
	st := m.Stats()
	if st.CrashReportErrors != 3 || st.CrashReports != 0 || !strings.Contains(st.LastCrashReportError, dir) {
		t.Errorf("stats: %d errors, %d written, last %q", st.CrashReportErrors, st.CrashReports, st.LastCrashReportError)
	}
	if n := strings.Count(logged.String(), "\n"); n != 1 || !strings.Contains(logged.String(), m.Name()) {
		t.Errorf("logged %d times, want once naming the module:\n%s", n, logged.String())
	}
}

// Crash reports are kept by age up to a limit, per module; other files in
// the directory are left alone.
func TestCrashReportsAreBounded(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "other-123.json")
	if err := os.WriteFile(other, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		opts    []cgoguard.Option
		crashes int
		keep    int
	}{
		{[]cgoguard.Option{cgoguard.WithMaxCrashReports(5)}, 12, 5},
		{nil, cgoguard.DefaultMaxCrashReports + 3, cgoguard.DefaultMaxCrashReports},
	} {
		opts := append([]cgoguard.Option{cgoguard.WithCrashDir(dir), cgoguard.WithCrashPolicy(cgoguard.Restart)}, c.opts...)
		m := newModule(t, opts...)
		var written []string
		for range c.crashes {
			m.Call(bg, cfixture.Abort, nil)
		}
		files, _ := filepath.Glob(filepath.Join(dir, m.Name()+"-*.json"))
		if len(files) != c.keep {
			t.Fatalf("%d reports kept, want %d", len(files), c.keep)
		}
		written = append(written, files...)
		sort.Strings(written)
		if st := m.Stats(); st.CrashReports != uint64(c.crashes) {
			t.Errorf("CrashReports = %d, want %d", st.CrashReports, c.crashes)
		}
		m.Close()
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another module's report was removed: %v", err)
	}
	if _, err := cgoguard.New("x", cgoguard.WithMaxCrashReports(0)); err == nil {
		t.Error("WithMaxCrashReports(0) accepted")
	}
}

// C code that blocks SIGSEGV and then aborts: the abort is caught, the
// crash says SIGSEGV was blocked, and the thread goes back to Go with the
// crash signals unblocked (else the next fault on it, even a Go nil
// dereference, would kill the process).
func TestCrashWithSIGSEGVBlocked(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	m := newModule(t, cgoguard.WithCrashPolicy(cgoguard.Restart))
	_, err := m.Call(bg, cfixture.BlockSegvAbort, nil)
	var ce *cgoguard.CrashError
	if !errors.As(err, &ce) || ce.Signal != syscall.SIGABRT {
		t.Fatalf("err = %v", err)
	}
	if len(ce.Blocked) != 1 || ce.Blocked[0] != syscall.SIGSEGV || !strings.Contains(ce.Error(), "SIGSEGV was blocked") {
		t.Errorf("Blocked = %v, error %q", ce.Blocked, ce.Error())
	}
	var mask uint64
	if rc := cfixture.RawCall(cfixture.SigMask, unsafe.Pointer(&mask)); rc != 0 {
		t.Fatal(rc)
	}
	if mask&(1<<(syscall.SIGSEGV-1)) != 0 {
		t.Errorf("SIGSEGV is still blocked on the thread: mask %#x", mask)
	}
	// And a fault on this thread is still caught.
	if _, err := m.Call(bg, cfixture.Segv, nil); !isCrash(err) {
		t.Errorf("next crash: %v", err)
	}
}

// An unmarked Go callback that calls C code which crashes cannot be caught
// (the jump back would skip the callback's Go frames); the crash goes to
// the Go runtime with a line that points to the marking rule, instead of
// the runtime's confused "exitsyscall: syscall frame is no longer valid".
func TestUnmarkedCallbackCrashPointsToTheRule(t *testing.T) {
	if testingChild() == "unmarked-callback" {
		m := newModule(t)
		cfixture.SetCallback(func(int) int { return cfixture.RawCall(cfixture.Segv, nil) })
		m.Call(bg, cfixture.CallbackUnmarked, cint(t, 1))
		t.Fatal("the process survived")
	}
	out, code := runChild(t, "TestUnmarkedCallbackCrashPointsToTheRule", "unmarked-callback")
	if code == 0 {
		t.Fatalf("child passed:\n%s", out)
	}
	for _, want := range []string{
		"cgoguard: SIGSEGV at pc=0x",
		"not marked with cg_callback_begin/cg_callback_end",
		"SIGSEGV: segmentation violation", // Go's own report follows
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "exitsyscall") {
		t.Errorf("the runtime died confused:\n%s", out)
	}
	// A marked callback region is unaffected: the crash in C is Go's.
}

// A fault with SIGSEGV blocked cannot be caught by anyone: the kernel ends
// the process at once. This is the documented limit (cgo contract).
func TestFaultWithSIGSEGVBlockedKillsTheProcess(t *testing.T) {
	if testingChild() == "blocked-fault" {
		m := newModule(t)
		m.Call(bg, cfixture.BlockSegvFault, nil)
		t.Fatal("the process survived")
	}
	out, code := runChild(t, "TestFaultWithSIGSEGVBlockedKillsTheProcess", "blocked-fault")
	if code != -1 || strings.Contains(out, "--- FAIL") {
		t.Fatalf("exit %d, want death by signal:\n%s", code, out)
	}
}
