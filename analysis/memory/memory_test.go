package memory_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/cgoguard/cgoguard/analysis/memory"
)

func TestMemory(t *testing.T) {
	for _, pkg := range []string{"leaks", "correct"} {
		t.Run(pkg, func(t *testing.T) {
			analysistest.Run(t, analysistest.TestData(), memory.Analyzer, pkg)
		})
	}
}

func TestMemoryFix(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), memory.Analyzer, "fix")
}
