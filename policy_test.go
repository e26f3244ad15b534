//go:build cgo

package cgoguard_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/internal/cfixture"
)

// threads returns the number of OS threads of this process.
func threads(t testing.TB) int {
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func fds(t testing.TB) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// waitFor polls cond for up to 10 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestTimeout(t *testing.T) {
	for _, c := range []struct {
		name string
		opts []cgoguard.Option
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"option", []cgoguard.Option{cgoguard.WithTimeout(20 * time.Millisecond)},
			func() (context.Context, context.CancelFunc) { return context.Background(), func() {} }, cgoguard.ErrTimeout},
		{"ctx-deadline", nil,
			func() (context.Context, context.CancelFunc) { return context.WithTimeout(bg, 20*time.Millisecond) }, cgoguard.ErrTimeout},
		{"ctx-cancel", nil,
			func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(bg)
				time.AfterFunc(20*time.Millisecond, cancel)
				return ctx, cancel
			}, context.Canceled},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := newModule(t, c.opts...)
			ctx, cancel := c.ctx()
			defer cancel()
			_, err := m.Call(ctx, cfixture.SleepMS, cint(t, 1000))
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if c.want == cgoguard.ErrTimeout && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%v does not match context.DeadlineExceeded", err)
			}
			// Call returned while the C call still runs.
			if m.Abandoned() != 1 {
				t.Errorf("abandoned = %d, want 1: Call did not return at the deadline", m.Abandoned())
			}
			waitFor(t, "the abandoned call to return", func() bool { return m.Abandoned() == 0 })
			if st := m.Stats(); st.Timeouts != 1 || st.OK != 0 {
				t.Errorf("stats %+v: want 1 timeout and no ok", st)
			}
			// A call within its deadline goes through.
			if rc, err := m.Call(ctx, cfixture.Ret, cint(t, 3)); c.name == "option" && (rc != 3 || err != nil) {
				t.Errorf("fast call = %d, %v", rc, err)
			}
		})
	}
}

