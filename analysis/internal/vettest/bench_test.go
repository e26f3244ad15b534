package vettest_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/appends"
	"golang.org/x/tools/go/analysis/passes/asmdecl"
	"golang.org/x/tools/go/analysis/passes/assign"
	"golang.org/x/tools/go/analysis/passes/atomic"
	"golang.org/x/tools/go/analysis/passes/bools"
	"golang.org/x/tools/go/analysis/passes/buildtag"
	"golang.org/x/tools/go/analysis/passes/cgocall"
	"golang.org/x/tools/go/analysis/passes/composite"
	"golang.org/x/tools/go/analysis/passes/copylock"
	"golang.org/x/tools/go/analysis/passes/defers"
	"golang.org/x/tools/go/analysis/passes/directive"
	"golang.org/x/tools/go/analysis/passes/errorsas"
	"golang.org/x/tools/go/analysis/passes/framepointer"
	"golang.org/x/tools/go/analysis/passes/hostport"
	"golang.org/x/tools/go/analysis/passes/httpresponse"
	"golang.org/x/tools/go/analysis/passes/ifaceassert"
	"golang.org/x/tools/go/analysis/passes/loopclosure"
	"golang.org/x/tools/go/analysis/passes/lostcancel"
	"golang.org/x/tools/go/analysis/passes/nilfunc"
	"golang.org/x/tools/go/analysis/passes/printf"
	"golang.org/x/tools/go/analysis/passes/shift"
	"golang.org/x/tools/go/analysis/passes/sigchanyzer"
	"golang.org/x/tools/go/analysis/passes/slog"
	"golang.org/x/tools/go/analysis/passes/stdmethods"
	"golang.org/x/tools/go/analysis/passes/stdversion"
	"golang.org/x/tools/go/analysis/passes/stringintconv"
	"golang.org/x/tools/go/analysis/passes/structtag"
	"golang.org/x/tools/go/analysis/passes/testinggoroutine"
	"golang.org/x/tools/go/analysis/passes/tests"
	"golang.org/x/tools/go/analysis/passes/timeformat"
	"golang.org/x/tools/go/analysis/passes/unmarshal"
	"golang.org/x/tools/go/analysis/passes/unreachable"
	"golang.org/x/tools/go/analysis/passes/unsafeptr"
	"golang.org/x/tools/go/analysis/passes/unusedresult"
	"golang.org/x/tools/go/analysis/passes/waitgroup"

	"github.com/cgoguard/cgoguard/analysis/cerrors"
	"github.com/cgoguard/cgoguard/analysis/cstrings"
	"github.com/cgoguard/cgoguard/analysis/internal/vettest"
	"github.com/cgoguard/cgoguard/analysis/lifetimes"
	"github.com/cgoguard/cgoguard/analysis/memory"
	"github.com/cgoguard/cgoguard/analysis/threads"
)

// vetSuite is the analyzer list of cmd/vet in Go 1.26: the baseline.
var vetSuite = []*analysis.Analyzer{
	appends.Analyzer, asmdecl.Analyzer, assign.Analyzer, atomic.Analyzer, bools.Analyzer,
	buildtag.Analyzer, cgocall.Analyzer, composite.Analyzer, copylock.Analyzer, defers.Analyzer,
	directive.Analyzer, errorsas.Analyzer, framepointer.Analyzer, hostport.Analyzer,
	httpresponse.Analyzer, ifaceassert.Analyzer, loopclosure.Analyzer, lostcancel.Analyzer,
	nilfunc.Analyzer, printf.Analyzer, shift.Analyzer, sigchanyzer.Analyzer, slog.Analyzer,
	stdmethods.Analyzer, stdversion.Analyzer, stringintconv.Analyzer, structtag.Analyzer,
	testinggoroutine.Analyzer, tests.Analyzer, timeformat.Analyzer, unmarshal.Analyzer,
	unreachable.Analyzer, unsafeptr.Analyzer, unusedresult.Analyzer, waitgroup.Analyzer,
}

