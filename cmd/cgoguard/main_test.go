package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// TestMain lets this test binary stand in for the cgoguard executable:
// a check run in-process runs its vet checks with os.Executable, which is
// this binary; with CGOGUARD_TEST_AS_CLI=1 it is the command line tool.
func TestMain(m *testing.M) {
	if os.Getenv("CGOGUARD_TEST_AS_CLI") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	code := m.Run()
	if builtDir != "" {
		os.RemoveAll(builtDir)
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	builtDir  string
	builtBin  string
	buildErr  error
	buildOut  []byte
)

// cgoguardBinary builds the command once per test run and returns its path.
func cgoguardBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the command")
	}
	buildOnce.Do(func() {
		builtDir, buildErr = os.MkdirTemp("", "cgoguard-bin-")
		if buildErr != nil {
			return
		}
		// Readable by every user: a test runs it as nobody.
		if buildErr = os.Chmod(builtDir, 0o755); buildErr != nil {
			return
		}
		builtBin = filepath.Join(builtDir, "cgoguard")
		buildOut, buildErr = exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("go build: %v\n%s", buildErr, buildOut)
	}
	return builtBin
}
