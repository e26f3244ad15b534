package main_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildTool builds cgoguard-vet into a temporary directory.
func buildTool(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a binary and runs go vet")
	}
	bin := filepath.Join(t.TempDir(), "cgoguard-vet")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// goVet runs go vet with the tool in dir and returns its diagnostics
// (stderr) and whether it exited non-zero.
func goVet(t *testing.T, dir, bin string, args ...string) (string, bool) {
	t.Helper()
	vet := exec.Command("go", append([]string{"vet", "-vettool=" + bin}, args...)...)
	vet.Dir = dir
	var stderr bytes.Buffer
	vet.Stderr = &stderr
	err := vet.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("go vet: %v\n%s", err, stderr.String())
	}
	return stderr.String(), err != nil
}

// TestGoVet builds the tool and runs it under go vet on a fixture module.
func TestGoVet(t *testing.T) {
	bin := buildTool(t)
	out, failed := goVet(t, filepath.Join("testdata", "mod"), bin, ".")
	if !failed {
		t.Fatalf("go vet: want a non-zero exit for the finding\n%s", out)
	}
	if !strings.Contains(out, "mod.go:15:7: CG024: handle h is never deleted") {
		t.Errorf("finding on the user's line missing:\n%s", out)
	}
	if strings.Count(out, "CG024") != 1 {
		t.Errorf("want exactly one CG024 (the other is suppressed):\n%s", out)
	}
}

// TestGoVetOptions checks -advisory, -advisory-max and -tests, and that
// the flags and .cgoguard.yaml say the same thing.
func TestGoVetOptions(t *testing.T) {
	bin := buildTool(t)
	mod, err := filepath.Abs(filepath.Join("testdata", "mod"))
	if err != nil {
		t.Fatal(err)
	}
	// A copy of the module with a configuration file at its root.
	configured := t.TempDir()
	if err := os.CopyFS(configured, os.DirFS(mod)); err != nil {
		t.Fatal(err)
	}
	config := "vet:\n  advisory: true\n  advisory-max: -1\n  advisory-package-max: -1\n  tests: true\n"
	if err := os.WriteFile(filepath.Join(configured, ".cgoguard.yaml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		dir   string
		args  []string
		cg028 int
		cg027 int
		cg026 int
		more  bool
	}{
		{"default", mod, nil, 0, 0, 0, false},
		{"advisory", mod, []string{"-advisory"}, 1, 1, 0, true},
		{"advisory=true", mod, []string{"-advisory=true"}, 1, 1, 0, true},
		{"advisory all", mod, []string{"-advisory", "-advisory-max=-1", "-advisory-package-max=-1"}, 2, 1, 0, false},
		{"tests", mod, []string{"-tests"}, 0, 0, 1, false},
		{"config", configured, nil, 2, 1, 1, false},
		{"flags override config", configured, []string{"-advisory=false", "-tests=false"}, 0, 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _ := goVet(t, tc.dir, bin, append(tc.args, "./hot")...)
			for rule, want := range map[string]int{"CG028": tc.cg028, "CG027": tc.cg027, "CG026": tc.cg026} {
				if got := strings.Count(out, rule+":"); got != want {
					t.Errorf("%d %s findings, want %d:\n%s", got, rule, want, out)
				}
			}
			if got := strings.Contains(out, "1 more CG028 in this function not shown"); got != tc.more {
				t.Errorf("cap note shown: %v, want %v:\n%s", got, tc.more, out)
			}
		})
	}
}

// TestBadConfig checks that a misspelt setting stops the tool with the
// file, line and key.
func TestBadConfig(t *testing.T) {
	bin := buildTool(t)
	dir := t.TempDir()
	mod, _ := filepath.Abs(filepath.Join("testdata", "mod"))
	if err := os.CopyFS(dir, os.DirFS(mod)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".cgoguard.yaml"), []byte("vet:\n  advisroy: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, failed := goVet(t, dir, bin, ".")
	if !failed || !strings.Contains(out, `.cgoguard.yaml:2: vet: unknown key "advisroy"`) {
		t.Errorf("want a failure naming the key and line, got failed=%v:\n%s", failed, out)
	}
}

// TestDocumentedFormFailsLoudly checks that the README and docs/vet.md
// give the tool a named path (never $(command -v cgoguard-vet), which
// expands to -vettool= when the tool is missing, and go vet then passes
// without running it), and that go vet fails when that path is missing.
func TestDocumentedFormFailsLoudly(t *testing.T) {
	for _, doc := range []string{"../../README.md", "../../docs/vet.md"} {
		data, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		named := false
		for _, line := range strings.Split(string(data), "\n") {
			if strings.Contains(line, "go vet -vettool=$(command -v") || strings.Contains(line, "go vet -vettool=\"$(command -v") {
				t.Errorf("%s recommends a form that passes silently without the tool: %s", doc, line)
			}
			named = named || strings.Contains(line, `-vettool="$PWD/.bin/cgoguard-vet"`) || strings.Contains(line, "-vettool=$PWD/.bin/cgoguard-vet")
		}
		if !named {
			t.Errorf("%s gives no go vet -vettool form with a named path", doc)
		}
	}
	if testing.Short() {
		return
	}
	missing := filepath.Join(t.TempDir(), ".bin", "cgoguard-vet")
	vet := exec.Command("go", "vet", "-vettool="+missing, ".")
	vet.Dir = filepath.Join("testdata", "mod")
	out, err := vet.CombinedOutput()
	if err == nil {
		t.Fatalf("go vet with a missing tool passed:\n%s", out)
	}
	if !strings.Contains(string(out), "cgoguard-vet") {
		t.Errorf("go vet's error does not name the missing tool:\n%s", out)
	}
}
