package diag_test

import (
	"go/ast"
	"go/token"
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/cgoguard/cgoguard/analysis/internal/cgoast"
	"github.com/cgoguard/cgoguard/analysis/internal/diag"
)

// probe reports CG013 at every call of a function named bad and at every
// C call, and CG032 at the preamble's "sig" line.
var probe = &analysis.Analyzer{
	Name:       "probe",
	Doc:        "test analyzer reporting through diag.Reporter",
	ResultType: diag.ResultType,
	Run: func(pass *analysis.Pass) (any, error) {
		r := diag.New(pass)
		for _, f := range cgoast.UserFiles(pass.Files) {
			ast.Inspect(f, func(n ast.Node) bool {
				if c, ok := n.(*ast.CallExpr); ok {
					if id, ok := c.Fun.(*ast.Ident); ok && id.Name == "bad" {
						r.Report(c, "CG013", "call of bad")
					}
				}
				return true
			})
			cgoast.Inspect(f, func(c *cgoast.Call, _ []ast.Node) {
				r.Report(c, "CG013", "C.%s", c.Name)
			})
			if text, pos := cgoast.Preamble(f); text != "" {
				for i, line := range strings.Split(text, "\n") {
					if strings.Contains(line, "sig(void)") {
						p := cgoast.LinePos(pass.Fset, pos, i)
						r.Report(posRange(p), "CG032", "signal thing")
					}
				}
			}
		}
		return r.Result(), nil
	},
}

type posRange token.Pos

func (p posRange) Pos() token.Pos { return token.Pos(p) }
func (p posRange) End() token.Pos { return token.Pos(p) }

func TestSuppression(t *testing.T) {
	res := analysistest.Run(t, analysistest.TestData(), probe, "plain", "cgo")
	for _, r := range res {
		got := r.Result.(*diag.Result)
		want := map[string]int{"plain": 6, "cgo": 3}[r.Pass.Pkg.Name()]
		if len(got.Suppressed) != want {
			t.Errorf("%s: %d suppressed findings, want %d", r.Pass.Pkg.Name(), len(got.Suppressed), want)
		}
		for _, s := range got.Suppressed {
			if s.Justification == "" {
				t.Errorf("%s: suppressed without justification", r.Pass.Fset.Position(s.Diagnostic.Pos))
			}
			if s.Diagnostic.Category != s.Rule {
				t.Errorf("category %q, rule %q", s.Diagnostic.Category, s.Rule)
			}
		}
	}
}

func TestAdvisoryRules(t *testing.T) {
	want := map[string]bool{"CG020": true, "CG027": true, "CG028": true}
	for _, r := range diag.Rules() {
		if r.Advisory != want[r.ID] {
			t.Errorf("%s: Advisory = %v, want %v", r.ID, r.Advisory, want[r.ID])
		}
		if diag.IsAdvisory(r.ID) != r.Advisory {
			t.Errorf("IsAdvisory(%s) disagrees with the metadata", r.ID)
		}
	}
	def := diag.DefaultRules()
	if len(def) != len(diag.Rules())-len(want) {
		t.Errorf("%d default rules, want %d", len(def), len(diag.Rules())-len(want))
	}
	for _, r := range def {
		if r.Advisory {
			t.Errorf("default rules hold advisory %s", r.ID)
		}
	}
}
