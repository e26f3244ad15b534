package vettest_test

import (
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
