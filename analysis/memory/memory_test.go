package memory_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/cgoguard/cgoguard/analysis/memory"
)

func TestMemory(t *testing.T) {
	for _, pkg := range []string{"leaks", "correct", "ownership"} {
		t.Run(pkg, func(t *testing.T) {
			analysistest.Run(t, analysistest.TestData(), memory.Analyzer, pkg)
		})
	}
}

// TestMemoryFix applies the suggested fixes and compares with the .golden
// files; it also requires that each finding carries its fix, since a
// finding without one would leave the golden file unchecked.
func TestMemoryFix(t *testing.T) {
	tests := []struct {
		pkg, rule, fix string
	}{
		{"fix", "CG013", "Free p with a deferred C.free"},
		{"calloc", "CG012", "Allocate zeroed memory with C.calloc"},
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			results := analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), memory.Analyzer, tt.pkg)
			found := false
			for _, r := range results {
				for _, d := range r.Diagnostics {
					if d.Category != tt.rule {
						continue
					}
					if len(d.SuggestedFixes) != 1 || d.SuggestedFixes[0].Message != tt.fix {
						t.Errorf("%s: fixes %+v, want one named %q", d.Message, d.SuggestedFixes, tt.fix)
					}
					found = true
				}
			}
			if !found {
				t.Errorf("no %s finding in %s", tt.rule, tt.pkg)
			}
		})
	}
}
