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

// copyModule copies the fixture module testdata/mod into a temporary
// directory and returns it.
func copyModule(t *testing.T) string {
	t.Helper()
	mod, err := filepath.Abs(filepath.Join("testdata", "mod"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(mod)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeConfig writes (or, with body "", removes) .cgoguard.yaml in dir.
func writeConfig(t *testing.T, dir, body string) {
	t.Helper()
	name := filepath.Join(dir, ".cgoguard.yaml")
	if body == "" {
		if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		return
	}
	if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestVersionCoversConfig checks that the tool's -V=full answer, which go
// vet hashes into the key of its cached results, changes with the
// configuration files of the module it runs in, and only with them.
func TestVersionCoversConfig(t *testing.T) {
	bin := buildTool(t)
	dir := copyModule(t)
	version := func(in string) string {
		t.Helper()
		cmd := exec.Command(bin, "-V=full")
		cmd.Dir = in
		cmd.Env = append(os.Environ(), "GOWORK=off")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("-V=full: %v", err)
		}
		f := strings.Fields(string(out))
		// The form go vet parses: NAME version devel ... buildID=ID.
		if len(f) < 4 || f[1] != "version" || f[2] != "devel" || !strings.HasPrefix(f[len(f)-1], "buildID=") {
			t.Fatalf("-V=full answer not in the form go vet parses: %q", out)
		}
		return f[len(f)-1]
	}
	seen := map[string]string{}
	step := func(name, in string) {
		t.Helper()
		id := version(in)
		if prev, dup := seen[id]; dup {
			t.Errorf("%s: the version ID is the same as with %s: %s", name, prev, id)
		}
		seen[id] = name
	}
	step("no configuration", dir)
	if version(dir) != version(dir) {
		t.Errorf("the version ID is not stable")
	}
	writeConfig(t, dir, "vet:\n  disable: [CG024]\n")
	step("CG024 disabled", dir)
	writeConfig(t, dir, "vet:\n  disable: [CG025]\n")
	step("CG025 disabled", dir)
	writeConfig(t, dir, "vet:\n  advisroy: true\n")
	step("a broken configuration", dir)
	writeConfig(t, dir, "vet:\n  disable: [CG025]\n")
	if id := version(dir); seen[id] != "CG025 disabled" {
		t.Errorf("the same configuration gives another ID: %s", id)
	}
	// A package below the directory go vet runs in reads its own file.
	if err := os.WriteFile(filepath.Join(dir, "hot", ".cgoguard.yaml"), []byte("vet:\n  advisory: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	step("a package's own configuration", dir)
	// The same answer from a subdirectory: the module's files count.
	if id := version(filepath.Join(dir, "hot")); seen[id] != "a package's own configuration" {
		t.Errorf("-V=full from a package directory differs from the module root's")
	}
}

// TestConfigChangeReruns runs go vet twice on the same package with the
// build cache kept: a clean run under a configuration that disables the
// rule, then a run after the configuration no longer does. go vet must
// analyse again rather than replay the clean result, and go back to the
// clean result when the configuration is restored.
func TestConfigChangeReruns(t *testing.T) {
	bin := buildTool(t)
	dir := copyModule(t)
	t.Setenv("GOFLAGS", "")
	t.Setenv("GOWORK", "off")
	for i, tc := range []struct {
		config string
		want   int // CG024 findings
	}{
		{"vet:\n  disable: [CG024]\n", 0},
		{"vet:\n  disable: [CG013]\n", 1},
		{"", 1},
		{"vet:\n  disable: [CG024]\n", 0},
		{"vet:\n  flags:\n    memory.owns: some_c_take\n", 1},
	} {
		writeConfig(t, dir, tc.config)
		out, failed := goVet(t, dir, bin, ".")
		if got := strings.Count(out, "CG024:"); got != tc.want || failed != (tc.want > 0) {
			t.Errorf("run %d with config %q: %d CG024 findings (failed %v), want %d:\n%s", i, tc.config, got, failed, tc.want, out)
		}
	}
}