// ours is the memory, strings, lifetimes, threads and errors analyzers.
var ours = []*analysis.Analyzer{memory.Analyzer, cstrings.Analyzer, lifetimes.Analyzer, threads.Analyzer, cerrors.Analyzer}

// BenchmarkAnalyze runs each suite over the same loaded cgo packages (the
// memory analyzer's leak and correct-pattern corpora, with all their
// dependencies, as go vet analyses them for facts); loading is not timed.
func BenchmarkAnalyze(b *testing.B) {
	pkgs, err := vettest.Load("../../memory/testdata", "leaks", "correct")
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name      string
		analyzers []*analysis.Analyzer
	}{
		{"govet", vetSuite},
		{"cgoguard-b", ours},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := vettest.Analyze(pkgs, bc.analyzers...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// writeLarge writes a GOPATH tree holding package big: one function with
// n C.CString and n C.malloc allocations, each freed on every path, the
// shape of generated bindings. Path walks that are quadratic in the
// function's size show here.
func writeLarge(tb testing.TB, n int) string {
	dir := tb.TempDir()
	var b strings.Builder
	b.WriteString("package big\n\n/*\n#include <stdlib.h>\n#include <string.h>\n" +
		"static int use(char *s, void *p) { (void)p; return (int)strlen(s); }\n*/\nimport \"C\"\n\n" +
		"import \"unsafe\"\n\nfunc Big(s string) int {\n\tn := 0\n")
	for i := range n {
		fmt.Fprintf(&b, "\tp%d := C.CString(s)\n\tq%d := C.malloc(8)\n\tn += int(C.use(p%d, q%d))\n", i, i, i, i)
		fmt.Fprintf(&b, "\tif n < 0 {\n\t\tC.free(q%d)\n\t\tC.free(unsafe.Pointer(p%d))\n\t\treturn 0\n\t}\n", i, i)
		fmt.Fprintf(&b, "\tdefer C.free(unsafe.Pointer(p%d))\n\tC.free(q%d)\n", i, i)
	}
	b.WriteString("\treturn n\n}\n")
	src := filepath.Join(dir, "src", "big")
	if err := os.MkdirAll(src, 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "big.go"), []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// BenchmarkLargeFunction runs both suites over one function with 800
// allocations (400 C strings, 400 malloc blocks).
func BenchmarkLargeFunction(b *testing.B) {
	pkgs, err := vettest.Load(writeLarge(b, 400), "big")
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name      string
		analyzers []*analysis.Analyzer
	}{
		{"govet", vetSuite},
		{"cgoguard-b", ours},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				findings, err := vettest.Analyze(pkgs, bc.analyzers...)
				if err != nil {
					b.Fatal(err)
				}
				if len(findings) != 0 {
					b.Fatalf("findings on correct code: %v", findings[:1])
				}
			}
		})
	}
}

// TestLargeFunctionSilent: the generated function frees everything.
func TestLargeFunctionSilent(t *testing.T) {
	findings, err := vettest.Check(writeLarge(t, 20), []string{"big"}, ours...)
	if err != nil {
		t.Fatal(err)
	}
	if len(findings) != 0 {
		t.Errorf("findings on correct code: %v", findings)
	}
}

// TestAnalyzeFindsLeaks guards the benchmark's input: the corpus loads and
// our analyzers find the planted leaks in it.
func TestAnalyzeFindsLeaks(t *testing.T) {
	findings, err := vettest.Check("../../memory/testdata", []string{"leaks", "correct"}, ours...)
	if err != nil {
		t.Fatal(err)
	}
	leaks, correct := 0, 0
	for _, f := range findings {
		switch {
		case len(f) > 6 && f[:6] == "leaks.":
			leaks++
		case len(f) > 8 && f[:8] == "correct.":
			correct++
		}
	}
	if leaks < 20 || correct != 0 {
		t.Errorf("%d findings in leaks (want 20 or more), %d in correct (want 0):\n%v", leaks, correct, findings)
	}
}
