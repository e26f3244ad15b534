package cstrings_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/cgoguard/cgoguard/analysis/cstrings"
)

func TestCStrings(t *testing.T) {
	for _, pkg := range []string{"bad", "good", "errbuf"} {
		t.Run(pkg, func(t *testing.T) {
			analysistest.Run(t, analysistest.TestData(), cstrings.Analyzer, pkg)
		})
	}
}
