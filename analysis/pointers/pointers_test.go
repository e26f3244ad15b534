package pointers_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/cgoguard/cgoguard/analysis/pointers"
)

func TestPointers(t *testing.T) {
	for _, pkg := range []string{"bad", "good", "emptyslices", "cmemory"} {
		t.Run(pkg, func(t *testing.T) {
			analysistest.Run(t, analysistest.TestData(), pointers.Analyzer, pkg)
		})
	}
}

func TestPinFix(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), pointers.Analyzer, "pinfix")
}
