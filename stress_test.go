//go:build cgo

package cgoguard_test

import (
	"errors"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"unsafe"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/internal/cfixture"
)

// TestTenThousandCrashes catches 10,000 crashes and checks that threads,
// C heap, descriptors and the threads' signal masks do not change, and
// that Go's own nil panics still recover.
func TestTenThousandCrashes(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 1000
	}
	m := newModule(t, cgoguard.WithCrashPolicy(cgoguard.Restart))
	mask := func() uint64 {
		var bits uint64
		for i := 0; i < 8; i++ { // sample several threads
			p := cint(t, 0)
			if _, err := m.Call(bg, cfixture.SigMask, p); err != nil {
				t.Fatal(err)
			}
			bits |= *(*uint64)(p)
		}
		return bits
	}
	// Warm up: the first crashes load the unwinder's caches and the
	// symbol tables.
	sigs := []struct {
		fn  any
		sig syscall.Signal
	}{{cfixture.Segv, syscall.SIGSEGV}, {cfixture.Abort, syscall.SIGABRT}, {cfixture.FPE, syscall.SIGFPE}, {cfixture.Ill, syscall.SIGILL}}
	for i := 0; i < 200; i++ {
		m.Call(bg, cfixture.Segv, nil)
	}
	runtime.GC()
	mask0, threads0, fds0, heap0 := mask(), threads(t), fds(t), cfixture.HeapInUse()

	var wg sync.WaitGroup
	per := n / 4
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < per; i++ {
				c := sigs[(i+g)%len(sigs)]
				_, err := m.Call(bg, c.fn.(unsafe.Pointer), nil)
				var ce *cgoguard.CrashError
				if !errors.As(err, &ce) || ce.Signal != c.sig {
					t.Errorf("crash %d: %v", i, err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	runtime.GC()
	if got := m.Stats().Crashes; got < uint64(n) {
		t.Errorf("crashes counted %d, want at least %d", got, n)
	}
	if th := threads(t); th > threads0+2 {
		t.Errorf("threads grew from %d to %d", threads0, th)
	}
	if f := fds(t); f != fds0 {
		t.Errorf("descriptors went from %d to %d", fds0, f)
	}
	if h := cfixture.HeapInUse(); h > heap0+64*1024 {
		t.Errorf("C heap grew from %d to %d bytes over %d crashes", heap0, h, n)
	}
	if mk := mask(); mk != mask0 {
		t.Errorf("signal mask changed from %#x to %#x", mask0, mk)
	}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(r.(error).Error(), "nil pointer") {
				t.Errorf("Go nil panic after the crashes: %v", r)
			}
		}()
		var p *int
		_ = *p
	}()
}

// TestHandlerTakenIsReported shows signal.Ignore taking SIGABRT from the
// guard, New saying so, and ReinstallHandlers putting it back.
func TestHandlerTakenIsReported(t *testing.T) {
	if testingChild() != "handler-taken" {
		out, code := runChild(t, "TestHandlerTakenIsReported", "handler-taken")
		if code != 0 || !strings.Contains(out, "PASS") {
			t.Fatalf("child failed (exit %d):\n%s", code, out)
		}
		return
	}
	signal.Ignore(syscall.SIGABRT)
	_, err := cgoguard.New("taken")
	var he *cgoguard.HandlerError
	if !errors.As(err, &he) || he.Signal != syscall.SIGABRT || he.How != "ignored" || !errors.Is(err, cgoguard.ErrHandlerTaken) {
		t.Fatalf("New after signal.Ignore(SIGABRT): %v", err)
	}
	if !strings.Contains(err.Error(), "SIGABRT") {
		t.Errorf("error does not name the signal: %v", err)
	}
	if err := cgoguard.SignalsHealthy(); !errors.As(err, &he) {
		t.Errorf("SignalsHealthy: %v", err)
	}
	if n, err := cgoguard.ReinstallHandlers(); n != 1 || err != nil {
		t.Fatalf("ReinstallHandlers = %d, %v", n, err)
	}
	m, err := cgoguard.New("taken")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Call(bg, cfixture.Abort, nil); !isCrash(err) {
		t.Fatalf("abort after reinstall: %v", err)
	}
}
