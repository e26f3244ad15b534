//go:build cgo && linux

package isolate_test

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/arena"
	"github.com/cgoguard/cgoguard/isolate"
	"github.com/cgoguard/cgoguard/isolate/internal/fixture"
)

// TestOneLineMove: a module created with WithIsolation keeps its callers'
// code (Module.Call with C function pointers) and its policies.
func TestOneLineMove(t *testing.T) {
	m, err := cgoguard.New(t.Name(),
		cgoguard.WithIsolation(isolate.Isolator(isolate.WithWorkers(2))),
		cgoguard.WithBreaker(cgoguard.BreakerConfig{ConsecutiveFailures: 3, CoolDown: time.Hour}))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	p, ok := isolate.PoolOf(m)
	if !ok || p.Module() != m {
		t.Fatal("PoolOf does not find the module's pool")
	}
	_, buf, err := p.Arena().Alloc(fixture.AddArgSize, 8)
	if err != nil {
		t.Fatal(err)
	}
	arg := (*fixture.AddArg)(unsafe.Pointer(&buf[0]))
	arg.A, arg.B = 20, 22
	ctx := context.Background()
	if rc, err := m.Call(ctx, fixture.AddFn, unsafe.Pointer(arg)); err != nil || rc != 42 || arg.Sum != 42 {
		t.Fatalf("Call: %d, %v, sum %d", rc, err, arg.Sum)
	}
	for i := 0; i < 3; i++ {
		if _, err := m.Call(ctx, fixture.SegvFn, nil); !errors.As(err, new(*cgoguard.CrashError)) {
			t.Fatalf("crash %d: %v", i, err)
		}
		if i == 0 && m.State() != cgoguard.Closed {
			t.Fatalf("after one crash the isolated module is %v, want closed (its worker was replaced)", m.State())
		}
	}
	if _, err := m.Call(ctx, fixture.AddFn, unsafe.Pointer(arg)); !errors.Is(err, cgoguard.ErrOpen) {
		t.Fatalf("after 3 crashes: %v, want ErrOpen", err)
	}
	st := m.Stats()
	if st.OK != 1 || st.Crashes != 3 || st.CrashesBySignal["SIGSEGV"] != 3 || st.Rejected != 1 || st.State != cgoguard.Open || len(st.RecentCrashes) != 3 {
		t.Fatalf("stats %+v", st)
	}
	if st.RecentCrashes[0].Frames[0] == "" || !strings.Contains(st.RecentCrashes[0].Frames[0], "fx_segv") {
		t.Fatalf("recent crash frames %v", st.RecentCrashes[0].Frames)
	}
	if err := m.Reset(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Call(ctx, fixture.EmptyFn, nil); err != nil {
		t.Fatalf("after Reset: %v", err)
	}
}

// TestWithIsolationOptions: package isolate's options go to
// cgoguard.WithIsolation directly (the one-line move of issue 14), with
// the same effect as through Isolator.
func TestWithIsolationOptions(t *testing.T) {
	tests := []struct {
		name string
		iso  cgoguard.Option
	}{
		{"options", cgoguard.WithIsolation(isolate.WithWorkers(2), isolate.WithCallTimeout(300*time.Millisecond), isolate.WithKillGrace(10*time.Millisecond))},
		{"Isolator", cgoguard.WithIsolation(isolate.Isolator(isolate.WithWorkers(2), isolate.WithCallTimeout(300*time.Millisecond), isolate.WithKillGrace(10*time.Millisecond)))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := cgoguard.New(t.Name(), tc.iso)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			p, ok := isolate.PoolOf(m)
			if !ok {
				t.Fatal("the module has no pool")
			}
			if st := p.Stats(); st.Workers != 2 {
				t.Fatalf("%d workers, want WithWorkers(2)", st.Workers)
			}
			_, buf, err := p.Arena().Alloc(fixture.AddArgSize, 8)
			if err != nil {
				t.Fatal(err)
			}
			arg := (*fixture.AddArg)(unsafe.Pointer(&buf[0]))
			arg.A, arg.B = 40, 2
			if rc, err := m.Call(context.Background(), fixture.AddFn, unsafe.Pointer(arg)); err != nil || rc != 42 {
				t.Fatalf("Call: %d, %v", rc, err)
			}
			// WithCallTimeout applies: a hung call ends with ErrTimeout
			// (isolate.ErrTimeout is the same error).
			_, err = m.Call(context.Background(), fixture.HangFn, nil)
			if !errors.Is(err, cgoguard.ErrTimeout) || !errors.Is(err, isolate.ErrTimeout) {
				t.Fatalf("hang: %v, want ErrTimeout from WithCallTimeout", err)
			}
			m.Close()
			if _, err := m.Call(context.Background(), fixture.AddFn, unsafe.Pointer(arg)); !errors.Is(err, isolate.ErrClosed) || !errors.Is(err, cgoguard.ErrClosed) {
				t.Fatalf("after Close: %v, want ErrClosed", err)
			}
		})
	}
}

