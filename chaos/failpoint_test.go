//go:build cgo

package chaos_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/chaos"
	"github.com/cgoguard/cgoguard/internal/cfixture"
)

// newModule opens a module named after the test, closed and cleared at the
// end.
func newModule(t *testing.T, opts ...cgoguard.Option) *cgoguard.Module {
	t.Helper()
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, t.Name())
	m, err := cgoguard.New(name, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		chaos.ClearTarget(`"` + name + `"`)
		for _, in := range chaos.List() {
			if in.Module == name {
				chaos.ClearTarget(in.Target)
			}
		}
		m.Close()
	})
	return m
}

func set(t *testing.T, m *cgoguard.Module, seq string) {
	t.Helper()
	if err := chaos.Set(`"` + m.Name() + `"=` + seq); err != nil {
		t.Fatal(err)
	}
}

func TestActions(t *testing.T) {
	seven := cfixture.Int(7)
	defer cfixture.Free(seven)
	tests := []struct {
		seq   string
		check func(t *testing.T, rc int, err error)
	}{
		{"segv", crashWith(syscall.SIGSEGV)},
		{"bus", crashWith(syscall.SIGBUS)},
		{"fpe", crashWith(syscall.SIGFPE)},
		{"abort", crashWith(syscall.SIGABRT)},
		{"errno(EIO)", func(t *testing.T, rc int, err error) {
			var ce *cgoguard.CError
			if !errors.As(err, &ce) || rc != -int(syscall.EIO) || !errors.Is(err, syscall.EIO) {
				t.Fatalf("rc %d, err %v: want -EIO as a CError", rc, err)
			}
		}},
		{`error(42,"bad header",EPROTO)`, func(t *testing.T, rc int, err error) {
			var ce *cgoguard.CError
			if !errors.As(err, &ce) || ce.Code != 42 || ce.Message != "bad header" || ce.Errno != syscall.EPROTO || rc != -42 {
				t.Fatalf("rc %d, err %#v: want code 42, message, EPROTO", rc, err)
			}
		}},
		{"delay(30ms)", func(t *testing.T, rc int, err error) {
			if err != nil || rc != 7 {
				t.Fatalf("rc %d, err %v: want the function's 7 after the delay", rc, err)
			}
		}},
		{"off", func(t *testing.T, rc int, err error) {
			if err != nil || rc != 7 {
				t.Fatalf("rc %d, err %v: want 7", rc, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.seq, func(t *testing.T) {
			m := newModule(t, cgoguard.WithCrashPolicy(cgoguard.Restart))
			set(t, m, tt.seq)
			start := time.Now()
			rc, err := m.Call(context.Background(), cfixture.Ret, seven)
			tt.check(t, rc, err)
			if tt.seq == "delay(30ms)" && time.Since(start) < 30*time.Millisecond {
				t.Fatalf("returned after %v, before the delay", time.Since(start))
			}
			k := chaos.Kind(strings.SplitN(tt.seq, "(", 2)[0])
			want := uint64(1)
			if k == chaos.Off {
				want = 0
			}
			if got := chaos.Fired(m.Name(), k); got != want {
				t.Fatalf("Fired(%s) = %d, want %d", k, got, want)
			}
			// Cleared, the call runs again.
			chaos.ClearTarget(`"` + m.Name() + `"`)
			if rc, err := m.Call(context.Background(), cfixture.Ret, seven); err != nil || rc != 7 {
				t.Fatalf("after clear: rc %d, err %v", rc, err)
			}
			if m.ChaosArmed() {
				t.Fatal("module still marked after the failpoint was cleared")
			}
		})
	}
}

func crashWith(sig syscall.Signal) func(t *testing.T, rc int, err error) {
	return func(t *testing.T, rc int, err error) {
		t.Helper()
		var ce *cgoguard.CrashError
		if !errors.As(err, &ce) || ce.Signal != sig {
			t.Fatalf("err %v, want a %v CrashError", err, sig)
		}
		want := map[syscall.Signal]string{syscall.SIGSEGV: "cg_chaos_segv", syscall.SIGBUS: "cg_chaos_bus",
			syscall.SIGFPE: "cg_chaos_fpe", syscall.SIGABRT: "cg_chaos_abort"}[sig]
		found := false
		for _, f := range ce.Frames {
			found = found || f.Function == want
		}
		if !found {
			t.Fatalf("frames %v: want %s among them", ce.Frames, want)
		}
	}
}

func TestCrashQuarantines(t *testing.T) {
	m := newModule(t)
	set(t, m, "1*segv")
	if _, err := m.Call(context.Background(), cfixture.Empty, nil); !errors.As(err, new(*cgoguard.CrashError)) {
		t.Fatalf("err %v, want a crash", err)
	}
	if m.State() != cgoguard.Quarantined {
		t.Fatalf("state %v, want quarantined", m.State())
	}
	if _, err := m.Call(context.Background(), cfixture.Empty, nil); !errors.Is(err, cgoguard.ErrQuarantined) {
		t.Fatalf("err %v, want ErrQuarantined", err)
	}
	if err := m.Reset(); err != nil {
		t.Fatal(err)
	}
	// The count was used up by the first call: the module serves again.
	if _, err := m.Call(context.Background(), cfixture.Empty, nil); err != nil {
		t.Fatal(err)
	}
}

// calls makes n calls and returns, per call, whether it failed.
func calls(m *cgoguard.Module, n int) []bool {
	out := make([]bool, n)
	for i := range out {
		_, err := m.Call(context.Background(), cfixture.Empty, nil)
		out[i] = err != nil
	}
	return out
}

func pattern(fails []bool) string {
	var b strings.Builder
	for _, f := range fails {
		if f {
			b.WriteByte('x')
		} else {
			b.WriteByte('.')
		}
	}
	return b.String()
}

func TestTriggers(t *testing.T) {
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
		{"100%errno(EIO)", "xxxxxxxxxx"},
		{"errno(EIO)", "xxxxxxxxxx"},
	}
	for _, tt := range tests {
		t.Run(tt.seq, func(t *testing.T) {
			m := newModule(t)
			set(t, m, tt.seq)
			if got := pattern(calls(m, len(tt.want))); got != tt.want {
				t.Fatalf("calls %s, want %s", got, tt.want)
			}
		})
	}
}

func TestProbability(t *testing.T) {
	m := newModule(t)
	set(t, m, "20%errno(EIO)")
	const n = 4000
	fails := 0
	for _, f := range calls(m, n) {
		if f {
			fails++
		}
	}
	// 20% of 4000 is 800 with a standard deviation of about 25: 6 sigma.
	if fails < 650 || fails > 950 {
		t.Fatalf("%d of %d calls failed, want about 800", fails, n)
	}
	in := find(t, m.Name())
	if in.Calls != n || in.Fired != uint64(fails) {
		t.Fatalf("info %+v: want %d calls, %d fired", in, n, fails)
	}
}

func find(t *testing.T, module string) chaos.Info {
	t.Helper()
	for _, in := range chaos.List() {
		if in.Module == module {
			return in
		}
	}
	t.Fatalf("no failpoint on %s in %+v", module, chaos.List())
	return chaos.Info{}
}

func TestFunctionTargets(t *testing.T) {
	m := newModule(t)
	chaos.Name(cfixture.Ret, "ret")
	seven := cfixture.Int(7)
	defer cfixture.Free(seven)
	// By registered name and by ELF symbol; module-wide applies to the rest.
	if err := chaos.Set(`"` + m.Name() + `".ret=errno(EIO);"` + m.Name() + `".fx_empty=errno(ENOENT);"` + m.Name() + `"=errno(EPERM)`); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := m.Call(ctx, cfixture.Ret, seven); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Ret: %v, want EIO", err)
	}
	if _, err := m.Call(ctx, cfixture.Empty, nil); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("Empty: %v, want ENOENT", err)
	}
	if _, err := m.Call(ctx, cfixture.InGuard, nil); !errors.Is(err, syscall.EPERM) {
		t.Fatalf("InGuard: %v, want EPERM (module-wide)", err)
	}
}

