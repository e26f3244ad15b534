package handles_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/cgoguard/cgoguard/analysis/handles"
)

func TestHandles(t *testing.T) {
	for _, pkg := range []string{"bad", "good", "callbacks", "nodelete"} {
		t.Run(pkg, func(t *testing.T) {
			analysistest.Run(t, analysistest.TestData(), handles.Analyzer, pkg)
		})
	}
}

func TestDeleteFix(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), handles.Analyzer, "fix")
}
