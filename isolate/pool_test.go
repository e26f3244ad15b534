//go:build cgo && linux

package isolate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/arena"
	"github.com/cgoguard/cgoguard/isolate"
	"github.com/cgoguard/cgoguard/isolate/internal/fixture"
)

func newPool(t testing.TB, opts ...isolate.Option) *isolate.Pool {
	t.Helper()
	p, err := isolate.New(t.Name(), opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// add allocates an fx_add_arg in the pool's arena.
func add(t testing.TB, p *isolate.Pool, a, b int32) (arena.Ref, *fixture.AddArg) {
	t.Helper()
	ref, buf, err := p.Arena().Alloc(fixture.AddArgSize, 8)
	if err != nil {
		t.Fatal(err)
	}
	arg := (*fixture.AddArg)(unsafe.Pointer(&buf[0]))
	arg.A, arg.B = a, b
	return ref, arg
}

func call(t testing.TB, p *isolate.Pool, fn string) (int, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return p.Call(ctx, fn, arena.Ref{})
}

func pidOf(t testing.TB, p *isolate.Pool) int {
	t.Helper()
	pid, err := call(t, p, fixture.PID)
	if err != nil {
		t.Fatalf("pid call: %v", err)
	}
	return pid
}

func TestCallResults(t *testing.T) {
	p := newPool(t, isolate.WithWorkers(2))
	ref, arg := add(t, p, 40, 2)
	rc, err := p.Call(context.Background(), fixture.Add, ref)
	if err != nil || rc != 42 || arg.Sum != 42 {
		t.Fatalf("add: rc %d, sum %d, err %v; want 42, 42, nil", rc, arg.Sum, err)
	}
	rc, err = call(t, p, fixture.Error)
	var ce *cgoguard.CError
	if !errors.As(err, &ce) || rc != -5 || ce.Code != 5 || ce.Errno != syscall.ENOENT || ce.Message != "no record 42" || ce.Module != t.Name() {
		t.Fatalf("error: rc %d, err %#v", rc, err)
	}
	rc, err = call(t, p, fixture.Neg)
	if !errors.As(err, &ce) || rc != -int(syscall.EACCES) || !errors.Is(err, syscall.EACCES) {
		t.Fatalf("neg: rc %d, err %v", rc, err)
	}
	if pid := pidOf(t, p); pid == 0 || pid == syscall.Getpid() {
		t.Fatalf("the call ran in pid %d, this process is %d", pid, syscall.Getpid())
	}
}

func TestCrashRestarts(t *testing.T) {
	for _, tc := range []struct {
		fn     string
		signal syscall.Signal
		frame  string
	}{
		{fixture.Segv, syscall.SIGSEGV, "fx_segv"},
		{fixture.Abort, syscall.SIGABRT, "abort"},
	} {
		t.Run(tc.fn, func(t *testing.T) {
			p := newPool(t, isolate.WithWorkers(1))
			before := pidOf(t, p)
			_, err := call(t, p, tc.fn)
			var ce *cgoguard.CrashError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *CrashError", err)
			}
			if ce.Signal != tc.signal || ce.Module != t.Name() || ce.PC == 0 || len(ce.Frames) == 0 {
				t.Fatalf("crash %+v", ce)
			}
			found := false
			for _, f := range ce.Frames {
				if strings.Contains(f.Function, tc.frame) {
					found = true
				}
			}
			if !found {
				t.Fatalf("no frame names %s: %v", tc.frame, ce.Frames)
			}
			if tc.signal == syscall.SIGSEGV && ce.Addr != 0x10 {
				t.Fatalf("fault address %#x, want 0x10", ce.Addr)
			}
			after := pidOf(t, p)
			if after == before {
				t.Fatalf("the call after the crash ran in the crashed worker %d", before)
			}
			if n := p.Restarts(isolate.ReasonCrash); n != 1 {
				t.Fatalf("%d crash restarts, want 1", n)
			}
		})
	}
}

func TestTimeoutKillsAndReplaces(t *testing.T) {
	p := newPool(t, isolate.WithWorkers(1), isolate.WithSpares(0),
		isolate.WithCallTimeout(200*time.Millisecond), isolate.WithKillGrace(50*time.Millisecond))
	before := pidOf(t, p)
	start := time.Now()
	_, err := call(t, p, fixture.Hang)
	if !errors.Is(err, cgoguard.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hang: %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the timed-out call took %v to return", d)
	}
	waitGone(t, before)
	waitIdle(t, p, 1) // the replacement's start may outlast the call timeout on a loaded machine
	if after := pidOf(t, p); after == before {
		t.Fatal("the hung worker still serves")
	}
	if n := p.Restarts(isolate.ReasonTimeout); n != 1 {
		t.Fatalf("%d timeout restarts, want 1", n)
	}
}

func TestContextDeadlineAndCancel(t *testing.T) {
	p := newPool(t, isolate.WithWorkers(1), isolate.WithKillGrace(20*time.Millisecond))
	// Each call must reach a worker before its context ends (a call still
	// waiting for a worker does not cost one).
	waitIdle(t, p, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := p.Call(ctx, fixture.Hang, arena.Ref{})
	if !errors.Is(err, cgoguard.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("deadline: %v", err)
	}
	waitIdle(t, p, 1)
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err = p.Call(ctx, fixture.Hang, arena.Ref{})
	if !errors.Is(err, context.Canceled) || errors.Is(err, cgoguard.ErrTimeout) {
		t.Fatalf("cancel: %v, want context.Canceled", err)
	}
	if _, err := call(t, p, fixture.Empty); err != nil {
		t.Fatalf("call after two abandoned calls: %v", err)
	}
	if n := p.Restarts(isolate.ReasonTimeout); n != 2 {
		t.Fatalf("%d timeout restarts, want 2", n)
	}
}

// TestLateCallKeepsWorker: a call that outlives its deadline but finishes
// within the grace period leaves its worker serving.
func TestLateCallKeepsWorker(t *testing.T) {
	p := newPool(t, isolate.WithWorkers(1), isolate.WithKillGrace(2*time.Second))
	before := pidOf(t, p)
	ref, buf, err := p.Arena().Alloc(4, 4)
	if err != nil {
		t.Fatal(err)
	}
	*(*int32)(unsafe.Pointer(&buf[0])) = 150
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := p.Call(ctx, fixture.SleepMS, ref); !errors.Is(err, cgoguard.ErrTimeout) {
		t.Fatalf("sleep 150ms with a 30ms deadline: %v", err)
	}
	if after := pidOf(t, p); after != before {
		t.Fatalf("worker %d replaced by %d although its call finished within the grace period", before, after)
	}
	if n := p.Restarts(isolate.ReasonTimeout); n != 0 {
		t.Fatalf("%d timeout restarts, want 0", n)
	}
}

func TestWorkerExits(t *testing.T) {
	p := newPool(t, isolate.WithWorkers(1))
	tests := []struct {
		fn     string
		crash  bool
		reason string
	}{
		{fixture.Exit, false, isolate.ReasonExit},
		{fixture.ThreadSegv, true, isolate.ReasonCrash},
	}
	for _, tc := range tests {
		t.Run(tc.fn, func(t *testing.T) {
			before := p.Restarts(tc.reason)
			_, err := call(t, p, tc.fn)
			var ee *isolate.ExitError
			if !errors.As(err, &ee) || ee.PID == 0 || ee.State == nil {
				t.Fatalf("err = %v, want an *ExitError", err)
			}
			var ce *cgoguard.CrashError
			if got := errors.As(err, &ce); got != tc.crash {
				t.Fatalf("errors.As(*CrashError) = %v, want %v (%v)", got, tc.crash, err)
			}
			if tc.crash && ce.Signal != syscall.SIGSEGV {
				t.Fatalf("signal %v, want SIGSEGV", ce.Signal)
			}
			if !tc.crash && ee.State.ExitCode() != 3 {
				t.Fatalf("exit code %d, want 3", ee.State.ExitCode())
			}
			if _, err := call(t, p, fixture.Empty); err != nil {
				t.Fatalf("next call: %v", err)
			}
			if got := p.Restarts(tc.reason); got != before+1 {
				t.Fatalf("%s restarts %d, want %d", tc.reason, got, before+1)
			}
		})
	}
}

// waitGone waits until process pid no longer runs (gone, or a zombie).
func waitGone(t testing.TB, pid int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("end of process %d", pid), func() bool { return !alive(pid) })
}

// waitIdle waits until p has n idle workers.
func waitIdle(t testing.TB, p *isolate.Pool, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d idle workers", n), func() bool { return p.Stats().Idle >= n })
}

// waitSpares waits until p has n spares ready.
func waitSpares(t testing.TB, p *isolate.Pool, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d spares", n), func() bool { return p.Stats().Spares >= n })
}

// waitFor polls cond for up to 10s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after 10s", what)
		}
	}
}

