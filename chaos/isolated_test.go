//go:build cgo && linux

package chaos_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/arena"
	"github.com/cgoguard/cgoguard/chaos"
	"github.com/cgoguard/cgoguard/internal/cfixture"
	"github.com/cgoguard/cgoguard/isolate"
	"github.com/cgoguard/cgoguard/observe"
)

// Failpoints on modules whose calls run in isolate worker processes: the
// triggers are evaluated in this process, the action runs in the worker.

// moduleName is a module name made from the test's name.
func moduleName(t *testing.T) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, t.Name())
}

// newIsolated opens a module named after the test whose calls run in a
// pool of one worker (no spare unless opts say otherwise); its failpoints
// are cleared and it is closed at the end.
func newIsolated(t *testing.T, opts ...isolate.Option) (*cgoguard.Module, *isolate.Pool) {
	t.Helper()
	name := moduleName(t)
	opts = append([]isolate.Option{isolate.WithWorkers(1), isolate.WithSpares(0), isolate.WithArenaSize(1 << 20)}, opts...)
	m, err := cgoguard.New(name, cgoguard.WithIsolation(isolate.Isolator(opts...)))
	if err != nil {
		t.Fatal(err)
	}
	p, ok := isolate.PoolOf(m)
	if !ok {
		t.Fatal("no pool behind the module")
	}
	t.Cleanup(func() {
		for _, in := range chaos.List() {
			if in.Module == name {
				chaos.ClearTarget(in.Target)
			}
		}
		m.Close()
	})
	return m, p
}

// arenaInt returns a C int holding v in the pool's arena.
func arenaInt(t *testing.T, p *isolate.Pool, v int) (unsafe.Pointer, *int32) {
	t.Helper()
	_, buf, err := p.Arena().Alloc(4, 4)
	if err != nil {
		t.Fatal(err)
	}
	ptr := unsafe.Pointer(&buf[0])
	*(*int32)(ptr) = int32(v)
	return ptr, (*int32)(ptr)
}

// workerPID asks the worker that serves the next call for its pid.
func workerPID(t *testing.T, m *cgoguard.Module) int {
	t.Helper()
	pid, err := m.Call(context.Background(), cfixture.Getpid, nil)
	if err != nil {
		t.Fatalf("getpid in the worker: %v", err)
	}
	if pid == os.Getpid() {
		t.Fatal("the call ran in this process, not in a worker")
	}
	return pid
}

// metric returns the value of the sample of name whose labels include
// labels, from the failpoint and cgoguard collectors (-1: none).
func metric(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(chaos.Collector(), observe.NewCollector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, s := range mf.GetMetric() {
			have := map[string]string{}
			for _, l := range s.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue next
				}
			}
			if s.Counter != nil {
				return s.GetCounter().GetValue()
			}
			return s.GetGauge().GetValue()
		}
	}
	return -1
}

