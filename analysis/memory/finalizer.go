package memory

import (
	"go/ast"
	"go/types"

	"github.com/cgoguard/cgoguard/analysis/internal/cflow"
	"github.com/cgoguard/cgoguard/analysis/internal/cgoast"
)

// closeAndFinalizer reports CG017 when a method that frees C memory is
// also run by the type's finalizer (as the finalizer itself or called
// from it) and neither guards the free nor clears the finalizer: a user
// who calls it explicitly gets the memory freed a second time by the
// collector.
func (s *state) closeAndFinalizer() {
	files := cgoast.UserFiles(s.pass.Files)
	decls := cflow.Decls(s.info, files)
	for _, fz := range cflow.Finalizers(s.info, files, decls) {
		if fz.Cleanup || fz.Body == nil {
			continue
		}
		var methods []*types.Func
		if fz.Method != nil {
			methods = append(methods, fz.Method)
		} else if fz.Param != nil {
			ast.Inspect(fz.Body, func(n ast.Node) bool {
				if call, ok := n.(*ast.CallExpr); ok {
					if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok && cflow.Var(s.info, sel.X) == fz.Param {
						if m := cflow.Callee(s.info, call); m != nil {
							methods = append(methods, m)
						}
					}
				}
				return true
			})
		}
		for _, m := range methods {
			d := decls[m]
			if d == nil || d.Recv == nil || len(d.Recv.List) != 1 || len(d.Recv.List[0].Names) != 1 {
				continue
			}
			rv, ok := s.info.Defs[d.Recv.List[0].Names[0]].(*types.Var)
			if !ok || cflow.Clears(s.info, d.Body, rv) || s.flagGuarded(d.Body, rv) {
				continue
			}
			for _, rel := range cflow.Releases(s.info, d.Body, rv) {
				// Idempotent: the release is guarded, or the field is set to
				// nil after it, so a second run sees nil (C functions that
				// release take NULL as a no-op, free among them).
				if rel.Field == nil || rel.Guarded || s.nils(d.Body, rv, rel.Field) {
					continue
				}
				if s.reported[rel.Call.Expr] {
					continue
				}
				s.reported[rel.Call.Expr] = true
				s.r.Report(rel.Call.Expr, "CG017", "%s frees %s.%s and is also run by the finalizer: after an explicit %s the collector frees it again; clear the finalizer or guard the free",
					m.Name(), rv.Name(), rel.Field.Name(), m.Name())
			}
		}
	}
}

// nils reports whether body assigns nil to recv.field.
func (s *state) nils(body *ast.BlockStmt, recv, field *types.Var) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		a, ok := n.(*ast.AssignStmt)
		if !ok || found {
			return !found
		}
		for i, l := range a.Lhs {
			sel, ok := ast.Unparen(l).(*ast.SelectorExpr)
			if ok && i < len(a.Rhs) && s.isNil(a.Rhs[i]) && s.info.Uses[sel.Sel] == field && cflow.Var(s.info, sel.X) == recv {
				found = true
			}
		}
		return true
	})
	return found
}

// flagGuarded reports a method that returns early on a state field of its
// receiver and sets that field itself: if !f.valid { return }; f.valid =
// false; release(...). A second run returns before releasing anything.
func (s *state) flagGuarded(body *ast.BlockStmt, recv *types.Var) bool {
	var guards []*types.Var
	for _, st := range body.List {
		ifs, ok := st.(*ast.IfStmt)
		if !ok {
			continue
		}
		if len(ifs.Body.List) == 0 {
			continue
		}
		if _, ret := ifs.Body.List[len(ifs.Body.List)-1].(*ast.ReturnStmt); !ret {
			continue
		}
		ast.Inspect(ifs.Cond, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok && cflow.Var(s.info, sel.X) == recv {
				if fv, ok := s.info.Uses[sel.Sel].(*types.Var); ok && fv.IsField() {
					guards = append(guards, fv)
				}
			}
			return true
		})
	}
	if len(guards) == 0 {
		return false
	}
	set := false
	ast.Inspect(body, func(n ast.Node) bool {
		a, ok := n.(*ast.AssignStmt)
		if !ok || set {
			return !set
		}
		for _, l := range a.Lhs {
			if sel, ok := ast.Unparen(l).(*ast.SelectorExpr); ok && cflow.Var(s.info, sel.X) == recv {
				for _, g := range guards {
					if s.info.Uses[sel.Sel] == g {
						set = true
					}
				}
			}
		}
		return true
	})
	return set
}
