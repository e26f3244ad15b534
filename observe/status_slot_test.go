//go:build cgo

package observe_test

import (
	"os"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard/observe"
)

// TestStatusSlot checks that each module's trampoline slot is published, so
// that a tool watching the trampoline from outside can name the module of a
// guarded call.
func TestStatusSlot(t *testing.T) {
	dir := t.TempDir()
	a := newModule(t, "-a")
	b := newModule(t, "-b")
	w, err := observe.StartStatus(observe.WithStatusDir(dir), observe.WithStatusInterval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	s, err := observe.ReadStatus(dir, os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []interface {
		Name() string
		Slot() int
	}{a, b} {
		ms := findModule(s, m.Name())
		if ms == nil || ms.Slot < 0 || ms.Slot != m.Slot() {
			t.Errorf("module %s: status %+v, want slot %d", m.Name(), ms, m.Slot())
		}
	}
	if a.Slot() == b.Slot() {
		t.Errorf("two open modules share slot %d", a.Slot())
	}
}