// TestCallDoesNotAllocate: a successful call allocates nothing on the Go
// heap (the argument is in the arena, the result in the slot).
func TestCallDoesNotAllocate(t *testing.T) {
	p := newPool(t, isolate.WithWorkers(1))
	ref, _ := add(t, p, 1, 2)
	ctx := context.Background()
	if n := testing.AllocsPerRun(200, func() {
		if _, err := p.Call(ctx, fixture.Add, ref); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("%v allocations per call", n)
	}
}

// TestWorkerKilledFromOutside: a worker killed during a call fails that
// call at once (the caller never waits on a dead worker); one killed while
// idle costs no call at all.
func TestWorkerKilledFromOutside(t *testing.T) {
	p := newPool(t, isolate.WithWorkers(1), isolate.WithSpares(0))
	pid := pidOf(t, p)
	done := hangInBackground(t, p)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		var ee *isolate.ExitError
		var ce *cgoguard.CrashError
		if !errors.As(err, &ee) || !errors.As(err, &ce) || ce.Signal != syscall.SIGKILL || ee.PID != pid {
			t.Fatalf("call on a killed worker: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the call on a killed worker did not return")
	}
	waitIdle(t, p, 1)
	idle := pidOf(t, p)
	if err := syscall.Kill(idle, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if _, err := call(t, p, fixture.Empty); err != nil {
		t.Fatalf("call after the idle worker was killed: %v", err)
	}
	if c, e := p.Restarts(isolate.ReasonCrash), p.Restarts(isolate.ReasonExit); c != 1 || e != 1 {
		t.Fatalf("restarts: crash %d, exit %d; want 1 and 1", c, e)
	}
}

// hangInBackground starts a call that never returns by itself and waits
// until it runs in a worker (the C function raised a flag in the arena);
// the call's error arrives on the channel.
func hangInBackground(t testing.TB, p *isolate.Pool) <-chan error {
	t.Helper()
	ref, buf, err := p.Arena().Alloc(4, 4)
	if err != nil {
		t.Fatal(err)
	}
	flag := (*int32)(unsafe.Pointer(&buf[0]))
	done := make(chan error, 1)
	go func() {
		_, err := p.Call(context.Background(), fixture.HangFlag, ref)
		done <- err
	}()
	waitFor(t, "the call running in a worker", func() bool { return atomic.LoadInt32(flag) == 1 })
	return done
}