func TestModuleCreatedLater(t *testing.T) {
	name := "chaos-later-" + time.Now().Format("150405.000000")
	if err := chaos.Set(`"` + name + `"=errno(EIO)`); err != nil {
		t.Fatal(err)
	}
	defer chaos.ClearTarget(`"` + name + `"`)
	m, err := cgoguard.New(name)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !m.ChaosArmed() {
		t.Fatal("a module created after the failpoint was set is not marked")
	}
	if _, err := m.Call(context.Background(), cfixture.Empty, nil); !errors.Is(err, syscall.EIO) {
		t.Fatalf("err %v, want EIO", err)
	}
	if in := find(t, name); !in.ModuleOpen {
		t.Fatalf("info %+v: module_open false", in)
	}
}

func TestHangReleasedByClear(t *testing.T) {
	m := newModule(t)
	set(t, m, "hang")
	seven := cfixture.Int(7)
	defer cfixture.Free(seven)
	type res struct {
		rc  int
		err error
	}
	done := make(chan res, 1)
	go func() {
		rc, err := m.Call(context.Background(), cfixture.Ret, seven)
		done <- res{rc, err}
	}()
	waitFor(t, func() bool { return chaos.Waiting() >= 1 })
	select {
	case r := <-done:
		t.Fatalf("hang returned at once: %+v", r)
	case <-time.After(50 * time.Millisecond):
	}
	chaos.ClearTarget(`"` + m.Name() + `"`)
	select {
	case r := <-done:
		if r.err != nil || r.rc != 7 {
			t.Fatalf("released hang: rc %d, err %v; want the function's 7", r.rc, r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("clearing the failpoint did not release the hang")
	}
}

func TestHangAbandonedByDeadline(t *testing.T) {
	m := newModule(t, cgoguard.WithTimeout(50*time.Millisecond))
	set(t, m, "hang")
	_, err := m.Call(context.Background(), cfixture.Empty, nil)
	if !errors.Is(err, cgoguard.ErrTimeout) {
		t.Fatalf("err %v, want ErrTimeout", err)
	}
	if m.Abandoned() != 1 {
		t.Fatalf("abandoned %d, want 1", m.Abandoned())
	}
	chaos.ClearTarget(`"` + m.Name() + `"`)
	waitFor(t, func() bool { return m.Abandoned() == 0 })
}

func TestTTLExpiryReleasesHang(t *testing.T) {
	m := newModule(t)
	if err := chaos.SetTTL(`"`+m.Name()+`"=hang`, 150*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := m.Call(context.Background(), cfixture.Empty, nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Fatalf("hang returned after %v, before the TTL", d)
	}
	waitFor(t, func() bool { return !m.ChaosArmed() })
	for _, in := range chaos.List() {
		if in.Module == m.Name() {
			t.Fatalf("expired failpoint still listed: %+v", in)
		}
	}
}

func TestRenewKeepsCounters(t *testing.T) {
	m := newModule(t)
	if err := chaos.SetTTL(`"`+m.Name()+`"=2*errno(EIO)`, time.Minute); err != nil {
		t.Fatal(err)
	}
	calls(m, 1)
	if err := chaos.SetTTL(`"`+m.Name()+`"=2*errno(EIO)`, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := pattern(calls(m, 3)); got != "x.." {
		t.Fatalf("after renewal %s, want x.. (the count carried over)", got)
	}
	// A different sequence replaces it with fresh counters.
	set(t, m, "1*errno(EIO)")
	if got := pattern(calls(m, 2)); got != "x." {
		t.Fatalf("after replacement %s, want x.", got)
	}
}

func TestConcurrentSetAndCalls(t *testing.T) {
	m := newModule(t, cgoguard.WithCrashPolicy(cgoguard.Restart))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				m.Call(context.Background(), cfixture.Empty, nil)
			}
		}()
	}
	for i := 0; i < 200; i++ {
		set(t, m, []string{"10%segv", "errno(EIO)", "delay(1us)", "off"}[i%4])
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
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestEnvHelper runs in a child process with CGOGUARD_FAILPOINTS set.
func TestEnvHelper(t *testing.T) {
	if os.Getenv("CHAOS_ENV_HELPER") == "" {
		t.Skip("runs only as the child of TestEnvFailpoints")
	}
	m, err := cgoguard.New("env-module")
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Call(context.Background(), cfixture.Empty, nil)
	fmt.Printf("call: %v\nenv error: %v\nlisted: %d\n", err, chaos.EnvError(), len(chaos.List()))
}

func TestEnvFailpoints(t *testing.T) {
	tests := []struct {
		spec string
		want []string
	}{
		{"env-module=errno(EIO)", []string{"call: cgoguard: module \"env-module\": input/output error (code -5)", "env error: <nil>", "listed: 1"}},
		{"env-module=explode", []string{"call: <nil>", `env error: cgoguard: CGOGUARD_FAILPOINTS: cgoguard: failpoint spec "env-module=explode"`, "listed: 0"}},
	}
	for _, tt := range tests {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEnvHelper$", "-test.v")
		cmd.Env = append(os.Environ(), "CHAOS_ENV_HELPER=1", chaos.EnvVar+"="+tt.spec)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", tt.spec, err, out)
		}
		for _, w := range tt.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("%s: output lacks %q:\n%s", tt.spec, w, out)
			}
		}
	}
}

