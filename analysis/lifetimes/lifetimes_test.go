package lifetimes_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/cgoguard/cgoguard/analysis/lifetimes"
)

func TestLifetimes(t *testing.T) {
	for _, pkg := range []string{"bad", "good", "liveness"} {
		t.Run(pkg, func(t *testing.T) {
			analysistest.Run(t, analysistest.TestData(), lifetimes.Analyzer, pkg)
		})
	}
}
