package suite_test

import (
	"fmt"
	"path/filepath"
	"sort"
	"testing"

	"golang.org/x/tools/go/analysis"

	"github.com/cgoguard/cgoguard/analysis/internal/vettest"
	"github.com/cgoguard/cgoguard/analysis/suite"
)

// findings renders suite.Analyze's diagnostics like vettest.Analyze does.
func findings(t *testing.T, outs []*suite.Outcome, roots []*analysis.Analyzer) []string {
	t.Helper()
	var got []string
	for _, o := range outs {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		for _, a := range roots {
			for _, d := range o.Diagnostics[a] {
				p := o.Package.Fset.Position(d.Pos)
				got = append(got, fmt.Sprintf("%s:%d: %s", filepath.Base(p.Filename), p.Line, d.Message))
			}
		}
	}
	sort.Strings(got)
	return got
}

// TestAnalyzeMatchesChecker runs every analyzer over the testdata packages
// of each theme, once through golang.org/x/tools/go/analysis/checker (with
// dependencies analyzed from source) and once through suite.Analyze, and
// requires the same findings.
func TestAnalyzeMatchesChecker(t *testing.T) {
	if testing.Short() {
		t.Skip("loads many packages with all dependencies")
	}
	for _, tc := range []struct {
		testdata string
		pkgs     []string
	}{
		{"../pointers/testdata", []string{"bad", "good", "pinfix"}},
		{"../handles/testdata", []string{"bad", "good", "fix"}},
		{"../signals/testdata", []string{"bad", "good", "cfile"}},
		{"../advisory/testdata", []string{"bad", "good"}},
		{"../memory/testdata", []string{"leaks", "correct", "fix"}},
		{"../cstrings/testdata", []string{"bad", "good"}},
		{"../lifetimes/testdata", []string{"bad", "good"}},
		{"../threads/testdata", []string{"bad", "good"}},
		{"../cerrors/testdata", []string{"bad", "good"}},
		{"testdata", []string{"ignores", "noreturn"}},
	} {
		t.Run(tc.testdata, func(t *testing.T) {
			loaded, err := vettest.Load(tc.testdata, tc.pkgs...)
			if err != nil {
				t.Fatal(err)
			}
			want, err := vettest.Analyze(loaded, suite.All()...)
			if err != nil {
				t.Fatal(err)
			}
			got := findings(t, suite.Analyze(loaded, suite.All()), suite.All())
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("suite.Analyze found\n%q\nchecker found\n%q", got, want)
			}
		})
	}
}

// TestAnalyzeNoReturn checks that calls which never return end a path for
// the control-flow checks without analyzing their packages.
func TestAnalyzeNoReturn(t *testing.T) {
	loaded, err := vettest.Load("testdata", "noreturn")
	if err != nil {
		t.Fatal(err)
	}
	var memory *analysis.Analyzer
	for _, a := range suite.Analyzers {
		if a.Name == "memory" {
			memory = a
		}
	}
	got := findings(t, suite.Analyze(loaded, []*analysis.Analyzer{memory}), []*analysis.Analyzer{memory})
	if len(got) != 1 || got[0][:len("noreturn.go:35: CG013")] != "noreturn.go:35: CG013" {
		t.Errorf("want one CG013 finding, in Leak at line 35; got %q", got)
	}
}
