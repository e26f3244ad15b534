package main_test

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGoVet builds the tool and runs it under go vet on a fixture module.
func TestGoVet(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary and runs go vet")
	}
	bin := filepath.Join(t.TempDir(), "cgoguard-vet")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	vet := exec.Command("go", "vet", "-vettool="+bin, "./...")
	vet.Dir = filepath.Join("testdata", "mod")
	var stderr bytes.Buffer
	vet.Stderr = &stderr
	err := vet.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("go vet: want a non-zero exit for the finding, got %v\n%s", err, stderr.String())
	}
	out := stderr.String()
	if !strings.Contains(out, "mod.go:15:7: CG024: handle h is never deleted") {
		t.Errorf("finding on the user's line missing:\n%s", out)
	}
	if strings.Count(out, "CG024") != 1 {
		t.Errorf("want exactly one CG024 (the other is suppressed):\n%s", out)
	}
}
