package store

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

// TestSecretsComparedInConstantTime reads tokens.go: the secret's hash
// is compared with crypto/subtle, and no == or != touches a secret or a
// hash (a timing side channel would leak how much of a guess matched).
func TestSecretsComparedInConstantTime(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "tokens.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	usesSubtle := false
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl:
			if n.Name.Name == "secretMatches" {
				ast.Inspect(n, func(m ast.Node) bool {
					if sel, ok := m.(*ast.SelectorExpr); ok {
						if x, ok := sel.X.(*ast.Ident); ok && x.Name == "subtle" && sel.Sel.Name == "ConstantTimeCompare" {
							usesSubtle = true
						}
					}
					return true
				})
			}
		case *ast.BinaryExpr:
			if n.Op != token.EQL && n.Op != token.NEQ {
				return true
			}
			for _, side := range []ast.Expr{n.X, n.Y} {
				ast.Inspect(side, func(m ast.Node) bool {
					if _, ok := m.(*ast.CallExpr); ok {
						return false // a call's result, e.g. ConstantTimeCompare(...) == 1
					}
					if id, ok := m.(*ast.Ident); ok {
						l := strings.ToLower(id.Name)
						if strings.Contains(l, "hash") || strings.Contains(l, "secret") || l == "stored" {
							t.Errorf("%s: %s compared with %s", fset.Position(n.Pos()), id.Name, n.Op)
						}
					}
					return true
				})
			}
		}
		return true
	})
	if !usesSubtle {
		t.Error("secretMatches does not use subtle.ConstantTimeCompare")
	}
}
