//go:build cgo

package cgoguard_test

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/internal/cfixture"
)

func TestCallbackIntoGo(t *testing.T) {
	m := newModule(t)
	inner := newModule(t) // for nested guarded calls
	// catch runs fn and returns what it panicked with.
	catch := func(fn func()) (r any) {
		defer func() { r = recover() }()
		fn()
		return nil
	}
	cases := []struct {
		name  string
		fn    unsafe.Pointer
		cb    func(id int) int
		check func(t *testing.T, rc int, err error, panicked any)
	}{
		{"returns", cfixture.Callback, func(id int) int { return id * 2 },
			func(t *testing.T, rc int, err error, p any) {
				if rc != 42 || err != nil || p != nil {
					t.Errorf("rc %d err %v panic %v, want 42", rc, err, p)
				}
			}},
		{"go-panic", cfixture.Callback, func(int) int { panic("boom in callback") },
			func(t *testing.T, rc int, err error, p any) {
				if p != "boom in callback" {
					t.Errorf("panic = %v, want the callback's", p)
				}
			}},
		{"go-nil-dereference", cfixture.Callback, func(int) int { var p *int; return *p },
			func(t *testing.T, rc int, err error, p any) {
				if _, ok := p.(interface{ RuntimeError() }); !ok || !strings.Contains(fmt.Sprint(p), "nil pointer") {
					t.Errorf("panic = %v, want a Go nil-dereference runtime error", p)
				}
			}},
		{"nested-guarded-crash", cfixture.Callback, func(int) int {
			_, err := inner.Call(bg, cfixture.Segv, nil)
			var ce *cgoguard.CrashError
			if !errors.As(err, &ce) || ce.Signal != syscall.SIGSEGV {
				return -1
			}
			inner.Reset()
			return 7
		}, func(t *testing.T, rc int, err error, p any) {
			if rc != 7 || err != nil || p != nil {
				t.Errorf("rc %d err %v panic %v, want the nested crash caught (7)", rc, err, p)
			}
		}},
		{"unmarked-go-nil-dereference", cfixture.CallbackUnmarked, func(int) int { var p *int; return *p },
			func(t *testing.T, rc int, err error, p any) {
				if _, ok := p.(interface{ RuntimeError() }); !ok {
					t.Errorf("panic = %v, err = %v, want a Go runtime error even without a marked region", p, err)
				}
			}},
		{"unmarked-go-panic", cfixture.CallbackUnmarked, func(int) int { panic(7) },
			func(t *testing.T, rc int, err error, p any) {
				if p != 7 {
					t.Errorf("panic = %v, want 7", p)
				}
			}},
		{"guard-hidden-in-callback", cfixture.Callback, func(int) int { return cfixture.RawCall(cfixture.InGuard, nil) },
			func(t *testing.T, rc int, err error, p any) {
				if rc != 0 || err != nil {
					t.Errorf("cg_in_guarded_call inside a callback region = %d, want 0", rc)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfixture.SetCallback(c.cb)
			var rc int
			var err error
			p := catch(func() { rc, err = m.Call(bg, c.fn, cint(t, 21)) })
			c.check(t, rc, err, p)
			if m.State() != cgoguard.Closed {
				t.Fatalf("state %v after callback, want closed", m.State())
			}
			// The guard chain of the thread is intact: outside any call
			// the thread is not guarded, a guarded call is, and a crash is
			// still caught.
			if g := cfixture.RawCall(cfixture.InGuard, nil); g != 0 {
				t.Errorf("thread still guarded outside a call")
			}
			if g, err := m.Call(bg, cfixture.InGuard, nil); g != 1 || err != nil {
				t.Errorf("guarded InGuard = %d, %v", g, err)
			}
			restart := newModule(t, cgoguard.WithCrashPolicy(cgoguard.Restart))
			if _, err := restart.Call(bg, cfixture.Segv, nil); !isCrash(err) {
				t.Errorf("crash after callback not caught: %v", err)
			}
		})
	}
}

func isCrash(err error) bool {
	var ce *cgoguard.CrashError
	return errors.As(err, &ce)
}
