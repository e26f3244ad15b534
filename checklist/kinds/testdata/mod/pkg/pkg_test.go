package pkg

import (
	"os"
	"testing"
)

func TestAdd(t *testing.T) {
	if Add(1, 2) != 3 {
		t.Fatal("add")
	}
}

func TestSkipped(t *testing.T) { t.Skip("not here") }

// TestFlagged fails when FIXTURE_FAIL is set.
func TestFlagged(t *testing.T) {
	if os.Getenv("FIXTURE_FAIL") != "" {
		t.Fatal("failing as asked: password=hunter2")
	}
}

// TestLeakHeap reports a leak in leakcheck's format when FIXTURE_LEAK is set.
func TestLeakHeap(t *testing.T) {
	if os.Getenv("FIXTURE_LEAK") != "" {
		t.Errorf("leakcheck: C heap grew by 4096 bytes over 100 iterations\nleakcheck: 1 handle still live, created at pkg_test.go:30")
	}
}

// TestCrash kills the test binary when FIXTURE_CRASH is set.
func TestCrash(t *testing.T) {
	if os.Getenv("FIXTURE_CRASH") != "" {
		os.Exit(3)
	}
}

// TestLeakFD reports a descriptor leak when FIXTURE_LEAK_FD is set.
func TestLeakFD(t *testing.T) {
	if os.Getenv("FIXTURE_LEAK_FD") != "" {
		t.Errorf("leakcheck: fd: 100 new (1.00 per iteration): descriptor to /dev/null")
	}
}