func TestIsolatedActions(t *testing.T) {
	notCalled := func(t *testing.T, count *int32) {
		t.Helper()
		if *count != 0 {
			t.Fatalf("the function ran (count %d); the action must return without calling it", *count)
		}
	}
	tests := []struct {
		seq   string
		check func(t *testing.T, rc int, err error, count *int32, took time.Duration)
	}{
		{"segv", isolatedCrash(syscall.SIGSEGV)},
		{"bus", isolatedCrash(syscall.SIGBUS)},
		{"fpe", isolatedCrash(syscall.SIGFPE)},
		{"abort", isolatedCrash(syscall.SIGABRT)},
		{"errno(EIO)", func(t *testing.T, rc int, err error, count *int32, _ time.Duration) {
			var ce *cgoguard.CError
			if !errors.As(err, &ce) || rc != -int(syscall.EIO) || !errors.Is(err, syscall.EIO) {
				t.Fatalf("rc %d, err %v: want -EIO as a CError", rc, err)
			}
			notCalled(t, count)
		}},
		{`error(42,"bad header",EPROTO)`, func(t *testing.T, rc int, err error, count *int32, _ time.Duration) {
			var ce *cgoguard.CError
			if !errors.As(err, &ce) || ce.Code != 42 || ce.Message != "bad header" || ce.Errno != syscall.EPROTO || rc != -42 {
				t.Fatalf("rc %d, err %#v: want code 42, message, EPROTO", rc, err)
			}
			notCalled(t, count)
		}},
		{"delay(150ms)", func(t *testing.T, rc int, err error, count *int32, took time.Duration) {
			if err != nil || rc != 1 || *count != 1 {
				t.Fatalf("rc %d, err %v, count %d: want the function's 1 after the delay", rc, err, *count)
			}
			if took < 150*time.Millisecond {
				t.Fatalf("returned after %v, before the delay", took)
			}
		}},
		{"off", func(t *testing.T, rc int, err error, count *int32, _ time.Duration) {
			if err != nil || rc != 1 {
				t.Fatalf("rc %d, err %v: want 1", rc, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.seq, func(t *testing.T) {
			m, p := newIsolated(t)
			set(t, m, tt.seq)
			if !m.ChaosArmed() {
				t.Fatal("the isolated module is not marked")
			}
			if in := find(t, m.Name()); !in.ModuleIsolated || in.Unreachable {
				t.Fatalf("info %+v: want module_isolated, reachable", in)
			}
			arg, count := arenaInt(t, p, 0)
			start := time.Now()
			rc, err := m.Call(context.Background(), cfixture.Count, arg)
			tt.check(t, rc, err, count, time.Since(start))
			k := chaos.Kind(strings.SplitN(tt.seq, "(", 2)[0])
			want := uint64(1)
			if k == chaos.Off {
				want = 0
			}
			if got := chaos.Fired(m.Name(), k); got != want {
				t.Fatalf("Fired(%s) = %d, want %d", k, got, want)
			}
			if k != chaos.Off {
				if got := metric(t, "cgoguard_failpoints_fired_total", map[string]string{"module": m.Name(), "action": string(k)}); got != 1 {
					t.Fatalf("cgoguard_failpoints_fired_total{action=%q} = %v, want 1", k, got)
				}
			}
			chaos.ClearTarget(`"` + m.Name() + `"`)
			if m.ChaosArmed() {
				t.Fatal("module still marked after the failpoint was cleared")
			}
			*count = 0
			if rc, err := m.Call(context.Background(), cfixture.Count, arg); err != nil || rc != 1 {
				t.Fatalf("after clear: rc %d, err %v", rc, err)
			}
		})
	}
}

// isolatedCrash checks a crash raised in the worker: a CrashError with the
// signal and frames from the worker naming the chaos function, the worker
// replaced (counted as a crash restart), and the module still serving.
func isolatedCrash(sig syscall.Signal) func(t *testing.T, rc int, err error, count *int32, took time.Duration) {
	return func(t *testing.T, rc int, err error, count *int32, _ time.Duration) {
		t.Helper()
		crashWith(sig)(t, rc, err)
		if *count != 0 {
			t.Fatalf("the function ran (count %d) before the crash", *count)
		}
	}
}

func TestIsolatedCrashRestarts(t *testing.T) {
	m, p := newIsolated(t)
	before := workerPID(t, m)
	set(t, m, "1*segv")
	arg, count := arenaInt(t, p, 0)
	_, err := m.Call(context.Background(), cfixture.Count, arg)
	var ce *cgoguard.CrashError
	if !errors.As(err, &ce) || ce.Signal != syscall.SIGSEGV || ce.Module != m.Name() {
		t.Fatalf("err %v, want a SIGSEGV CrashError of %s", err, m.Name())
	}
	if ce.Addr != 0 {
		t.Fatalf("fault address %#x, want 0 (the NULL store of cg_chaos_segv)", ce.Addr)
	}
	// The frames were taken in the worker and named through its memory map.
	if len(ce.Frames) == 0 || ce.Frames[0].Function != "cg_chaos_segv" {
		t.Fatalf("frames %v: want cg_chaos_segv first", ce.Frames)
	}
	if got := p.Restarts(isolate.ReasonCrash); got != 1 {
		t.Fatalf("crash restarts %d, want 1", got)
	}
	if got := metric(t, "cgoguard_worker_restarts_total", map[string]string{"module": m.Name(), "reason": "crash"}); got != 1 {
		t.Fatalf("cgoguard_worker_restarts_total{reason=crash} = %v, want 1", got)
	}
	if got := metric(t, "cgoguard_failpoints_fired_total", map[string]string{"module": m.Name(), "action": "segv"}); got != 1 {
		t.Fatalf("cgoguard_failpoints_fired_total{action=segv} = %v, want 1", got)
	}
	// The count is used up: the next call succeeds, on a new worker.
	if rc, err := m.Call(context.Background(), cfixture.Count, arg); err != nil || rc != 1 || *count != 1 {
		t.Fatalf("after the crash: rc %d, err %v, count %d", rc, err, *count)
	}
	if after := workerPID(t, m); after == before {
		t.Fatalf("the crashed worker %d still serves", before)
	}
	if m.State() == cgoguard.Quarantined {
		t.Fatal("an isolated module was quarantined")
	}
}

// hangCall starts a call of count that the hang failpoint holds, and
// returns its result channel once the call waits at the gate in the worker.
func hangCall(t *testing.T, m *cgoguard.Module, arg unsafe.Pointer) <-chan [2]any {
	t.Helper()
	done := make(chan [2]any, 1)
	go func() {
		rc, err := m.Call(context.Background(), cfixture.Count, arg)
		done <- [2]any{rc, err}
	}()
	waitFor(t, func() bool { return chaos.Waiting() >= 1 })
	select {
	case r := <-done:
		t.Fatalf("hang returned at once: %v", r)
	case <-time.After(100 * time.Millisecond):
	}
	return done
}

func TestIsolatedHangReleasedByClear(t *testing.T) {
	m, p := newIsolated(t)
	pid := workerPID(t, m)
	set(t, m, "hang")
	arg, count := arenaInt(t, p, 0)
	done := hangCall(t, m, arg)
	// The call waits in the worker, not here.
	if st := p.Stats(); st.Busy != 1 {
		t.Fatalf("stats %+v: want the worker busy", st)
	}
	if got := metric(t, "cgoguard_failpoints_waiting_calls", nil); got != 1 {
		t.Fatalf("cgoguard_failpoints_waiting_calls = %v, want 1", got)
	}
	chaos.ClearTarget(`"` + m.Name() + `"`)
	select {
	case r := <-done:
		if r[1] != nil || r[0].(int) != 1 || *count != 1 {
			t.Fatalf("released hang: rc %v, err %v, count %d; want the function's 1", r[0], r[1], *count)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("clearing the failpoint did not release the hang in the worker")
	}
	if chaos.Waiting() != 0 {
		t.Fatalf("Waiting() = %d after the release", chaos.Waiting())
	}
	// The same worker goes on serving: nothing was killed.
	if after := workerPID(t, m); after != pid {
		t.Fatalf("worker %d was replaced by %d", pid, after)
	}
	if st := p.Stats(); st.Restarts[isolate.ReasonTimeout]+st.Restarts[isolate.ReasonCrash]+st.Restarts[isolate.ReasonExit] != 0 {
		t.Fatalf("restarts %v, want none", st.Restarts)
	}
}

func TestIsolatedHangKilledByTimeout(t *testing.T) {
	m, p := newIsolated(t, isolate.WithCallTimeout(300*time.Millisecond), isolate.WithKillGrace(50*time.Millisecond))
	pid := workerPID(t, m)
	set(t, m, "hang")
	arg, count := arenaInt(t, p, 0)
	start := time.Now()
	_, err := m.Call(context.Background(), cfixture.Count, arg)
	if !errors.Is(err, cgoguard.ErrTimeout) {
		t.Fatalf("err %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("timed out after %v, before the call timeout", d)
	}
	// The hung worker is killed and replaced, counted as a timeout.
	waitFor(t, func() bool { return p.Restarts(isolate.ReasonTimeout) == 1 })
	if got := metric(t, "cgoguard_worker_restarts_total", map[string]string{"module": m.Name(), "reason": "timeout"}); got != 1 {
		t.Fatalf("cgoguard_worker_restarts_total{reason=timeout} = %v, want 1", got)
	}
	waitFor(t, func() bool { return chaos.Waiting() == 0 })
	chaos.ClearTarget(`"` + m.Name() + `"`)
	// The replacement is a fresh process (no spare): under load its start
	// can take longer than the 300 ms call timeout, which would then time
	// out waiting for a worker. Wait until it serves.
	waitFor(t, func() bool { return p.Stats().Idle == 1 })
	if rc, err := m.Call(context.Background(), cfixture.Count, arg); err != nil || rc != 1 || *count != 1 {
		t.Fatalf("after the timeout: rc %d, err %v, count %d (the hung call must never have run)", rc, err, *count)
	}
	if after := workerPID(t, m); after == pid {
		t.Fatalf("the hung worker %d still serves", pid)
	}
}

func TestIsolatedHangReleasedByTTL(t *testing.T) {
	m, p := newIsolated(t)
	if err := chaos.SetTTL(`"`+m.Name()+`"=hang`, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	arg, count := arenaInt(t, p, 0)
	start := time.Now()
	if rc, err := m.Call(context.Background(), cfixture.Count, arg); err != nil || rc != 1 || *count != 1 {
		t.Fatalf("rc %d, err %v, count %d", rc, err, *count)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("hang returned after %v, before the TTL", d)
	}
	waitFor(t, func() bool { return !m.ChaosArmed() })
}

// TestIsolatedTTLRenewal: renewing the failpoint moves the expiry the
// worker waits for.
func TestIsolatedTTLRenewal(t *testing.T) {
	m, p := newIsolated(t)
	spec := `"` + m.Name() + `"=hang`
	if err := chaos.SetTTL(spec, 400*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	arg, _ := arenaInt(t, p, 0)
	start := time.Now()
	done := hangCall(t, m, arg)
	time.Sleep(200 * time.Millisecond)
	if err := chaos.SetTTL(spec, 800*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r[1] != nil {
			t.Fatal(r[1])
		}
		if d := time.Since(start); d < 900*time.Millisecond {
			t.Fatalf("released after %v: the renewal was not seen in the worker", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the renewed TTL did not release the hang")
	}
}

func TestIsolatedDelayWaitsInWorker(t *testing.T) {
	m, p := newIsolated(t)
	set(t, m, "delay(30s)")
	arg, count := arenaInt(t, p, 0)
	done := hangCall(t, m, arg)
	if st := p.Stats(); st.Busy != 1 {
		t.Fatalf("stats %+v: want the worker busy with the delayed call", st)
	}
	if *count != 0 {
		t.Fatal("the function ran before the delay ended")
	}
	// Clearing ends the delay early, as in this process.
	chaos.Clear()
	select {
	case r := <-done:
		if r[1] != nil || r[0].(int) != 1 || *count != 1 {
			t.Fatalf("rc %v, err %v, count %d", r[0], r[1], *count)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("clearing did not end the delay in the worker")
	}
}

func TestIsolatedTriggers(t *testing.T) {
	tests := []struct {
		seq  string
		want string
	}{
		{"3*errno(EIO)", "xxx......."},
		{"%3errno(EIO)", "..x..x..x."},
		{"2*errno(EIO)->off", "xx........"},
		{"2*off->errno(EIO)", "..xxxxxxxx"},
		{"1*off->2*errno(EIO)->off", ".xx......."},
		{"2*%2errno(EIO)", ".x.x......"},
		{"1*off->1*segv->off", ".x........"},
	}
	for _, tt := range tests {
		t.Run(tt.seq, func(t *testing.T) {
			m, p := newIsolated(t)
			set(t, m, tt.seq)
			arg, count := arenaInt(t, p, 0)
			var b strings.Builder
			for range len(tt.want) {
				if _, err := m.Call(context.Background(), cfixture.Count, arg); err != nil {
					b.WriteByte('x')
				} else {
					b.WriteByte('.')
				}
			}
			if got := b.String(); got != tt.want {
				t.Fatalf("calls %s, want %s", got, tt.want)
			}
			// Evaluated once per call: the function ran exactly on the
			// calls the failpoint let through.
			if want := strings.Count(tt.want, "."); int(*count) != want {
				t.Fatalf("the function ran %d times, want %d", *count, want)
			}
			in := find(t, m.Name())
			if in.Calls != uint64(len(tt.want)) || in.Fired != uint64(strings.Count(tt.want, "x")) {
				t.Fatalf("info %+v: want %d calls, %d fired", in, len(tt.want), strings.Count(tt.want, "x"))
			}
		})
	}
}

func TestIsolatedProbability(t *testing.T) {
	m, p := newIsolated(t)
	set(t, m, "25%errno(EIO)")
	arg, count := arenaInt(t, p, 0)
	const n = 800
	fails := 0
	for range n {
		if _, err := m.Call(context.Background(), cfixture.Count, arg); err != nil {
			fails++
		}
	}
	// 25% of 800 is 200, standard deviation about 12: 6 sigma.
	if fails < 125 || fails > 275 {
		t.Fatalf("%d of %d calls failed, want about 200", fails, n)
	}
	if int(*count) != n-fails {
		t.Fatalf("the function ran %d times, want %d", *count, n-fails)
	}
	if in := find(t, m.Name()); in.Calls != n || in.Fired != uint64(fails) {
		t.Fatalf("info %+v: want %d calls, %d fired", in, n, fails)
	}
}

func TestIsolatedFunctionTargets(t *testing.T) {
	m, p := newIsolated(t)
	arg, count := arenaInt(t, p, 0)
	seven, _ := arenaInt(t, p, 7)
	// By the name given to isolate.Register, and by the symbol; the
	// module-wide failpoint applies to the rest.
	if err := chaos.Set(`"` + m.Name() + `".` + isoCount + `=errno(EIO);"` + m.Name() + `".fx_ret=errno(ENOENT);"` + m.Name() + `"=errno(EPERM)`); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := m.Call(ctx, cfixture.Count, arg); !errors.Is(err, syscall.EIO) {
		t.Fatalf("count: %v, want EIO", err)
	}
	if _, err := m.Call(ctx, cfixture.Ret, seven); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("ret: %v, want ENOENT", err)
	}
	if _, err := p.Call(ctx, isoEmpty, arenaRef(t, p)); !errors.Is(err, syscall.EPERM) {
		t.Fatalf("empty: %v, want EPERM (module-wide)", err)
	}
	if *count != 0 {
		t.Fatal("count ran")
	}
	// Through Pool.Call, by name, and only that function.
	chaos.Clear()
	if err := chaos.Set(`"` + m.Name() + `".` + isoCount + `=1*segv`); err != nil {
		t.Fatal(err)
	}
	sevenRef, _ := arenaBlock(t, p, 7)
	countRef, n := arenaBlock(t, p, 0)
	if rc, err := p.Call(ctx, isoRet, sevenRef); err != nil || rc != 7 {
		t.Fatalf("ret: rc %d, err %v; the function target must leave it alone", rc, err)
	}
	var ce *cgoguard.CrashError
	if _, err := p.Call(ctx, isoCount, countRef); !errors.As(err, &ce) {
		t.Fatalf("count: %v, want the crash of its failpoint", err)
	}
	if rc, err := p.Call(ctx, isoCount, countRef); err != nil || rc != 1 || *n != 1 {
		t.Fatalf("count after the crash: rc %d, err %v", rc, err)
	}
	for _, in := range chaos.List() {
		if in.Target == `"`+m.Name()+`".`+isoCount || in.Target == m.Name()+"."+isoCount {
			if in.Fired != 1 || in.Calls != 2 {
				t.Fatalf("info %+v: want 2 calls, 1 fired", in)
			}
		}
	}
}

// arenaRef allocates a small block of the pool's arena.
func arenaRef(t *testing.T, p *isolate.Pool) arena.Ref {
	t.Helper()
	r, _, err := p.Arena().Alloc(8, 8)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// arenaBlock is arenaInt with the block's Ref, for Pool.Call.
func arenaBlock(t *testing.T, p *isolate.Pool, v int) (arena.Ref, *int32) {
	t.Helper()
	r, buf, err := p.Arena().Alloc(4, 4)
	if err != nil {
		t.Fatal(err)
	}
	ptr := (*int32)(unsafe.Pointer(&buf[0]))
	*ptr = int32(v)
	return r, ptr
}

func TestIsolatedModuleCreatedLater(t *testing.T) {
	name := moduleName(t)
	if err := chaos.Set(`"` + name + `"=errno(EIO)`); err != nil {
		t.Fatal(err)
	}
	defer chaos.ClearTarget(`"` + name + `"`)
	m, err := cgoguard.New(name, cgoguard.WithIsolation(isolate.Isolator(isolate.WithWorkers(1), isolate.WithSpares(0))))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !m.ChaosArmed() {
		t.Fatal("an isolated module created after the failpoint was set is not marked")
	}
	if _, err := m.Call(context.Background(), cfixture.Empty, nil); !errors.Is(err, syscall.EIO) {
		t.Fatalf("err %v, want EIO", err)
	}
}

// TestIsolatedConcurrent: calls from many goroutines over several workers
// while failpoints change under them (run with -race).
func TestIsolatedConcurrent(t *testing.T) {
	m, p := newIsolated(t, isolate.WithWorkers(3), isolate.WithSpares(1))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var mu sync.Mutex
	outcomes := map[string]int{}
	for i := 0; i < 8; i++ {
		arg, _ := arenaInt(t, p, 0)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, err := m.Call(context.Background(), cfixture.Count, arg)
				k := "ok"
				switch {
				case err == nil:
				case errors.As(err, new(*cgoguard.CrashError)):
					k = "crash"
				case errors.Is(err, syscall.EIO):
					k = "eio"
				default:
					k = "other"
				}
				mu.Lock()
				outcomes[k]++
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < 60; i++ {
		set(t, m, []string{"%7segv", "errno(EIO)", "delay(1ms)", "off"}[i%4])
		time.Sleep(5 * time.Millisecond)
		if i%3 == 0 {
			chaos.ClearTarget(`"` + m.Name() + `"`)
		}
	}
	close(stop)
	wg.Wait()
	chaos.ClearTarget(`"` + m.Name() + `"`)
	if _, err := m.Call(context.Background(), cfixture.Empty, nil); err != nil || m.ChaosArmed() {
		t.Fatalf("after the storm: err %v, armed %v", err, m.ChaosArmed())
	}
	mu.Lock()
	defer mu.Unlock()
	if outcomes["ok"] == 0 || outcomes["eio"] == 0 {
		t.Fatalf("outcomes %v: want successes and injected errors", outcomes)
	}
	if n := uint64(outcomes["crash"]); n != chaos.Fired(m.Name(), chaos.Segv) || n != p.Restarts(isolate.ReasonCrash) {
		t.Fatalf("%d crashes seen, %d segv fired, %d crash restarts: want them equal", n, chaos.Fired(m.Name(), chaos.Segv), p.Restarts(isolate.ReasonCrash))
	}
	if outcomes["other"] != 0 {
		t.Fatalf("outcomes %v: errors other than the injected ones", outcomes)
	}
}

// TestIsolatedHandler drives an isolated module's failpoints end to end
// through the admin handler: PUT a hang with a TTL, see the call held in
// the worker and the failpoint listed, DELETE it and see the call finish.
func TestIsolatedHandler(t *testing.T) {
	m, p := newIsolated(t)
	srv := httptest.NewServer(chaos.Handler(chaos.WithToken("tok")))
	defer srv.Close()
	target := `"` + m.Name() + `"`
	code, lr, _ := do(t, "PUT", srv.URL+"?ttl=30s", "tok", target+"=hang")
	if code != 200 {
		t.Fatalf("PUT: %d %+v", code, lr)
	}
	arg, count := arenaInt(t, p, 0)
	done := hangCall(t, m, arg)
	code, lr, _ = do(t, "GET", srv.URL, "tok", "")
	var in *chaos.Info
	for i := range lr.Failpoints {
		if lr.Failpoints[i].Module == m.Name() {
			in = &lr.Failpoints[i]
		}
	}
	if code != 200 || in == nil || !in.ModuleIsolated || in.Unreachable || in.Fired != 1 || in.Expires == nil {
		t.Fatalf("GET: %d %+v", code, lr)
	}
	code, lr, _ = do(t, "DELETE", srv.URL+"?target="+target, "tok", "")
	if code != 200 {
		t.Fatalf("DELETE: %d %+v", code, lr)
	}
	select {
	case r := <-done:
		if r[1] != nil || *count != 1 {
			t.Fatalf("rc %v, err %v, count %d", r[0], r[1], *count)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("DELETE did not release the hang in the worker")
	}
	// A crash set over HTTP runs in the worker too, and the module serves
	// on a new worker.
	if code, lr, _ := do(t, "PUT", srv.URL, "tok", target+"=1*abort"); code != 200 {
		t.Fatalf("PUT: %d %+v", code, lr)
	}
	var ce *cgoguard.CrashError
	if _, err := m.Call(context.Background(), cfixture.Count, arg); !errors.As(err, &ce) || ce.Signal != syscall.SIGABRT {
		t.Fatalf("err %v, want SIGABRT from the worker", err)
	}
	if rc, err := m.Call(context.Background(), cfixture.Count, arg); err != nil || rc != 2 {
		t.Fatalf("next call: rc %d, err %v", rc, err)
	}
	if p.Restarts(isolate.ReasonCrash) != 1 {
		t.Fatalf("crash restarts %d, want 1", p.Restarts(isolate.ReasonCrash))
	}
}
