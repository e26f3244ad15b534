package memory

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"os"
	"strconv"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/cfg"

	"github.com/cgoguard/cgoguard/analysis/internal/cflow"
)

// defines reports whether n declares v (p := ..., var p = ...).
func defines(info *types.Info, n ast.Node, v *types.Var) bool {
	switch n := n.(type) {
	case *ast.AssignStmt:
		for _, l := range n.Lhs {
			if id, ok := l.(*ast.Ident); ok && info.Defs[id] == v {
				return true
			}
		}
	case *ast.ValueSpec:
		for _, id := range n.Names {
			if info.Defs[id] == v {
				return true
			}
		}
	}
	return false
}

// views returns the variables of body that hold unsafe.Slice or
// unsafe.String views of the memory v points to.
func (s *state) views(body *ast.BlockStmt, v *types.Var) map[*types.Var]bool {
	if s.viewCache == nil {
		// One pass over the body records the views of every variable.
		s.viewCache = map[*types.Var]map[*types.Var]bool{}
		ast.Inspect(body, func(n ast.Node) bool {
			a, ok := n.(*ast.AssignStmt)
			if !ok || len(a.Lhs) != len(a.Rhs) {
				return true
			}
			for i, rhs := range a.Rhs {
				w := cflow.Var(s.info, a.Lhs[i])
				if w == nil {
					continue
				}
				for _, u := range s.viewBases(rhs) {
					if s.viewCache[u] == nil {
						s.viewCache[u] = map[*types.Var]bool{}
					}
					s.viewCache[u][w] = true
				}
			}
			return true
		})
	}
	return s.viewCache[v]
}

// viewBases returns the variables e is an unsafe.Slice or unsafe.String
// view over.
func (s *state) viewBases(e ast.Expr) []*types.Var {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok || len(call.Args) != 2 {
		return nil
	}
	if !cflow.IsFunc(s.info, call, "unsafe", "Slice") && !cflow.IsFunc(s.info, call, "unsafe", "String") {
		return nil
	}
	var out []*types.Var
	ast.Inspect(call.Args[0], func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			if v, ok := s.info.Uses[id].(*types.Var); ok {
				out = append(out, v)
			}
		}
		return true
	})
	return out
}

// isView reports whether e is unsafe.Slice or unsafe.String over v.
func (s *state) isView(e ast.Expr, v *types.Var) bool {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok || len(call.Args) != 2 {
		return false
	}
	if !cflow.IsFunc(s.info, call, "unsafe", "Slice") && !cflow.IsFunc(s.info, call, "unsafe", "String") {
		return false
	}
	return cflow.Mentions(s.info, call.Args[0], v)
}

// mentionsView reports whether n mentions a view of v (a view variable or
// an unsafe.Slice/String expression over v).
func (s *state) mentionsView(n ast.Node, v *types.Var, views map[*types.Var]bool) bool {
	found := false
	cflow.Inspect(n, func(m ast.Node) bool {
		if found {
			return false
		}
		switch m := m.(type) {
		case *ast.Ident:
			if w, ok := s.info.Uses[m].(*types.Var); ok && views[w] {
				found = true
			}
		case ast.Expr:
			if s.isView(m, v) {
				found = true
			}
		}
		return true
	})
	return found
}