func TestBulkheadBoundsThreads(t *testing.T) {
	cfixture.SetGate(false)
	defer cfixture.SetGate(true)
	m := newModule(t, cgoguard.WithMaxConcurrent(2))
	before := threads(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	busy := 0
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := m.Call(bg, cfixture.WaitGate, nil)
			if errors.Is(err, cgoguard.ErrBusy) {
				mu.Lock()
				busy++
				mu.Unlock()
			} else if err != nil {
				t.Error(err)
			}
		}()
	}
	waitFor(t, "two calls in C", func() bool { return m.InFlight() == 2 })
	waitFor(t, "48 rejections", func() bool { mu.Lock(); defer mu.Unlock(); return busy == 48 })
	if n := threads(t); n > before+4 {
		t.Errorf("threads grew from %d to %d with a bulkhead of 2", before, n)
	}
	cfixture.SetGate(true)
	wg.Wait()
	if st := m.Stats(); st.Rejected != 48 || st.OK != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestMaxAbandonedBoundsThreads(t *testing.T) {
	cfixture.SetGate(false)
	defer cfixture.SetGate(true)
	m := newModule(t, cgoguard.WithTimeout(5*time.Millisecond), cgoguard.WithMaxAbandoned(3))
	before := threads(t)
	timeouts, busy := 0, 0
	for i := 0; i < 40; i++ {
		_, err := m.Call(bg, cfixture.WaitGate, nil)
		switch {
		case errors.Is(err, cgoguard.ErrTimeout):
			timeouts++
		case errors.Is(err, cgoguard.ErrBusy):
			busy++
		default:
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if timeouts != 3 || busy != 37 {
		t.Errorf("timeouts %d busy %d, want 3 and 37", timeouts, busy)
	}
	if m.Abandoned() != 3 {
		t.Errorf("abandoned %d, want 3", m.Abandoned())
	}
	if n := threads(t); n > before+5 {
		t.Errorf("threads grew from %d to %d with 3 abandoned calls allowed", before, n)
	}
	cfixture.SetGate(true)
	waitFor(t, "abandoned calls to return", func() bool { return m.Abandoned() == 0 })
	if rc, err := m.Call(bg, cfixture.Ret, cint(t, 1)); rc != 1 || err != nil {
		t.Errorf("after release: %d, %v", rc, err)
	}
}

func TestBreaker(t *testing.T) {
	t.Run("consecutive", func(t *testing.T) {
		m := newModule(t, cgoguard.WithBreaker(cgoguard.BreakerConfig{ConsecutiveFailures: 3, CoolDown: 30 * time.Millisecond}))
		for i := 0; i < 2; i++ {
			m.Call(bg, cfixture.Errno, nil)
		}
		m.Call(bg, cfixture.Ret, cint(t, 1)) // a success resets the run
		for i := 0; i < 2; i++ {
			m.Call(bg, cfixture.Errno, nil)
		}
		if m.State() != cgoguard.Closed {
			t.Fatalf("opened after 2 consecutive failures")
		}
		m.Call(bg, cfixture.Errno, nil)
		if m.State() != cgoguard.Open {
			t.Fatalf("state %v after 3 consecutive failures, want open", m.State())
		}
		if _, err := m.Call(bg, cfixture.Ret, cint(t, 1)); !errors.Is(err, cgoguard.ErrOpen) {
			t.Fatalf("call while open: %v", err)
		}
		time.Sleep(40 * time.Millisecond)
		// Half-open probe fails: open again.
		if _, err := m.Call(bg, cfixture.Errno, nil); err == nil || errors.Is(err, cgoguard.ErrOpen) {
			t.Fatalf("probe: %v", err)
		}
		if m.State() != cgoguard.Open {
			t.Fatalf("state %v after failed probe, want open", m.State())
		}
		time.Sleep(40 * time.Millisecond)
		if rc, err := m.Call(bg, cfixture.Ret, cint(t, 4)); rc != 4 || err != nil {
			t.Fatalf("probe: %d %v", rc, err)
		}
		if m.State() != cgoguard.Closed {
			t.Fatalf("state %v after a good probe, want closed", m.State())
		}
	})
	t.Run("ratio", func(t *testing.T) {
		m := newModule(t, cgoguard.WithBreaker(cgoguard.BreakerConfig{FailureRatio: 0.5, MinRequests: 10, Window: time.Minute, CoolDown: time.Minute}))
		for i := 0; i < 5; i++ {
			m.Call(bg, cfixture.Ret, cint(t, 1))
			m.Call(bg, cfixture.Errno, nil)
			if i < 4 && m.State() != cgoguard.Closed {
				t.Fatalf("opened after %d calls", 2*(i+1))
			}
		}
		if m.State() != cgoguard.Open {
			t.Fatalf("state %v at 50%% failures over 10 calls, want open", m.State())
		}
	})
	t.Run("timeouts-and-crashes-count", func(t *testing.T) {
		m := newModule(t, cgoguard.WithTimeout(5*time.Millisecond), cgoguard.WithCrashPolicy(cgoguard.Restart),
			cgoguard.WithBreaker(cgoguard.BreakerConfig{ConsecutiveFailures: 2, CoolDown: time.Minute}))
		m.Call(bg, cfixture.SleepMS, cint(t, 50))
		m.Call(bg, cfixture.Segv, nil)
		if m.State() != cgoguard.Open {
			t.Fatalf("state %v after a timeout and a crash, want open", m.State())
		}
	})
}

func TestCrashDirReport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "crashes")
	m := newModule(t, cgoguard.WithCrashDir(dir))
	m.Call(bg, cfixture.Abort, nil)
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 1 {
		t.Fatalf("crash reports: %v", files)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var r cgoguard.CrashReport
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if r.Module != m.Name() || r.Signal != "SIGABRT" || r.PID != os.Getpid() || len(r.Frames) == 0 || r.GoStack == "" {
		t.Errorf("report: %+v", r)
	}
}

func TestCloseWaitsAndRejects(t *testing.T) {
	cfixture.SetGate(false)
	defer cfixture.SetGate(true)
	closed := 0
	m, err := cgoguard.New("close-test", cgoguard.WithCloser(func() error { closed++; return nil }))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := m.Call(bg, cfixture.WaitGate, nil); done <- err }()
	waitFor(t, "the call in C", func() bool { return m.InFlight() == 1 })
	closeDone := make(chan error, 1)
	go func() { closeDone <- m.Close() }()
	select {
	case err := <-closeDone:
		t.Fatalf("Close returned (%v) while a call was in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	if _, err := m.Call(bg, cfixture.Empty, nil); !errors.Is(err, cgoguard.ErrClosed) {
		t.Errorf("call during Close: %v", err)
	}
	cfixture.SetGate(true)
	if err := <-done; err != nil {
		t.Errorf("in-flight call: %v", err)
	}
	if err := <-closeDone; err != nil {
		t.Errorf("Close: %v", err)
	}
	if closed != 1 {
		t.Errorf("closer ran %d times", closed)
	}
	if err := m.Close(); !errors.Is(err, cgoguard.ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
	if cgoguard.Lookup("close-test") != nil {
		t.Error("closed module still registered")
	}
}

func TestShutdownClosesInReverseOrder(t *testing.T) {
	var mu sync.Mutex
	var order []string
	for _, name := range []string{"sd-a", "sd-b", "sd-c"} {
		name := name
		if _, err := cgoguard.New(name, cgoguard.WithCloser(func() error {
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			return nil
		})); err != nil {
			t.Fatal(err)
		}
	}
	freed := 0
	owner := new(int)
	cl := cgoguard.NewCleanup(owner, func() { freed++ })
	if err := cgoguard.Shutdown(bg); err != nil {
		t.Fatal(err)
	}
	if got := order; len(got) != 3 || got[0] != "sd-c" || got[1] != "sd-b" || got[2] != "sd-a" {
		t.Errorf("close order %v, want [sd-c sd-b sd-a]", got)
	}
	if freed != 1 || !cl.Done() {
		t.Errorf("pending cleanup ran %d times at shutdown", freed)
	}
	if len(cgoguard.Modules()) != 0 {
		t.Errorf("modules left open: %d", len(cgoguard.Modules()))
	}
}

// TestFastPathDoesNotAllocate: a call without deadline, bulkhead or
// observer allocates nothing, whatever the metrics level.
func TestFastPathDoesNotAllocate(t *testing.T) {
	for _, lvl := range []cgoguard.Metrics{cgoguard.MetricsOff, cgoguard.MetricsCounters, cgoguard.MetricsHistogram} {
		m := newModule(t, cgoguard.WithMetrics(lvl))
		if n := testing.AllocsPerRun(1000, func() { m.Call(bg, cfixture.Empty, nil) }); n != 0 {
			t.Errorf("metrics level %d: %v allocations per call, want 0", lvl, n)
		}
	}
}
