package signals_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/cgoguard/cgoguard/analysis/signals"
)

func TestSignals(t *testing.T) {
	for _, pkg := range []string{"bad", "good", "cfile"} {
		t.Run(pkg, func(t *testing.T) {
			analysistest.Run(t, analysistest.TestData(), signals.Analyzer, pkg)
		})
	}
}
