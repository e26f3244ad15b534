package handles

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

func TestLifecycle(t *testing.T) {
	base := Live()
	h := New("payload")
	if got := Live() - base; got != 1 {
		t.Fatalf("live after New = %d, want 1", got)
	}
	v, err := h.Lookup()
	if err != nil || v.(string) != "payload" {
		t.Fatalf("Lookup = %v, %v", v, err)
	}
	if h.Value().(string) != "payload" {
		t.Fatal("Value mismatch")
	}
	found := false
	for _, s := range Sites() {
		if strings.HasSuffix(s.Function, "TestLifecycle") && s.Live == 1 && strings.HasSuffix(s.File, "handles_test.go") {
			found = true
		}
	}
	if !found {
		t.Fatalf("creation site not reported: %+v", Sites())
	}
	if err := h.Delete(); err != nil {
		t.Fatal(err)
	}
	if err := h.Delete(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("second Delete = %v, want ErrInvalid", err)
	}
	if _, err := h.Lookup(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Lookup after Delete = %v, want ErrInvalid", err)
	}
	if got := Live() - base; got != 0 {
		t.Fatalf("live after Delete = %d, want 0", got)
	}
}

func TestConcurrent(t *testing.T) {
	base := Live()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				h := New(i)
				if h.Value().(int) != i {
					t.Error("wrong value")
				}
				h.Delete()
			}
		}()
	}
	wg.Wait()
	if got := Live() - base; got != 0 {
		t.Fatalf("live = %d, want 0", got)
	}
}