// afterFree follows the paths after node n frees v (now or deferred) and
// reports a second free (CG017), a use of the freed memory (CG016) or of a
// view over it (CG018).
func (s *state) afterFree(g *cfg.CFG, body *ast.BlockStmt, v *types.Var, n ast.Node) {
	b, i, ok := cflow.Find(g, n.Pos())
	if !ok || b.Nodes[i] != n {
		return
	}
	d, deferred := n.(*ast.DeferStmt)
	if deferred && conditionalFree(s.info, d, v) {
		// defer func() { if !ok { C.free(p) } }(): the ownership-transfer
		// pattern; what is returned after ok = true is not freed.
		return
	}
	views := s.views(body, v)
	kinds := map[ast.Node]holdKind{} // what a failing return or store hands on
	w := &cflow.Walker{
		Enter: func(b *cfg.Block) cflow.Step {
			if cflow.RangeRebinds(s.info, b, v) {
				return cflow.Done // the next iteration's value
			}
			return cflow.Next
		},
		Step: func(m ast.Node) cflow.Step {
			if m == n {
				return cflow.Done
			}
			if !s.mentionsAny(m, v, views) {
				return cflow.Next
			}
			if defines(s.info, m, v) {
				return cflow.Done
			}
			for _, fv := range freedVars(s.info, m) {
				if fv == v {
					return cflow.Fail
				}
			}
			if deferred {
				// The memory is freed at return: returning it, or a view
				// over it, hands the caller freed memory.
				if r, ok := m.(*ast.ReturnStmt); ok {
					for _, res := range r.Results {
						if k := s.holds(res, v, views); k != holdsNothing {
							kinds[m] = k
							return cflow.Fail
						}
					}
				}
				if a, ok := m.(*ast.AssignStmt); ok && a.Tok == token.ASSIGN && s.storesView(a, v, views) {
					kinds[m] = holdsView
					return cflow.Fail
				}
				if cflow.Classify(s.info, m, v, s.env) == cflow.Assign {
					return cflow.Done
				}
				return cflow.Next
			}
			if s.mentionsView(m, v, views) {
				return cflow.Fail
			}
			switch cflow.Classify(s.info, m, v, s.env) {
			case cflow.Read, cflow.Escape:
				return cflow.Fail
			case cflow.Assign:
				return cflow.Done
			}
			return cflow.Next
		},
	}
	m, bad := w.From(b, i)
	if !bad || m == nil || s.reported[m] {
		return
	}
	s.reported[m] = true
	line := s.pass.Fset.Position(n.Pos()).Line
	for _, fv := range freedVars(s.info, m) {
		if fv == v {
			s.r.Report(m, "CG017", "%s is freed twice (it was already freed at line %d)", v.Name(), line)
			return
		}
	}
	if deferred {
		if kinds[m] == holdsView {
			s.r.Report(m, "CG018", "unsafe view over %s outlives the free at line %d", v.Name(), line)
			return
		}
		s.r.Report(m, "CG016", "%s is returned but the deferred free at line %d releases it", v.Name(), line)
		return
	}
	if s.mentionsView(m, v, views) {
		s.r.Report(m, "CG018", "unsafe view over %s outlives the free at line %d", v.Name(), line)
		return
	}
	s.r.Report(m, "CG016", "%s is used after it was freed at line %d", v.Name(), line)
}

// holdKind says whether an expression's value holds C memory.
type holdKind int

const (
	holdsNothing holdKind = iota
	holdsMemory           // the pointer itself, converted or offset
	holdsView             // an unsafe.Slice/unsafe.String view over it
)

// holds reports whether the value of e holds v's memory or a view over
// it: v itself through conversions, &v.f, a slice of a view, a composite
// literal holding one. Calls other than conversions and unsafe's
// functions are not entered: a function given v runs before a deferred
// free, and what it returns is its own business.
func (s *state) holds(e ast.Expr, v *types.Var, views map[*types.Var]bool) holdKind {
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident:
		if w, ok := s.info.Uses[e].(*types.Var); ok {
			if w == v {
				return holdsMemory
			}
			if views[w] {
				return holdsView
			}
		}
	case *ast.CallExpr:
		if tv, ok := s.info.Types[e.Fun]; ok && tv.IsType() && len(e.Args) == 1 {
			return s.holds(e.Args[0], v, views)
		}
		if s.isView(e, v) {
			return holdsView
		}
		for _, name := range []string{"Add", "SliceData", "StringData"} {
			if cflow.IsFunc(s.info, e, "unsafe", name) && len(e.Args) > 0 {
				return s.holds(e.Args[0], v, views)
			}
		}
		if id, ok := ast.Unparen(e.Fun).(*ast.Ident); ok && id.Name == "append" {
			if _, ok := s.info.Uses[id].(*types.Builtin); ok {
				k := holdsNothing
				for _, a := range e.Args {
					k = max(k, s.holds(a, v, views))
				}
				return k
			}
		}
	case *ast.UnaryExpr:
		if e.Op == token.AND {
			x := e.X
			for {
				switch y := ast.Unparen(x).(type) {
				case *ast.SelectorExpr:
					x = y.X
					continue
				case *ast.IndexExpr:
					x = y.X
					continue
				case *ast.StarExpr:
					x = y.X
					continue
				}
				break
			}
			return s.holds(x, v, views)
		}
	case *ast.SliceExpr:
		return s.holds(e.X, v, views)
	case *ast.CompositeLit:
		k := holdsNothing
		for _, el := range e.Elts {
			if kv, ok := el.(*ast.KeyValueExpr); ok {
				el = kv.Value
			}
			k = max(k, s.holds(el, v, views))
		}
		return k
	}
	return holdsNothing
}

// conditionalFree reports whether d defers a closure that frees v only
// under a condition.
func conditionalFree(info *types.Info, d *ast.DeferStmt, v *types.Var) bool {
	lit, ok := d.Call.Fun.(*ast.FuncLit)
	if !ok || cflow.IsCgoClosure(lit) {
		return false
	}
	found := false
	ast.Inspect(lit.Body, func(n ast.Node) bool {
		if found {
			return false
		}
		if st, ok := n.(*ast.IfStmt); ok && cflow.FreesIn(info, st, v) {
			found = true
		}
		if st, ok := n.(*ast.SwitchStmt); ok && cflow.FreesIn(info, st, v) {
			found = true
		}
		return true
	})
	return found
}

