package ranges_test

import (
	"go/ast"
	"go/types"
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/cgoguard/cgoguard/analysis/internal/cgoast"
	"github.com/cgoguard/cgoguard/analysis/internal/ranges"
)

// probe reports, for every &s[0] of a slice passed to C, whether ranges
// proves s non-empty there.
var probe = &analysis.Analyzer{
	Name: "probe",
	Doc:  "test analyzer reporting ranges.NonEmpty at each &s[0] passed to C",
	Run: func(pass *analysis.Pass) (any, error) {
		prog := ranges.New(pass)
		for _, f := range cgoast.UserFiles(pass.Files) {
			cgoast.Inspect(f, func(c *cgoast.Call, _ []ast.Node) {
				for _, a := range c.Args {
					ix, s, _, ok := c.AddrOfIndex(pass.TypesInfo, a)
					if !ok {
						continue
					}
					if _, isSlice := cgoast.Under(pass.TypesInfo.TypeOf(s)).(*types.Slice); !isSlice {
						continue
					}
					nonEmpty, known := prog.NonEmpty(ix.Lbrack)
					switch {
					case !known:
						pass.Reportf(a.Pos(), "unknown")
					case nonEmpty:
						pass.Reportf(a.Pos(), "non-empty")
					default:
						pass.Reportf(a.Pos(), "may be empty")
					}
				}
			})
		}
		return nil, nil
	},
}

func TestNonEmpty(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), probe, "lens")
}
