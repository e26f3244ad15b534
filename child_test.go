//go:build cgo

package cgoguard_test

import (
	"errors"
	"os"
	"os/exec"
	"testing"
)

// runChild re-runs this test binary for one test with CGOGUARD_CHILD=mode
// and returns its combined output and exit code.
func runChild(t *testing.T, test, mode string) (string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.v")
	cmd.Env = append(os.Environ(), "CGOGUARD_CHILD="+mode)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("running child: %v", err)
	}
	return string(out), 0
}

func testingChild() string { return os.Getenv("CGOGUARD_CHILD") }