// TestWithIsolationInvalid: combinations WithIsolation cannot join are
// errors of cgoguard.New, and no worker starts.
func TestWithIsolationInvalid(t *testing.T) {
	iso := isolate.Isolator(isolate.WithWorkers(1))
	tests := []struct {
		name string
		opts []cgoguard.Option
		want string
	}{
		{"none", []cgoguard.Option{cgoguard.WithIsolation()}, "no Isolator or isolation option"},
		{"nil", []cgoguard.Option{cgoguard.WithIsolation(nil)}, "option 0 is nil"},
		{"nil among options", []cgoguard.Option{cgoguard.WithIsolation(isolate.WithWorkers(1), nil)}, "option 1 is nil"},
		{"nil Option", []cgoguard.Option{cgoguard.WithIsolation(isolate.Option(nil))}, "option 0 is nil"},
		{"nil Option among options", []cgoguard.Option{cgoguard.WithIsolation(isolate.WithWorkers(1), isolate.Option(nil))}, "option 1 is nil"},
		{"two Isolators", []cgoguard.Option{cgoguard.WithIsolation(iso, iso)}, "is an Isolator"},
		{"Isolator then option", []cgoguard.Option{cgoguard.WithIsolation(iso, isolate.WithWorkers(2))}, "is an Isolator"},
		{"option then Isolator", []cgoguard.Option{cgoguard.WithIsolation(isolate.WithWorkers(2), iso)}, "is an Isolator"},
		{"twice", []cgoguard.Option{cgoguard.WithIsolation(iso), cgoguard.WithIsolation(isolate.WithWorkers(1))}, "WithIsolation given twice"},
		{"bad option", []cgoguard.Option{cgoguard.WithIsolation(isolate.WithWorkers(0))}, "WithWorkers(0)"},
		{"module options inside", []cgoguard.Option{cgoguard.WithIsolation(isolate.WithWorkers(1), isolate.WithModule(cgoguard.WithMaxConcurrent(2)))}, "give those options to cgoguard.New"},
		{"module options in an Isolator", []cgoguard.Option{cgoguard.WithIsolation(isolate.Isolator(isolate.WithModule(cgoguard.WithMaxConcurrent(2))))}, "WithModule has no effect"},
	}
	before := len(isolate.Pools())
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := cgoguard.New(t.Name(), tc.opts...)
			if err == nil {
				m.Close()
				t.Fatalf("New succeeded, want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "cgoguard: ") {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if n := len(isolate.Pools()); n != before {
				t.Fatalf("%d pools open after a failed New", n)
			}
		})
	}
}

