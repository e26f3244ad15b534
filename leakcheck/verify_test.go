package leakcheck

import (
	"strings"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard/leakcheck/internal/leaky"
)

func TestVerifyMain(t *testing.T) {
	tests := []struct {
		name     string
		run      func() int
		cleanup  func()
		wantCode int
		want     []string
	}{
		{"clean run", func() int { return 0 }, nil, 0, nil},
		{"failing tests keep their status", func() int { return 3 }, nil, 3, nil},
		{"leaked goroutines", func() int {
			for i := 0; i < 3; i++ {
				leaky.Goroutine()
			}
			return 0
		}, leaky.ReleaseGoroutines, 1, []string{
			"leakcheck: LEAK: growth over the whole test run",
			"leakcheck: goroutine: 3 new (over the run): goroutine [chan receive]",
			"leaky.Goroutine.func1",
		}},
		{"goroutine that ends soon is not a leak", func() int {
			go func() { time.Sleep(20 * time.Millisecond) }()
			return 0
		}, nil, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.cleanup != nil {
				defer tc.cleanup()
			}
			var out strings.Builder
			code := verifyMain(tc.run, &out)
			if code != tc.wantCode {
				t.Fatalf("exit code %d, want %d; output:\n%s", code, tc.wantCode, out.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if tc.want == nil && out.Len() != 0 {
				t.Errorf("unexpected output:\n%s", out.String())
			}
		})
	}
	var out strings.Builder
	if code := verifyMain(func() int { return 0 }, &out, Iterations(0)); code != 2 || !strings.HasPrefix(out.String(), "leakcheck: cgoguard: ") {
		t.Fatalf("bad option: code %d, output %q", code, out.String())
	}
}
