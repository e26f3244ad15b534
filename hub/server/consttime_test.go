package server

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

// TestMACsComparedInConstantTime reads auth.go: session signatures and
// CSRF tokens are compared with hmac.Equal, never with == or !=.
func TestMACsComparedInConstantTime(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "auth.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	equalIn := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl:
			ast.Inspect(n, func(m ast.Node) bool {
				if sel, ok := m.(*ast.SelectorExpr); ok {
					if x, ok := sel.X.(*ast.Ident); ok && x.Name == "hmac" && sel.Sel.Name == "Equal" {
						equalIn[n.Name.Name] = true
					}
				}
				return true
			})
		case *ast.BinaryExpr:
			if n.Op != token.EQL && n.Op != token.NEQ {
				return true
			}
			ast.Inspect(n, func(m ast.Node) bool {
				if _, ok := m.(*ast.CallExpr); ok {
					return false
				}
				if id, ok := m.(*ast.Ident); ok {
					l := strings.ToLower(id.Name)
					if strings.Contains(l, "sig") || strings.Contains(l, "mac") || strings.Contains(l, "csrf") {
						t.Errorf("%s: %s compared with %s", fset.Position(n.Pos()), id.Name, n.Op)
					}
				}
				return true
			})
		}
		return true
	})
	for _, fn := range []string{"verifySession", "form"} {
		if !equalIn[fn] {
			t.Errorf("%s does not compare with hmac.Equal", fn)
		}
	}
}