// mentionsAny reports whether CFG node m references v or one of its views.
func (s *state) mentionsAny(m ast.Node, v *types.Var, views map[*types.Var]bool) bool {
	vars, ok := s.mentions[m]
	if !ok {
		return true // not indexed: classify it
	}
	if vars[v] {
		return true
	}
	for w := range views {
		if vars[w] {
			return true
		}
	}
	return false
}

// storesView reports whether a stores a view over v's memory outside the
// function's locals (a field, an element, a package variable).
func (s *state) storesView(a *ast.AssignStmt, v *types.Var, views map[*types.Var]bool) bool {
	for i, l := range a.Lhs {
		if i >= len(a.Rhs) {
			break
		}
		if s.holds(a.Rhs[i], v, views) != holdsView {
			continue // storing the pointer itself (into a C request, say) is common and fine
		}
		switch l := ast.Unparen(l).(type) {
		case *ast.SelectorExpr, *ast.IndexExpr, *ast.StarExpr:
			return true
		case *ast.Ident:
			if w, ok := s.info.Uses[l].(*types.Var); ok && w.Parent() == s.pass.Pkg.Scope() {
				return true
			}
		}
	}
	return false
}

// deferFrees reports whether d defers C.free.
func deferFrees(d *ast.DeferStmt) bool {
	if c, ok := cflow.CCall(d.Call); ok && c.Name == "free" {
		return true
	}
	if lit, ok := d.Call.Fun.(*ast.FuncLit); ok && !cflow.IsCgoClosure(lit) {
		found := false
		ast.Inspect(lit.Body, func(n ast.Node) bool {
			if e, ok := n.(ast.Expr); ok && !found {
				if c, ok := cflow.CCall(e); ok && c.Name == "free" {
					found = true
				}
			}
			return !found
		})
		return found
	}
	return false
}

// deferInLoop reports defer C.free inside a loop body (CG015) when the
// loop is unbounded: for {}, a loop with only a condition, a range over a
// channel or an iterator function. A loop over a slice, map, string or
// integer, or a counted loop, holds memory in proportion to input already
// in memory; and an allocation stored in something used after the loop
// must outlive the iteration anyway.
func (s *state) deferInLoop(ins *inspector.Inspector, gen func(token.Pos) bool) {
	ins.WithStack([]ast.Node{(*ast.DeferStmt)(nil)}, func(n ast.Node, push bool, stack []ast.Node) bool {
		d := n.(*ast.DeferStmt)
		if !push || gen(n.Pos()) || !deferFrees(d) {
			return true
		}
		for i := len(stack) - 2; i >= 0; i-- {
			switch loop := stack[i].(type) {
			case *ast.FuncLit, *ast.FuncDecl:
				return true
			case *ast.ForStmt, *ast.RangeStmt:
				if s.boundedLoop(loop) || s.storedForLater(loop, d) {
					return true
				}
				s.r.Report(n, "CG015", "defer C.free in a loop holds every allocation until the function returns; free at the end of each iteration")
				return true
			}
		}
		return true
	})
}

// boundedLoop reports a loop whose trip count is fixed by data already in
// memory: a range over a slice, array, map, string or integer, or a
// counted loop (a condition and a counter stepped by the post statement).
func (s *state) boundedLoop(loop ast.Node) bool {
	switch l := loop.(type) {
	case *ast.RangeStmt:
		switch cgoastUnder(s.info.TypeOf(l.X)).(type) {
		case *types.Slice, *types.Array, *types.Map, *types.Pointer:
			return true
		case *types.Basic:
			return true // string or integer
		}
	case *ast.ForStmt:
		// for i := 0; i < n; i++: a counter stepping toward a bound.
		switch p := l.Post.(type) {
		case *ast.IncDecStmt:
			return l.Cond != nil
		case *ast.AssignStmt:
			return l.Cond != nil && (p.Tok == token.ADD_ASSIGN || p.Tok == token.SUB_ASSIGN)
		}
	}
	return false
}

// storedForLater reports whether the memory the deferred free releases is
// also stored (in a slice element, appended, or in a field) inside the
// loop: it must live until after the loop.
func (s *state) storedForLater(loop ast.Node, d *ast.DeferStmt) bool {
	var freed []*types.Var
	for _, v := range freedVars(s.info, d) {
		freed = append(freed, v)
	}
	found := false
	ast.Inspect(loop, func(n ast.Node) bool {
		a, ok := n.(*ast.AssignStmt)
		if !ok || found || len(a.Lhs) != len(a.Rhs) {
			return !found
		}
		for i, l := range a.Lhs {
			if _, isIdent := ast.Unparen(l).(*ast.Ident); isIdent && !isAppend(s.info, a.Rhs[i]) {
				continue
			}
			for _, v := range freed {
				if cflow.Mentions(s.info, a.Rhs[i], v) {
					found = true
				}
			}
		}
		return true
	})
	return found
}

