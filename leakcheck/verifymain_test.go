package leakcheck_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/cgoguard/cgoguard/leakcheck"
	"github.com/cgoguard/cgoguard/leakcheck/internal/leaky"
)

const verifyEnv = "CGOGUARD_LEAKCHECK_TEST_VERIFY"

// TestMain runs the package's tests plainly, or, in the child processes of
// TestVerifyTestMain, under VerifyTestMain.
func TestMain(m *testing.M) {
	if os.Getenv(verifyEnv) != "" {
		leakcheck.VerifyTestMain(m)
		return
	}
	os.Exit(m.Run())
}

// TestVerifyChildLeaks leaks two goroutines, only in a child process.
func TestVerifyChildLeaks(t *testing.T) {
	if os.Getenv(verifyEnv) == "" {
		t.Skip("runs only as a child of TestVerifyTestMain")
	}
	leaky.Goroutine()
	leaky.Goroutine()
}

// TestVerifyChildClean gives back what it takes, only in a child process.
func TestVerifyChildClean(t *testing.T) {
	if os.Getenv(verifyEnv) == "" {
		t.Skip("runs only as a child of TestVerifyTestMain")
	}
	leaky.Goroutine()
	leaky.ReleaseGoroutines()
}

// TestVerifyTestMain re-executes the test binary with VerifyTestMain as its
// TestMain and checks the exit status and the report.
func TestVerifyTestMain(t *testing.T) {
	tests := []struct {
		run      string
		wantCode int
		want     string
	}{
		{"^TestVerifyChildLeaks$", 1, "leakcheck: goroutine: 2 new (over the run): goroutine [chan receive]"},
		{"^TestVerifyChildClean$", 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.run, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run="+tc.run)
			cmd.Env = append(os.Environ(), verifyEnv+"=1")
			out, err := cmd.CombinedOutput()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.wantCode || !strings.Contains(string(out), tc.want) {
				t.Fatalf("exit %d, want %d; output:\n%s", code, tc.wantCode, out)
			}
		})
	}
}