// fakeIsolation stands for worker processes: it records what it is asked
// to run.
type fakeIsolation struct {
	mu  sync.Mutex
	fns []unsafe.Pointer
}

func (f *fakeIsolation) Isolate(*cgoguard.Module) (cgoguard.Isolated, error) { return f, nil }

func (f *fakeIsolation) CallIsolated(ctx context.Context, fn, arg unsafe.Pointer, deadline time.Time, trace *[16]byte) (int, bool, error) {
	f.mu.Lock()
	f.fns = append(f.fns, fn)
	f.mu.Unlock()
	return 0, true, nil
}

func (f *fakeIsolation) CloseIsolated(context.Context) error { return nil }

// TestIsolatedModuleUntouched: a module whose calls run in the worker
// processes of a runner that does not carry faults (not package isolate's)
// is never marked, and its calls reach the workers unchanged.
func TestIsolatedModuleUntouched(t *testing.T) {
	iso := &fakeIsolation{}
	m := newModule(t, cgoguard.WithIsolation(iso))
	set(t, m, "segv")
	if m.ChaosArmed() {
		t.Fatal("an isolated module was marked")
	}
	if _, err := m.Call(context.Background(), cfixture.Empty, nil); err != nil {
		t.Fatal(err)
	}
	if len(iso.fns) != 1 || iso.fns[0] != cfixture.Empty {
		t.Fatalf("the worker was asked to run %v", iso.fns)
	}
	if in := find(t, m.Name()); !in.ModuleIsolated || !in.Unreachable || in.Fired != 0 {
		t.Fatalf("info %+v", in)
	}
}
