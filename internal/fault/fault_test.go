package fault

import (
	"testing"
	"time"
)

func TestCarriers(t *testing.T) {
	type pool struct{ n int }
	a, b := &pool{1}, &pool{2}
	if Carries(a) || Carries(nil) {
		t.Fatal("carries before AddCarrier")
	}
	base := WorkerWaiting()
	AddCarrier(a, func() int { return 2 })
	AddCarrier(b, func() int { return 3 })
	if !Carries(a) || !Carries(b) || WorkerWaiting() != base+5 {
		t.Fatalf("carries %v %v, waiting %d", Carries(a), Carries(b), WorkerWaiting())
	}
	RemoveCarrier(a)
	if Carries(a) || WorkerWaiting() != base+3 {
		t.Fatalf("after removal: carries %v, waiting %d", Carries(a), WorkerWaiting())
	}
	RemoveCarrier(b)
}

func TestFuncNames(t *testing.T) {
	NameFunc(0x1234, "inflate")
	if n, ok := FuncName(0x1234); !ok || n != "inflate" {
		t.Fatalf("FuncName = %q, %v", n, ok)
	}
	if _, ok := FuncName(0x5678); ok {
		t.Fatal("a name for an address never named")
	}
}

func TestGates(t *testing.T) {
	if !Supported {
		if err := Setup(); err == nil {
			t.Fatal("Setup without cgo succeeded")
		}
		return
	}
	if err := Setup(); err != nil {
		t.Fatal(err)
	}
	if File() == nil {
		t.Fatal("no memory file for the workers")
	}
	for _, slot := range []int{0, 17, 255} {
		g := Gen(slot)
		Expire(slot, time.Minute)
		if Gen(slot) != g {
			t.Fatalf("slot %d: an expiry changed the generation", slot)
		}
		Release(slot)
		if Gen(slot) != g+1 {
			t.Fatalf("slot %d: generation %d after a release, want %d", slot, Gen(slot), g+1)
		}
	}
	// Out of range: ignored, never a fault.
	Release(-1)
	Release(256)
	if Gen(-1) != 0 || Gen(256) != 0 {
		t.Fatal("a generation for a slot out of range")
	}
}
