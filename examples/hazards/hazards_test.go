package hazards

import (
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/cgoguard/cgoguard/examples/internal/cmem"
)

// planted skips unless the test runs under `cgoguard check`: these tests
// fail on purpose.
func planted(t *testing.T) {
	t.Helper()
	if os.Getenv("CGOGUARD_CHECK") == "" {
		t.Skip("planted hazard: runs only under cgoguard check")
	}
}

func TestGreet(t *testing.T) {
	tests := []struct{ name, want string }{
		{"gopher", "hello, gopher"},
		{"", "hello, "},
	}
	for _, tt := range tests {
		if got := Greet(tt.name); got != tt.want {
			t.Errorf("Greet(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestLeakHeapGreet finds Greet's C.CString leak by the C heap's growth.
func TestLeakHeapGreet(t *testing.T) {
	planted(t)
	name := strings.Repeat("g", 200)
	Greet(name)
	before, err := cmem.HeapInUse()
	if err != nil {
		t.Skip(err)
	}
	const calls = 2000
	for range calls {
		Greet(name)
	}
	after, _ := cmem.HeapInUse()
	if grew := after - before; grew > 64*1024 {
		t.Errorf("leakcheck: C heap grew by %d bytes over %d calls (%d per call) in Greet", grew, calls, grew/calls)
	}
}

// TestLeakFDOpenLog finds OpenLog's descriptor leak.
func TestLeakFDOpenLog(t *testing.T) {
	planted(t)
	before, err := cmem.OpenFDs()
	if err != nil {
		t.Skip(err)
	}
	const calls = 50
	for range calls {
		if err := OpenLog(os.DevNull); err != nil {
			t.Fatal(err)
		}
	}
	after, _ := cmem.OpenFDs()
	if grew := after - before; grew > 2 {
		t.Errorf("leakcheck: %d file descriptors leaked over %d calls in OpenLog", grew, calls)
	}
}

// TestRegisterCallback stores a Go pointer into C memory: silent in a
// normal run, a fatal error under GOEXPERIMENT=cgocheck2.
func TestRegisterCallback(t *testing.T) {
	planted(t)
	cb := &Callback{Fn: func(i int) int { return i + 1 }}
	slot := Register(cb)
	defer Unregister(slot)
	if cb.Fn(1) != 2 {
		t.Fatal("callback broken")
	}
}

// TestCountConcurrently races on Counter: found by -race.
func TestCountConcurrently(t *testing.T) {
	planted(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				Count()
			}
		}()
	}
	wg.Wait()
}

func ExampleGreet() {
	_ = Greet("gopher") // leaks the C copy of "gopher": see TestLeakHeapGreet
	// Output:
}
