package kinds_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cgoguard/cgoguard/checklist"
)

// goOnPath puts a "go" on PATH that logs its arguments and runs the real
// go command; it returns the log's path.
func goOnPath(t *testing.T) string {
	t.Helper()
	real, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not found")
	}
	dir := t.TempDir()
	logf := filepath.Join(dir, "log")
	script := "#!/bin/sh\necho \"$@\" >> " + logf + "\nexec " + real + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "go"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return logf
}

// Leak and gotest checks that build the same test binaries (same packages,
// flags, environment and skip) share one go test run, with the union of
// their -run patterns; each keeps only its own tests' results.
func TestGoTestChecksShareOneRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	logf := goOnPath(t)
	cl, err := checklist.Parse("t.yaml", []byte(`checklist: t
checks:
  - {id: HEAP, title: heap, kind: leak, with: {run: "Leak.*Heap", flags: [-count=1]}}
  - {id: FD, title: fd, kind: leak, with: {run: "Leak.*FD", flags: [-count=1]}}
  - {id: ADD, title: add, kind: gotest, with: {run: "TestAdd", flags: [-count=1]}}
  - {id: RACE, title: other flags, kind: gotest, with: {run: "TestAdd", flags: [-count=1, -v]}}
`), checklist.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "FIXTURE_LEAK=1")
	res, err := checklist.NewRunner(checklist.WithDir("testdata/mod"), checklist.WithPackages("./..."), checklist.WithEnviron(env)).Run(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(logf)
	var runs []string
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if strings.HasPrefix(l, "test ") {
			runs = append(runs, l)
		}
	}
	if len(runs) != 2 {
		t.Fatalf("go test ran %d times, want 2 (one shared, one with other flags):\n%s", len(runs), strings.Join(runs, "\n"))
	}
	got := byID(res)
	expect{outcome: checklist.Fail, message: "leakcheck: C heap grew by 4096 bytes", absent: []string{"descriptor to /dev/null"}}.check(t, got["HEAP"])
	expect{outcome: checklist.Pass, message: "1 passed", absent: []string{"C heap grew"}}.check(t, got["FD"])
	expect{outcome: checklist.Pass, message: "1 passed"}.check(t, got["ADD"])
	for id, n := range map[string]int{"HEAP": 1, "FD": 1, "ADD": 1} {
		if len(got[id].Tests) != n {
			t.Errorf("%s has %d tests, want %d: %+v", id, len(got[id].Tests), n, got[id].Tests)
		}
	}
	if !strings.Contains(got["FD"].Message, "shared") {
		t.Errorf("FD does not say its run was shared: %s", got["FD"].Message)
	}
}

// A retry runs the check's own go test again, not the shared result.
func TestSharedRunRetriesAlone(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	logf := goOnPath(t)
	cl, err := checklist.Parse("t.yaml", []byte(`checklist: t
checks:
  - {id: HEAP, title: heap, kind: leak, with: {run: "Leak.*Heap", flags: [-count=1]}, retry_on_failure: {attempts: 2}}
  - {id: FD, title: fd, kind: leak, with: {run: "Leak.*FD", flags: [-count=1]}}
`), checklist.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "FIXTURE_LEAK=1")
	res, err := checklist.NewRunner(checklist.WithDir("testdata/mod"), checklist.WithPackages("./..."), checklist.WithEnviron(env)).Run(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(logf)
	if n := strings.Count(string(data), "test -json"); n != 2 {
		t.Fatalf("go test ran %d times, want 2 (shared, then the retry alone):\n%s", n, data)
	}
	if !strings.Contains(string(data), "-run Leak.*Heap ./...") {
		t.Errorf("the retry did not run alone:\n%s", data)
	}
	if h := byID(res)["HEAP"]; h.Outcome != checklist.Fail || h.Attempts != 2 {
		t.Errorf("HEAP: %s after %d attempts", h.Outcome, h.Attempts)
	}
}
