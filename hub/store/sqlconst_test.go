package store

import (
	"go/ast"
	"go/types"
	"testing"

	"golang.org/x/tools/go/packages"
)

// TestQueriesAreConstants proves that no request value can reach an SQL
// string: every query this package hands to database/sql is a compile-time
// constant (values travel only as parameters). The one exception is the
// schema migration, whose SQL is the compiled-in list.
func TestQueriesAreConstants(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the package with types")
	}
	pkgs, err := packages.Load(&packages.Config{Mode: packages.NeedName | packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo}, ".")
	if err != nil || len(pkgs) != 1 || len(pkgs[0].Errors) > 0 {
		t.Fatalf("load: %v %v", err, pkgs)
	}
	p := pkgs[0]
	queryMethods := map[string]bool{"ExecContext": true, "QueryContext": true, "QueryRowContext": true, "PrepareContext": true,
		"Exec": true, "Query": true, "QueryRow": true, "Prepare": true}
	checked := 0
	for _, f := range p.Syntax {
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok || !queryMethods[sel.Sel.Name] {
					return true
				}
				s, ok := p.TypesInfo.Selections[sel]
				if !ok {
					return true
				}
				recv := types.TypeString(s.Recv(), nil)
				switch recv {
				case "*database/sql.DB", "*database/sql.Tx", "*database/sql.Conn":
				default:
					return true // a prepared *sql.Stmt takes only parameters
				}
				i := 0
				if len(sel.Sel.Name) > len("Context") && sel.Sel.Name[len(sel.Sel.Name)-len("Context"):] == "Context" {
					i = 1
				}
				if len(call.Args) <= i {
					return true
				}
				checked++
				if tv := p.TypesInfo.Types[call.Args[i]]; tv.Value == nil && fn.Name.Name != "applyMigration" {
					t.Errorf("%s: %s in %s passes a query that is not a constant", p.Fset.Position(call.Pos()), sel.Sel.Name, fn.Name.Name)
				}
				return true
			})
		}
	}
	if checked < 20 {
		t.Fatalf("only %d query calls found: the test no longer sees the package's SQL", checked)
	}
}
