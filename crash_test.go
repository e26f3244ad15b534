//go:build cgo

package cgoguard_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"unsafe"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/internal/cfixture"
)

var bg = context.Background()

// newModule creates a module named after the test and closes it at cleanup.
func newModule(t testing.TB, opts ...cgoguard.Option) *cgoguard.Module {
	t.Helper()
	name := strings.ReplaceAll(t.Name(), "/", ".")
	for i := 2; cgoguard.Lookup(name) != nil; i++ {
		name = fmt.Sprintf("%s#%d", strings.ReplaceAll(t.Name(), "/", "."), i)
	}
	m, err := cgoguard.New(name, opts...)
	if err != nil {
		t.Fatalf("New(%q): %v", name, err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

type crashCase struct {
	name   string
	fn     unsafe.Pointer
	arg    unsafe.Pointer
	sig    syscall.Signal
	frame  string // a function expected among the frames
	object string // an object expected among the frames ("" for any)
}

func crashCases() []crashCase {
	return []crashCase{
		{"nil-write", cfixture.Segv, nil, syscall.SIGSEGV, "fx_segv", ""},
		{"bad-address", cfixture.Segv, cfixture.BadAddress(), syscall.SIGSEGV, "fx_segv", ""},
		{"libc-strlen-null", cfixture.StrlenNull, nil, syscall.SIGSEGV, "fx_strlen_null", "libc.so"},
		{"libc-memcpy-null", cfixture.MemcpyNull, nil, syscall.SIGSEGV, "fx_memcpy_null", "libc.so"},
		{"zlib-inflate-bad-stream", cfixture.InflateBadStream, nil, syscall.SIGSEGV, "inflate", "libz.so"},
		{"bus", cfixture.Bus, nil, syscall.SIGBUS, "fx_bus", ""},
		{"divide-by-zero", cfixture.FPE, nil, syscall.SIGFPE, "fx_fpe", ""},
		{"illegal-instruction", cfixture.Ill, nil, syscall.SIGILL, "fx_ill", ""},
		{"abort", cfixture.Abort, nil, syscall.SIGABRT, "abort", "libc.so"},
		{"assert", cfixture.Assert, nil, syscall.SIGABRT, "__assert_fail", "libc.so"},
		{"breakpoint", cfixture.Trap, nil, syscall.SIGTRAP, "fx_trap", ""},
		{"stack-overflow", cfixture.Overflow, nil, syscall.SIGSEGV, "fx_recurse", ""},
	}
}

func checkCrash(t *testing.T, c crashCase, err error, module string) *cgoguard.CrashError {
	t.Helper()
	var ce *cgoguard.CrashError
	if !errors.As(err, &ce) {
		t.Fatalf("%s: err = %v (%T), want *CrashError", c.name, err, err)
	}
	if ce.Signal != c.sig {
		t.Errorf("%s: signal %v, want %v", c.name, ce.Signal, c.sig)
	}
	if ce.Module != module {
		t.Errorf("%s: module %q, want %q", c.name, ce.Module, module)
	}
	if ce.PC == 0 {
		t.Errorf("%s: PC is zero", c.name)
	}
	if len(ce.Frames) == 0 {
		t.Fatalf("%s: no frames", c.name)
	}
	found, inObject := false, c.object == ""
	for _, f := range ce.Frames {
		if f.Function == c.frame {
			found = true
		}
		if c.object != "" && strings.Contains(f.Object, c.object) {
			inObject = true
		}
	}
	if !found || !inObject {
		t.Errorf("%s: frames %v lack function %q in object %q", c.name, ce.Frames, c.frame, c.object)
	}
	if !strings.Contains(string(ce.GoStack), "cgoguard_test.") {
		t.Errorf("%s: GoStack does not show the caller:\n%s", c.name, ce.GoStack)
	}
	return ce
}

func TestCrashBecomesError(t *testing.T) {
	for _, c := range crashCases() {
		t.Run(c.name, func(t *testing.T) {
			m := newModule(t)
			rc, err := m.Call(bg, c.fn, c.arg)
			if rc != 0 {
				t.Errorf("rc = %d, want 0", rc)
			}
			ce := checkCrash(t, c, err, m.Name())
			if c.sig == syscall.SIGSEGV && c.arg != nil && ce.Addr != uintptr(c.arg) {
				t.Errorf("addr %#x, want %#x", ce.Addr, uintptr(c.arg))
			}
			if got := m.State(); got != cgoguard.Quarantined {
				t.Fatalf("state after crash = %v, want quarantined", got)
			}
			if _, err := m.Call(bg, cfixture.Empty, nil); !errors.Is(err, cgoguard.ErrQuarantined) {
				t.Fatalf("call after crash: %v, want ErrQuarantined", err)
			}
			if err := m.Reset(); err != nil {
				t.Fatal(err)
			}
			if rc, err := m.Call(bg, cfixture.Ret, cint(t, 9)); rc != 9 || err != nil {
				t.Fatalf("call after Reset = %d, %v", rc, err)
			}
			st := m.Stats()
			if st.Crashes != 1 || st.CrashesBySignal[cgoguard.SignalName(c.sig)] != 1 || st.Rejected != 1 || st.OK != 1 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

// cint returns C memory holding v, freed at cleanup.
func cint(t testing.TB, v int) unsafe.Pointer {
	p := cfixture.Int(v)
	t.Cleanup(func() { cfixture.Free(p) })
	return p
}

func TestCrashesConcurrently(t *testing.T) {
	cases := crashCases()
	m := newModule(t, cgoguard.WithCrashPolicy(cgoguard.Restart))
	var wg sync.WaitGroup
	errs := make(chan error, 16*len(cases))
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := range cases {
				c := cases[(i+g)%len(cases)]
				_, err := m.Call(bg, c.fn, c.arg)
				var ce *cgoguard.CrashError
				if !errors.As(err, &ce) || ce.Signal != c.sig {
					errs <- fmt.Errorf("goroutine %d, %s: %v", g, c.name, err)
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st := m.Stats(); st.Crashes != uint64(16*len(cases)) {
		t.Errorf("crashes counted %d, want %d", st.Crashes, 16*len(cases))
	}
	if m.State() != cgoguard.Closed {
		t.Errorf("restartable module state %v, want closed", m.State())
	}
}

func TestGoNilPanicStaysRecoverable(t *testing.T) {
	nilPanic := func() (recovered any) {
		defer func() { recovered = recover() }()
		var p *int
		return *p
	}
	check := func(when string) {
		r := nilPanic()
		re, ok := r.(interface{ RuntimeError() })
		if !ok || !strings.Contains(fmt.Sprint(r), "nil pointer dereference") {
			t.Fatalf("%s: recovered %v (%T), want a nil-dereference runtime error", when, r, re)
		}
	}
	check("before any crash")
	m := newModule(t, cgoguard.WithCrashPolicy(cgoguard.Restart))
	for i := 0; i < 100; i++ {
		if _, err := m.Call(bg, cfixture.Segv, nil); err == nil {
			t.Fatal("no crash")
		}
		check(fmt.Sprintf("after crash %d", i+1))
	}
}

// TestUnguardedCrashKillsProcess runs a crash outside any guard in a child
// process: Go's own report and exit status must be unchanged.
func TestUnguardedCrashKillsProcess(t *testing.T) {
	if os.Getenv("CGOGUARD_CHILD") == "unguarded" {
		cfixture.RawCall(cfixture.Segv, nil)
		os.Exit(0) // not reached
	}
	for _, c := range []struct{ mode, want string }{
		{"unguarded", "SIGSEGV: segmentation violation"},
	} {
		out, code := runChild(t, "TestUnguardedCrashKillsProcess", c.mode)
		if code != 2 {
			t.Errorf("exit code %d, want 2; output:\n%s", code, out)
		}
		for _, want := range []string{c.want, "signal arrived during cgo execution", "fx_raw"} {
			if !strings.Contains(out, want) {
				t.Errorf("child output lacks %q:\n%s", want, out)
			}
		}
	}
}
