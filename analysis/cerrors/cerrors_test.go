package cerrors_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/cgoguard/cgoguard/analysis/cerrors"
)

func TestCErrors(t *testing.T) {
	for _, pkg := range []string{"bad", "good", "status"} {
		t.Run(pkg, func(t *testing.T) {
			analysistest.Run(t, analysistest.TestData(), cerrors.Analyzer, pkg)
		})
	}
}

// TestFuncsFlag configures the CG031 list with the -funcs flag (a prefix
// added to the default list) and a //cgoguard:status comment.
func TestFuncsFlag(t *testing.T) {
	if err := cerrors.Analyzer.Flags.Set("funcs", "+lib_in*"); err != nil {
		t.Fatal(err)
	}
	defer cerrors.Analyzer.Flags.Set("funcs", cerrors.DefaultFuncs)
	analysistest.Run(t, analysistest.TestData(), cerrors.Analyzer, "config")
}