func isAppend(info *types.Info, e ast.Expr) bool {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok {
		return false
	}
	id, ok := ast.Unparen(call.Fun).(*ast.Ident)
	if !ok {
		return false
	}
	b, ok := info.Uses[id].(*types.Builtin)
	return ok && b.Name() == "append"
}

func cgoastUnder(t types.Type) types.Type {
	if t == nil {
		return nil
	}
	return t.Underlying()
}

// deferFreeFix inserts "defer C.free(unsafe.Pointer(p))" after the
// statement that allocated p. The edit is made in the user's source file,
// located through the //line directives of the cgo-rewritten file; no fix
// is offered when the file does not import unsafe or cannot be read.
func (s *state) deferFreeFix(st site) []analysis.SuggestedFix {
	f := s.fileOf(st.assign.Pos())
	if f == nil || !importsUnsafe(f) {
		return nil
	}
	end := s.pass.Fset.Position(st.assign.End())
	tf, content := s.original(end.Filename)
	if tf == nil || end.Line < 1 || end.Line > tf.LineCount() {
		return nil
	}
	lineStart := tf.LineStart(end.Line)
	startOff := tf.Offset(lineStart)
	eol := bytes.IndexByte(content[startOff:], '\n')
	if eol < 0 {
		eol = len(content) - startOff
	}
	line := content[startOff : startOff+eol]
	indent := line[:len(line)-len(bytes.TrimLeft(line, " \t"))]
	at := tf.Pos(startOff + eol)
	text := fmt.Sprintf("\n%sdefer C.free(unsafe.Pointer(%s))", indent, st.v.Name())
	return []analysis.SuggestedFix{{
		Message:   "Free " + st.v.Name() + " with a deferred C.free",
		TextEdits: []analysis.TextEdit{{Pos: at, End: at, NewText: []byte(text)}},
	}}
}

// callocFix rewrites C.malloc(n) as C.calloc(1, n) in the user's source.
// It is offered only for the direct form, whose C.malloc the //line
// directives place exactly, and only when the source there reads
// "C.malloc(".
func (s *state) callocFix(call *ast.CallExpr) []analysis.SuggestedFix {
	par, ok := call.Fun.(*ast.ParenExpr)
	if !ok {
		return nil
	}
	id, ok := par.X.(*ast.Ident)
	if !ok || id.Name != "_Cfunc__CMalloc" {
		return nil
	}
	p := s.pass.Fset.Position(id.Pos())
	tf, content := s.original(p.Filename)
	if tf == nil || p.Line < 1 || p.Line > tf.LineCount() {
		return nil
	}
	off := tf.Offset(tf.LineStart(p.Line)) + p.Column - 1
	const old = "C.malloc("
	if off < 0 || off+len(old) > len(content) || string(content[off:off+len(old)]) != old {
		return nil
	}
	return []analysis.SuggestedFix{{
		Message: "Allocate zeroed memory with C.calloc",
		TextEdits: []analysis.TextEdit{{
			Pos: tf.Pos(off), End: tf.Pos(off + len(old)), NewText: []byte("C.calloc(1, "),
		}},
	}}
}

// fileOf returns the file of the pass that contains pos.
func (s *state) fileOf(pos token.Pos) *ast.File {
	for _, f := range s.pass.Files {
		if f.FileStart <= pos && pos <= f.FileEnd {
			return f
		}
	}
	return nil
}

func importsUnsafe(f *ast.File) bool {
	for _, im := range f.Imports {
		if p, _ := strconv.Unquote(im.Path.Value); p == "unsafe" && im.Name == nil {
			return true
		}
	}
	return false
}

// original returns a token.File for the user's source file name (as named
// by //line directives) so that fixes can edit it, and its content.
func (s *state) original(name string) (*token.File, []byte) {
	if o, ok := s.originals[name]; ok {
		return o.tf, o.content
	}
	var o origFile
	s.pass.Fset.Iterate(func(tf *token.File) bool {
		if tf.Name() == name {
			o.tf = tf
			return false
		}
		return true
	})
	content, err := os.ReadFile(name)
	if err == nil {
		if o.tf == nil || o.tf.Size() != len(content) {
			o.tf = s.pass.Fset.AddFile(name, -1, len(content))
			o.tf.SetLinesForContent(content)
		}
		o.content = content
	} else {
		o.tf = nil
	}
	s.originals[name] = o
	return o.tf, o.content
}

type origFile struct {
	tf      *token.File
	content []byte
}