func TestBulkheadAndTimeoutOfTheModule(t *testing.T) {
	m, err := cgoguard.New(t.Name(),
		cgoguard.WithIsolation(isolate.Isolator(isolate.WithWorkers(2), isolate.WithKillGrace(10*time.Millisecond))),
		cgoguard.WithMaxConcurrent(1), cgoguard.WithTimeout(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	done := make(chan error, 1)
	go func() {
		_, err := m.Call(context.Background(), fixture.HangFn, nil)
		done <- err
	}()
	for m.InFlight() == 0 {
		time.Sleep(time.Millisecond)
	}
	if _, err := m.Call(context.Background(), fixture.EmptyFn, nil); !errors.Is(err, cgoguard.ErrBusy) {
		t.Fatalf("second call with a bulkhead of 1: %v, want ErrBusy", err)
	}
	if err := <-done; !errors.Is(err, cgoguard.ErrTimeout) {
		t.Fatalf("hang under WithTimeout: %v", err)
	}
	st := m.Stats()
	if st.Timeouts != 1 || st.Rejected != 1 || st.Abandoned != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestArguments(t *testing.T) {
	p := newPool(t, isolate.WithWorkers(1), isolate.WithArenaSize(1<<16))
	m := p.Module()
	ctx := context.Background()
	var local fixture.AddArg
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"unknown name", func() error { _, err := p.Call(ctx, "nope", arena.Ref{}); return err }, isolate.ErrNotRegistered},
		{"unregistered function", func() error { _, err := m.Call(ctx, fixture.EmptyRawFn, nil); return err }, isolate.ErrNotRegistered},
		{"Go memory", func() error { _, err := m.Call(ctx, fixture.AddFn, unsafe.Pointer(&local)); return err }, isolate.ErrArgument},
		{"foreign ref", func() error {
			_, err := p.Call(ctx, fixture.Add, arena.NewRef(p.Arena().ID()+1, 1, 4096, 12))
			return err
		}, arena.ErrForeignRef},
		{"stale ref", func() error {
			ref, _ := add(t, p, 1, 2)
			p.Arena().Reset()
			_, err := p.Call(ctx, fixture.Add, ref)
			return err
		}, arena.ErrStaleRef},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, tc.want) || !strings.HasPrefix(err.Error(), "cgoguard: ") {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := call(t, p, fixture.Empty); err != nil {
		t.Fatalf("the pool serves after rejected calls: %v", err)
	}
	if st := m.Stats(); st.Crashes != 0 || st.Errors != 0 {
		t.Fatalf("rejected calls counted as failures: %+v", st)
	}
}

// TestSharedArena: the worker reads and writes the block in place, follows
// pointers into the arena, and allocates from it.
func TestSharedArena(t *testing.T) {
	p := newPool(t, isolate.WithWorkers(1))
	a := p.Arena()
	dstRef, dst, err := a.Alloc(100, 8)
	if err != nil {
		t.Fatal(err)
	}
	ref, buf, err := a.Alloc(fixture.FillArgSize, 8)
	if err != nil {
		t.Fatal(err)
	}
	arg := (*fixture.FillArg)(unsafe.Pointer(&buf[0]))
	arg.Dst, arg.N, arg.V = uintptr(unsafe.Pointer(&dst[0])), 100, 0x7e
	if rc, err := p.Call(context.Background(), fixture.Fill, ref); err != nil || rc != 100 {
		t.Fatalf("fill: %d, %v", rc, err)
	}
	for i, b := range dst {
		if b != 0x7e {
			t.Fatalf("byte %d of %v is %#x after the worker filled it", i, dstRef, b)
		}
	}
	refRef, rbuf, err := a.Alloc(arena.RefSize, 8)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Call(context.Background(), fixture.ArenaAlloc, refRef); err != nil {
		t.Fatal(err)
	}
	var got arena.Ref
	if err := got.UnmarshalBinary(rbuf); err != nil {
		t.Fatal(err)
	}
	blk, err := a.Resolve(got)
	if err != nil || len(blk) != 64 || blk[0] != 0x5a || blk[63] != 0x5a {
		t.Fatalf("the worker's block %v: %v, %v", got, blk, err)
	}
	if n, err := call(t, p, fixture.Worker); err != nil || n < 0 {
		t.Fatalf("cg_isolate_worker = %d, %v", n, err)
	}
}

type fixedTrace struct{ id [16]byte }

func (f fixedTrace) CallStart(ctx context.Context, module string) ([16]byte, bool, any) {
	return f.id, true, nil
}
func (fixedTrace) CallEnd(any, cgoguard.Outcome, int, error) {}

func TestTraceIDReachesTheWorker(t *testing.T) {
	id := [16]byte{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	m, err := cgoguard.New(t.Name(), cgoguard.WithIsolation(isolate.Isolator(isolate.WithWorkers(1))), cgoguard.WithObserver(fixedTrace{id}))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	p, _ := isolate.PoolOf(m)
	ref, buf, err := p.Arena().Alloc(33, 8)
	if err != nil {
		t.Fatal(err)
	}
	if rc, err := p.Call(context.Background(), fixture.Trace, ref); err != nil || rc != 1 {
		t.Fatalf("trace: %d, %v", rc, err)
	}
	if got := string(buf[:32]); got != hex.EncodeToString(id[:]) {
		t.Fatalf("the worker saw trace id %q, want %x", got, id)
	}
}

func TestRegisterAfterStartPanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "register in init") {
			t.Fatalf("recover() = %v", r)
		}
	}()
	isolate.Register("late", fixture.EmptyRawFn)
}

