//go:build cgo

package observe_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/internal/cfixture"
)

// newModule creates a module named after the test and closes it at the end.
func newModule(t testing.TB, suffix string, opts ...cgoguard.Option) *cgoguard.Module {
	t.Helper()
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()) + suffix
	m, err := cgoguard.New(name, opts...)
	if err != nil {
		t.Fatalf("cgoguard.New(%q): %v", name, err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// callN calls fn(arg) n times and returns the last error.
func callN(t testing.TB, m *cgoguard.Module, n int, fn, arg unsafe.Pointer) error {
	t.Helper()
	var err error
	for i := 0; i < n; i++ {
		_, err = m.Call(context.Background(), fn, arg)
	}
	return err
}

// cInt returns C memory holding v, freed at the end of the test.
func cInt(t testing.TB, v int) unsafe.Pointer {
	p := cfixture.Int(v)
	t.Cleanup(func() { cfixture.Free(p) })
	return p
}

// timeoutCall makes one call on m that times out (m needs WithTimeout
// shorter than ms) and returns a function that waits until the abandoned
// call has returned.
func timeoutCall(t testing.TB, m *cgoguard.Module, ms int) (wait func()) {
	t.Helper()
	arg := cfixture.Int(ms)
	_, err := m.Call(context.Background(), cfixture.SleepMS, arg)
	if cgoguard.OutcomeOf(err) != cgoguard.OutcomeTimeout {
		t.Fatalf("sleep call: got %v, want a timeout", err)
	}
	return func() {
		deadline := time.Now().Add(10 * time.Second)
		for m.Abandoned() > 0 {
			if time.Now().After(deadline) {
				t.Fatalf("abandoned call of %s did not return", m.Name())
			}
			time.Sleep(5 * time.Millisecond)
		}
		cfixture.Free(arg)
	}
}
