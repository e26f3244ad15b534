package advisory_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/cgoguard/cgoguard/analysis/advisory"
)

func TestAdvisory(t *testing.T) {
	for _, pkg := range []string{"bad", "good"} {
		t.Run(pkg, func(t *testing.T) {
			analysistest.Run(t, analysistest.TestData(), advisory.Analyzer, pkg)
		})
	}
}