func TestOptionErrors(t *testing.T) {
	tests := []struct {
		opt  isolate.Option
		want string
	}{
		{isolate.WithWorkers(0), "want 1 to"},
		{isolate.WithArenaSize(0), "must be positive"},
		{isolate.WithCallTimeout(-1), "negative"},
		{isolate.WithRestartBackoff(0, time.Second), "0 < min <= max"},
		{isolate.WithRestartBackoff(time.Second, time.Millisecond), "0 < min <= max"},
		{isolate.WithEnv("NOEQUALS"), "want KEY=value"},
		{isolate.WithEnv("CGOGUARD_ISOLATE_WORKER=1"), "reserved"},
		{isolate.WithKillGrace(-1), "negative"},
		{isolate.WithStartTimeout(0), "must be positive"},
		{isolate.WithSpin(2 * time.Second), "want 0 to 1s"},
		{isolate.WithSpares(-1), "want 0 to"},
		{nil, "option 0 is nil"},
	}
	for _, tc := range tests {
		if _, err := isolate.New("options", tc.opt); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "cgoguard: ") {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}

func TestShutdownStopsPools(t *testing.T) {
	p := newPool(t, isolate.WithWorkers(1))
	pids := p.Stats().PIDs
	if err := cgoguard.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		waitGone(t, pid)
	}
	if _, err := call(t, p, fixture.Empty); !errors.Is(err, cgoguard.ErrClosed) {
		t.Fatalf("call after Shutdown: %v", err)
	}
}

// TestQueueTimeoutCounts: a call whose deadline passes while it waits for
// a worker is a timeout of the module, and costs no worker.
func TestQueueTimeoutCounts(t *testing.T) {
	p := newPool(t, isolate.WithWorkers(1), isolate.WithSpares(0), isolate.WithCloseTimeout(time.Millisecond))
	done := hangInBackground(t, p)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := p.Call(ctx, fixture.Empty, arena.Ref{}); !errors.Is(err, cgoguard.ErrTimeout) || !strings.Contains(err.Error(), "no worker free") {
		t.Fatalf("call with every worker busy: %v", err)
	}
	st := p.Module().Stats()
	if st.Timeouts != 1 || st.Rejected != 0 {
		t.Fatalf("stats %+v, want 1 timeout, 0 rejected", st)
	}
	if n := p.Restarts(isolate.ReasonTimeout); n != 0 {
		t.Fatalf("%d timeout restarts for a call that never reached a worker", n)
	}
	p.Close()
	<-done
}
