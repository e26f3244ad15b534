package pointers

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"

	"github.com/cgoguard/cgoguard/analysis/internal/cgoast"
	"github.com/cgoguard/cgoguard/analysis/internal/diag"
	"github.com/cgoguard/cgoguard/analysis/internal/ranges"
)

// Doc is the analyzer's documentation.
const Doc = `check Go pointers passed to and kept by C (CG001-CG008)

Reports Go values holding Go pointers passed to C, &s[0] on possibly empty
slices, pointers C keeps without a runtime.Pinner, Go pointers stored in C
memory, unbalanced Pinner.Pin, //export functions returning Go memory, and
pointers laundered through uintptr.`

// URL is the documentation of the analyzer's rules.
const URL = diag.BaseURL + "README.md#pointers"

// Analyzer checks Go pointers passed to and kept by C.
var Analyzer = &analysis.Analyzer{
	Name:       "pointers",
	Doc:        Doc,
	URL:        URL,
	Run:        run,
	ResultType: diag.ResultType,
}

const pinnerPkg = "runtime"

func run(pass *analysis.Pass) (any, error) {
	r := diag.New(pass)
	files := cgoast.UserFiles(pass.Files)
	keeps := cgoast.Marked(files, "keeps")
	prog := ranges.New(pass)
	mirrors := cgoast.MirrorTypes(pass.TypesInfo, files)
	for _, f := range files {
		for _, fd := range cgoast.Funcs(f) {
			c := &checker{pass: pass, r: r, info: pass.TypesInfo, keeps: keeps, fd: fd, export: cgoast.ExportName(fd) != "", ranges: prog, mirrors: mirrors}
			c.function()
		}
	}
	return r.Result(), nil
}

type checker struct {
	pass    *analysis.Pass
	r       *diag.Reporter
	info    *types.Info
	keeps   map[string]bool
	fd      *ast.FuncDecl
	export  bool
	ranges  *ranges.Prog
	mirrors map[*types.Named]bool // Go types the package lays over C memory

	pinned    map[*types.Var]bool     // roots of Pin arguments
	laundered map[*types.Var]ast.Expr // uintptr vars holding Go pointers
	lenChecks map[*types.Var][]lenCheck
	lenVars   map[*types.Var]*types.Var // n := len(s): n → s
	nonEmpty  map[*types.Var]bool
	assigns   map[*types.Var][]ast.Expr
}

func (c *checker) function() {
	c.pinned = map[*types.Var]bool{}
	c.laundered = map[*types.Var]ast.Expr{}
	c.lenChecks = map[*types.Var][]lenCheck{}
	c.lenVars = map[*types.Var]*types.Var{}
	c.nonEmpty = map[*types.Var]bool{}
	c.assigns = map[*types.Var][]ast.Expr{}
	c.facts()
	if c.export {
		c.exportResults()
	}
	c.pinners()
	cgoast.Inspect(c.fd.Body, func(call *cgoast.Call, _ []ast.Node) {
		if call.IsBuiltin() {
			return
		}
		for _, a := range call.Args {
			c.arg(call, a)
		}
	})
	c.firstElemVars()
	ast.Inspect(c.fd.Body, func(n ast.Node) bool {
		if as, ok := n.(*ast.AssignStmt); ok && (as.Tok == token.ASSIGN) && len(as.Lhs) == len(as.Rhs) {
			for i := range as.Lhs {
				c.store(as.Lhs[i], as.Rhs[i])
			}
		}
		return true
	})
}

// facts collects what the checks need to know about the function's
// variables: pinned objects, uintptr-laundered pointers, length checks,
// and assignments.
func (c *checker) facts() {
	ast.Inspect(c.fd.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			if cgoast.IsPkgFunc(c.info, n, pinnerPkg, "Pinner.Pin") && len(n.Args) == 1 {
				if v := cgoast.RootVar(c.info, n.Args[0]); v != nil {
					c.pinned[v] = true
				}
			}
		case *ast.BinaryExpr:
			// A comparison involving len(s) is a length check.
			switch n.Op {
			case token.EQL, token.NEQ, token.LSS, token.LEQ, token.GTR, token.GEQ:
				for _, side := range []ast.Expr{n.X, n.Y} {
					v := c.lenOf(side)
					if v == nil {
						// n := len(s); if n > 0
						if lv := identVar(c.info, side); lv != nil {
							v = c.lenVars[lv]
						}
					}
					if v != nil {
						c.lenChecks[v] = append(c.lenChecks[v], lenCheck{from: n.Pos(), to: c.fd.Body.End()})
					}
				}
			}
		case *ast.RangeStmt:
			// Inside the body of a range over s, s is not empty.
			if v := cgoast.RootVar(c.info, n.X); v != nil {
				c.lenChecks[v] = append(c.lenChecks[v], lenCheck{from: n.Body.Pos(), to: n.Body.End()})
			}
		case *ast.AssignStmt:
			if len(n.Lhs) == len(n.Rhs) {
				for i, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						c.assign(id, n.Rhs[i])
					}
				}
			}
		case *ast.ValueSpec:
			if len(n.Names) == len(n.Values) {
				for i, id := range n.Names {
					c.assign(id, n.Values[i])
				}
			}
		}
		return true
	})
}

func (c *checker) assign(id *ast.Ident, rhs ast.Expr) {
	v, _ := c.info.Defs[id].(*types.Var)
	if v == nil {
		v, _ = c.info.Uses[id].(*types.Var)
	}
	if v == nil {
		return
	}
	c.assigns[v] = append(c.assigns[v], rhs)
	if s := c.lenOf(rhs); s != nil {
		c.lenVars[v] = s
	}
	if nonEmptyValue(c.info, rhs) {
		c.nonEmpty[v] = true
	}
	if p, ok := c.launderedPointer(rhs); ok {
		c.laundered[v] = p
	}
}

// nonEmptyValue reports slice expressions that are certainly not empty:
// make([]T, n) with constant n > 0, and non-empty composite literals.
func nonEmptyValue(info *types.Info, e ast.Expr) bool {
	switch x := ast.Unparen(e).(type) {
	case *ast.CompositeLit:
		return len(x.Elts) > 0
	case *ast.CallExpr:
		if id, ok := ast.Unparen(x.Fun).(*ast.Ident); ok && id.Name == "make" && len(x.Args) >= 2 {
			return positive(info, x.Args[1])
		}
	}
	return false
}

// positive reports length expressions that are certainly above zero: a
// positive constant, or n + c with c a positive constant and n a length
// (len, cap) or another such expression.
func positive(info *types.Info, e ast.Expr) bool {
	if tv, ok := info.Types[e]; ok && tv.Value != nil {
		return constant.Sign(tv.Value) > 0
	}
	b, ok := ast.Unparen(e).(*ast.BinaryExpr)
	if !ok || b.Op != token.ADD {
		return false
	}
	return (positive(info, b.X) && nonNegative(info, b.Y)) || (positive(info, b.Y) && nonNegative(info, b.X))
}

// nonNegative reports len(x), cap(x), non-negative constants and sums of
// them.
func nonNegative(info *types.Info, e ast.Expr) bool {
	if tv, ok := info.Types[e]; ok && tv.Value != nil {
		return constant.Sign(tv.Value) >= 0
	}
	switch x := ast.Unparen(e).(type) {
	case *ast.CallExpr:
		if id, ok := ast.Unparen(x.Fun).(*ast.Ident); ok && (id.Name == "len" || id.Name == "cap") {
			_, builtin := info.Uses[id].(*types.Builtin)
			return builtin
		}
	case *ast.BinaryExpr:
		return x.Op == token.ADD && nonNegative(info, x.X) && nonNegative(info, x.Y)
	}
	return false
}

// launderedPointer reports whether e converts a Go pointer to an integer:
// uintptr(unsafe.Pointer(&x)), C.uintptr_t(uintptr(unsafe.Pointer(p))).
func (c *checker) launderedPointer(e ast.Expr) (ast.Expr, bool) {
	// The outermost conversion is to an integer; a conversion back to a
	// pointer, (*T)(unsafe.Pointer(uintptr(p))), is pointer arithmetic.
	ts, inner := cgoast.Conversions(c.info, e)
	if len(ts) == 0 {
		return nil, false
	}
	if b, ok := cgoast.Under(ts[0]).(*types.Basic); !ok || b.Info()&types.IsInteger == 0 {
		return nil, false
	}
	if _, ok := c.goPointer(inner); ok {
		return inner, true
	}
	return nil, false
}

// arg checks one argument of a C call.
func (c *checker) arg(call *cgoast.Call, a ast.Expr) {
	// CG008: uintptr laundering, inline or through a variable. With
	// runtime.KeepAlive of the object right after the call, the object
	// stays where it is for the call (the integer form some bindings use
	// to skip cgo's pointer checks).
	if p, ok := c.launderedPointer(a); ok {
		if c.keptAliveAfter(call, p) {
			return
		}
		c.r.Report(a, "CG008", "Go pointer %s is passed to C.%s as an integer; the garbage collector no longer tracks it (pass it as a pointer, or use a cgo.Handle)", c.str(p), call.Name)
		return
	}
	_, inner := cgoast.Conversions(c.info, a)
	if id, ok := ast.Unparen(inner).(*ast.Ident); ok {
		if v, _ := c.info.Uses[id].(*types.Var); v != nil {
			if p, ok := c.laundered[v]; ok {
				c.r.Report(a, "CG008", "Go pointer %s, laundered through uintptr %s, is passed to C.%s; the garbage collector no longer tracks it", c.str(p), id.Name, call.Name)
				return
			}
		}
	}

	// CG002: &s[0].
	if ix, s, idx, ok := call.AddrOfIndex(c.info, a); ok {
		if st, isSlice := cgoast.Under(c.info.TypeOf(s)).(*types.Slice); isSlice {
			if cgoast.ContainsGoPointer(st.Elem()) {
				c.r.Report(a, "CG002", "&%s[0] passed to C.%s exposes the whole backing array of %s, whose elements hold Go pointers", c.str(s), call.Name, c.str(s))
				return
			}
			if isZero(c.info, idx) && c.mayBeEmpty(ix, s, call.Pos()) {
				c.r.Report(a, "CG002", "&%s[0] passed to C.%s panics when %s is empty; check len(%s) first or use unsafe.SliceData(%s)", c.str(s), call.Name, c.str(s), c.str(s), c.str(s))
			}
			return
		}
	}

	t, ok := c.goPointer(inner)
	if !ok {
		return
	}
	// CG001: the pointed-to memory holds Go pointers.
	if cgoast.ContainsGoPointer(t) {
		c.r.Report(a, "CG001", "%s passed to C.%s points to a %s, which contains Go pointers", c.str(inner), call.Name, types.TypeString(t, types.RelativeTo(c.pass.Pkg)))
		return
	}
	// CG003: C keeps the pointer.
	if cgoast.Keeps(c.keeps, call.Name) {
		if v := cgoast.RootVar(c.info, inner); v == nil || !c.pinned[v] {
			c.r.Report(a, "CG003", "C.%s keeps Go pointer %s after the call returns; pin it with a runtime.Pinner until C releases it", call.Name, c.str(inner))
		}
	}
}

// isZero reports the constant index 0.
func isZero(info *types.Info, idx ast.Expr) bool {
	tv, ok := info.Types[idx]
	return ok && tv.Value != nil && tv.Value.String() == "0"
}

// mayBeEmpty reports whether the slice s indexed by ix may be empty
// there: the facts that dominate the index expression in the function's
// SSA form decide (see package ranges); where ix has no SSA form, a
// length check earlier in the function does.
func (c *checker) mayBeEmpty(ix *ast.IndexExpr, s ast.Expr, pos token.Pos) bool {
	if nonEmpty, ok := c.ranges.NonEmpty(ix.Lbrack); ok {
		return !nonEmpty
	}
	return !c.lengthKnown(s, pos)
}

// firstElemVars reports &s[0] stored in a variable that is then passed to
// C (p := unsafe.Pointer(&s[0]); C.f(p, n)) where s may be empty.
func (c *checker) firstElemVars() {
	type store struct {
		ix *ast.IndexExpr
		s  ast.Expr
		at ast.Expr
	}
	stores := map[*types.Var][]store{}
	note := func(lhs ast.Expr, rhs ast.Expr) {
		v := identVar(c.info, lhs)
		if v == nil {
			if id, ok := ast.Unparen(lhs).(*ast.Ident); ok {
				v, _ = c.info.Defs[id].(*types.Var)
			}
		}
		if v == nil || cgoast.IsTemp(v.Name()) {
			return
		}
		e := ast.Unparen(cgoast.Unconvert(c.info, rhs))
		u, ok := e.(*ast.UnaryExpr)
		if !ok || u.Op != token.AND {
			return
		}
		ix, ok := ast.Unparen(u.X).(*ast.IndexExpr)
		if !ok || !isZero(c.info, ix.Index) {
			return
		}
		if _, isSlice := cgoast.Under(c.info.TypeOf(ix.X)).(*types.Slice); !isSlice {
			return
		}
		stores[v] = append(stores[v], store{ix: ix, s: ix.X, at: rhs})
	}
	ast.Inspect(c.fd.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.AssignStmt:
			if len(n.Lhs) == len(n.Rhs) {
				for i := range n.Lhs {
					note(n.Lhs[i], n.Rhs[i])
				}
			}
		case *ast.ValueSpec:
			if len(n.Names) == len(n.Values) {
				for i := range n.Names {
					note(n.Names[i], n.Values[i])
				}
			}
		}
		return true
	})
	if len(stores) == 0 {
		return
	}
	cgoast.Inspect(c.fd.Body, func(call *cgoast.Call, _ []ast.Node) {
		if call.IsBuiltin() {
			return
		}
		for _, a := range call.Args {
			v := identVar(c.info, cgoast.Unconvert(c.info, a))
			for _, st := range stores[v] {
				if cgoast.ContainsGoPointer(c.info.TypeOf(st.s).Underlying().(*types.Slice).Elem()) {
					continue // CG001's business when passed
				}
				if c.mayBeEmpty(st.ix, st.s, st.at.Pos()) {
					c.r.Report(st.at, "CG002", "&%s[0], passed to C.%s through %s, panics when %s is empty; check len(%s) first or use unsafe.SliceData(%s)",
						c.str(st.s), call.Name, v.Name(), c.str(st.s), c.str(st.s), c.str(st.s))
				}
			}
			delete(stores, v)
		}
	})
}

// keptAliveAfter reports whether the statements following the one holding
// call, in the same block, include runtime.KeepAlive of p's root variable
// (or a deferred KeepAlive of it precedes the call).
func (c *checker) keptAliveAfter(call *cgoast.Call, p ast.Expr) bool {
	root := cgoast.RootVar(c.info, p)
	if root == nil {
		return false
	}
	keeps := func(n ast.Node) bool {
		found := false
		ast.Inspect(n, func(m ast.Node) bool {
			if ce, ok := m.(*ast.CallExpr); ok && !found && cgoast.IsPkgFunc(c.info, ce, "runtime", "KeepAlive") && len(ce.Args) == 1 {
				if cgoast.RootVar(c.info, ce.Args[0]) == root {
					found = true
				}
			}
			return !found
		})
		return found
	}
	result := false
	ast.Inspect(c.fd.Body, func(n ast.Node) bool {
		if result {
			return false
		}
		if d, ok := n.(*ast.DeferStmt); ok && d.Pos() < call.Pos() && keeps(d) {
			result = true
			return false
		}
		b, ok := n.(*ast.BlockStmt)
		if !ok {
			return true
		}
		for i, st := range b.List {
			if st.Pos() <= call.Pos() && call.Pos() < st.End() {
				for _, later := range b.List[i+1:] {
					if keeps(later) {
						result = true
					}
				}
			}
		}
		return true
	})
	return result
}

// lengthKnown reports whether the length of s is checked before pos, or s
// is known not to be empty.
func (c *checker) lengthKnown(s ast.Expr, pos token.Pos) bool {
	if _, isArr := cgoast.Under(c.info.TypeOf(s)).(*types.Array); isArr {
		return true
	}
	v := cgoast.RootVar(c.info, s)
	if v == nil {
		return false
	}
	if c.nonEmpty[v] {
		return true
	}
	for _, lc := range c.lenChecks[v] {
		if lc.from < pos && pos < lc.to {
			return true
		}
	}
	return false
}

// lenCheck is a region of the function, [from, to), where the length of a
// slice has been checked.
type lenCheck struct{ from, to token.Pos }

// lenOf returns s for an expression len(s) (or cap(s)), else nil.
func (c *checker) lenOf(e ast.Expr) *types.Var {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok || len(call.Args) != 1 {
		return nil
	}
	id, ok := ast.Unparen(call.Fun).(*ast.Ident)
	if !ok || (id.Name != "len" && id.Name != "cap") {
		return nil
	}
	if _, isBuiltin := c.info.Uses[id].(*types.Builtin); !isBuiltin {
		return nil
	}
	return cgoast.RootVar(c.info, call.Args[0])
}

// store checks lhs = rhs for a Go pointer stored in C memory (CG004, CG007).
func (c *checker) store(lhs, rhs ast.Expr) {
	if !c.inCMemory(lhs) {
		return
	}
	inner := cgoast.Unconvert(c.info, rhs)
	if _, ok := c.goPointer(inner); !ok {
		return
	}
	if v := cgoast.RootVar(c.info, inner); v != nil && c.pinned[v] {
		return
	}
	if c.export {
		c.r.Report(lhs, "CG007", "//export function %s stores Go pointer %s through a C pointer without pinning it; C may use it after the callback returns", c.fd.Name.Name, c.str(inner))
		return
	}
	c.r.Report(lhs, "CG004", "Go pointer %s is stored into C memory; the garbage collector does not see it there (pin it with a runtime.Pinner, or store a cgo.Handle)", c.str(inner))
}

// inCMemory reports whether the location lhs is in C memory.
func (c *checker) inCMemory(lhs ast.Expr) bool {
	switch x := ast.Unparen(lhs).(type) {
	case *ast.SelectorExpr:
		if sel := c.info.Selections[x]; sel == nil || sel.Kind() != types.FieldVal {
			return false
		}
		if p, ok := cgoast.Under(c.info.TypeOf(x.X)).(*types.Pointer); ok {
			return cgoast.IsCType(p.Elem()) && c.cPointerValue(x.X)
		}
		return c.inCMemory(x.X)
	case *ast.IndexExpr:
		if _, ok := cgoast.Under(c.info.TypeOf(x.X)).(*types.Pointer); ok {
			return c.cPointerValue(x.X)
		}
		if _, ok := cgoast.Under(c.info.TypeOf(x.X)).(*types.Array); ok {
			return c.inCMemory(x.X)
		}
	case *ast.StarExpr:
		return c.cPointerValue(x.X)
	}
	return false
}

// cPointerValue reports whether the pointer e points into C memory as far
// as can be told: its conversion chain starts at a C pointer or at a C
// call's result, or at a variable only ever assigned those.
func (c *checker) cPointerValue(e ast.Expr) bool {
	return c.cPointer(e, map[*types.Var]bool{})
}

func (c *checker) cPointer(e ast.Expr, seen map[*types.Var]bool) bool {
	inner := cgoast.Unconvert(c.info, e)
	if v := identVar(c.info, inner); v != nil && len(c.assigns[v]) > 0 {
		return c.varFromC(v, seen, false)
	}
	if _, ok := cgoast.GoPointer(c.info, inner); ok {
		return false
	}
	if call, ok := ast.Unparen(inner).(*ast.CallExpr); ok {
		if cc, ok := cgoast.AsCall(call); ok {
			return !cc.IsBuiltin() || cc.IsAlloc()
		}
	}
	t := c.info.TypeOf(inner)
	if p, ok := cgoast.Under(t).(*types.Pointer); ok && cgoast.IsCType(p.Elem()) {
		// A pointer to a C type: C memory unless it is &x of a Go
		// variable (GoPointer above) or a variable assigned one.
		if v := identVar(c.info, inner); v != nil {
			return c.varFromC(v, seen, true)
		}
		return true
	}
	if cgoast.IsUnsafePointer(t) {
		if v := identVar(c.info, inner); v != nil {
			return c.varFromC(v, seen, false)
		}
	}
	return false
}

// varFromC reports whether v holds C memory: every assignment in the
// function is a C pointer; parameters count as C memory when dflt is set
// (typed C pointers) or the function is an //export callback.
func (c *checker) varFromC(v *types.Var, seen map[*types.Var]bool, dflt bool) bool {
	if seen[v] {
		return false
	}
	seen[v] = true
	rhs := c.assigns[v]
	if len(rhs) == 0 {
		return dflt || c.export
	}
	for _, e := range rhs {
		if !c.cPointer(e, seen) {
			return false
		}
	}
	return true
}

func identVar(info *types.Info, e ast.Expr) *types.Var {
	id, ok := ast.Unparen(e).(*ast.Ident)
	if !ok {
		return nil
	}
	v, _ := info.Uses[id].(*types.Var)
	return v
}

// goPointer is cgoast.GoPointer, except that variables assigned only C
// memory in this function are not Go pointers, and neither is a pointer
// to a type the package lays over C memory ((*T)(unsafe.Pointer(cptr))
// somewhere) unless it is &x or new(T) right there.
func (c *checker) goPointer(e ast.Expr) (types.Type, bool) {
	if v := identVar(c.info, e); v != nil && len(c.assigns[v]) > 0 && c.varFromC(v, map[*types.Var]bool{}, false) {
		return nil, false
	}
	t, ok := cgoast.GoPointer(c.info, e)
	if !ok {
		return nil, false
	}
	if named, isNamed := types.Unalias(t).(*types.Named); isNamed && c.mirrors[named] && !c.allocatedHere(e) {
		return nil, false
	}
	return t, true
}

// allocatedHere reports &x, &T{...} and new(T): memory certainly from the
// Go allocator.
func (c *checker) allocatedHere(e ast.Expr) bool {
	switch x := ast.Unparen(e).(type) {
	case *ast.Ident:
		// A local only ever assigned such an allocation.
		v := identVar(c.info, x)
		if v == nil || len(c.assigns[v]) == 0 {
			return false
		}
		for _, rhs := range c.assigns[v] {
			if !c.allocatedHere(rhs) {
				return false
			}
		}
		return true
	case *ast.UnaryExpr:
		return x.Op == token.AND
	case *ast.CallExpr:
		if id, ok := ast.Unparen(x.Fun).(*ast.Ident); ok && id.Name == "new" {
			_, builtin := c.info.Uses[id].(*types.Builtin)
			return builtin
		}
	}
	return false
}

// exportResults checks the results of an //export function (CG006).
func (c *checker) exportResults() {
	if c.fd.Type.Results == nil {
		return
	}
	name := cgoast.ExportName(c.fd)
	for _, fld := range c.fd.Type.Results.List {
		t := c.info.TypeOf(fld.Type)
		if t == nil || !cgoast.ContainsGoPointer(t) {
			continue
		}
		c.r.Report(fld.Type, "CG006", "//export function %s returns %s, which holds Go pointers; C must not keep Go memory (return C memory or a cgo.Handle)", name, types.TypeString(t, types.RelativeTo(c.pass.Pkg)))
	}
	ast.Inspect(c.fd.Body, func(n ast.Node) bool {
		if _, ok := n.(*ast.FuncLit); ok {
			return false
		}
		ret, ok := n.(*ast.ReturnStmt)
		if !ok {
			return true
		}
		for _, res := range ret.Results {
			if !cgoast.IsUnsafePointer(c.info.TypeOf(res)) && !cgoast.IsCPointer(c.info.TypeOf(res)) {
				continue
			}
			if _, ok := c.goPointer(cgoast.Unconvert(c.info, res)); ok {
				c.r.Report(res, "CG006", "//export function %s returns Go pointer %s to C", name, c.str(cgoast.Unconvert(c.info, res)))
			}
		}
		return true
	})
}

// pinners checks runtime.Pinner use (CG005).
func (c *checker) pinners() {
	type pinnerUse struct {
		firstPin *ast.CallExpr
		unpinned bool
		escapes  bool
	}
	uses := map[*types.Var]*pinnerUse{}
	var order []*types.Var
	get := func(v *types.Var) *pinnerUse {
		u, ok := uses[v]
		if !ok {
			u = &pinnerUse{}
			uses[v] = u
			order = append(order, v)
		}
		return u
	}
	receivers := map[*ast.Ident]bool{}
	ast.Inspect(c.fd.Body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		pin := cgoast.IsPkgFunc(c.info, call, pinnerPkg, "Pinner.Pin")
		unpin := cgoast.IsPkgFunc(c.info, call, pinnerPkg, "Pinner.Unpin")
		if !pin && !unpin {
			return true
		}
		sel := ast.Unparen(call.Fun).(*ast.SelectorExpr)
		if id, ok := ast.Unparen(sel.X).(*ast.Ident); ok {
			receivers[id] = true
		}
		v := identVar(c.info, sel.X)
		if pin && len(call.Args) == 1 {
			c.pinArg(call.Args[0])
		}
		if v == nil || v.Parent() == nil || v.Parent() == v.Pkg().Scope() {
			return true // fields, globals: unpinned elsewhere
		}
		u := get(v)
		if pin && u.firstPin == nil {
			u.firstPin = call
		}
		if unpin {
			u.unpinned = true
		}
		return true
	})
	if len(uses) == 0 {
		return
	}
	// A pinner that is used other than as a receiver (passed, returned,
	// stored, address taken for a helper) is released elsewhere.
	ast.Inspect(c.fd.Body, func(n ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok || receivers[id] {
			return true
		}
		if v, _ := c.info.Uses[id].(*types.Var); v != nil {
			if u, ok := uses[v]; ok {
				u.escapes = true
			}
		}
		return true
	})
	for _, v := range order {
		u := uses[v]
		if u.firstPin == nil || u.unpinned || u.escapes {
			continue
		}
		var fixes []analysis.SuggestedFix
		if decl := c.declStmt(v); decl != nil && diag.CanFix(c.pass, decl.Pos()) {
			fixes = []analysis.SuggestedFix{{
				Message:   fmt.Sprintf("defer %s.Unpin()", v.Name()),
				TextEdits: []analysis.TextEdit{diag.InsertLineAfter(c.pass, decl, "defer "+v.Name()+".Unpin()")},
			}}
		}
		c.r.ReportFix(u.firstPin, "CG005", fixes, "runtime.Pinner %s pins objects but is never unpinned; the objects stay pinned for the life of the program (add defer %s.Unpin())", v.Name(), v.Name())
	}
}

// pinArg reports Pin arguments that are not pointers: Pin panics on them.
func (c *checker) pinArg(a ast.Expr) {
	t := c.info.TypeOf(a)
	if t == nil {
		return
	}
	switch u := cgoast.Under(t).(type) {
	case *types.Pointer:
		return
	case *types.Basic:
		if u.Kind() == types.UnsafePointer || u.Kind() == types.UntypedNil {
			return
		}
	case *types.Interface:
		return // dynamic: cannot tell
	}
	hint := ""
	if _, ok := cgoast.Under(t).(*types.Slice); ok {
		hint = fmt.Sprintf("; pin unsafe.SliceData(%s) instead", c.str(a))
	} else if b, ok := cgoast.Under(t).(*types.Basic); ok && b.Info()&types.IsString != 0 {
		hint = fmt.Sprintf("; pin unsafe.StringData(%s) instead", c.str(a))
	}
	c.r.Report(a, "CG005", "runtime.Pinner.Pin of %s (a %s, not a pointer) panics%s", c.str(a), types.TypeString(t, types.RelativeTo(c.pass.Pkg)), hint)
}

// declStmt returns the statement declaring local v.
func (c *checker) declStmt(v *types.Var) ast.Stmt {
	var found ast.Stmt
	ast.Inspect(c.fd.Body, func(n ast.Node) bool {
		if found != nil {
			return false
		}
		switch s := n.(type) {
		case *ast.DeclStmt:
			if s.Pos() <= v.Pos() && v.Pos() < s.End() {
				found = s
			}
		case *ast.AssignStmt:
			if s.Tok == token.DEFINE && s.Pos() <= v.Pos() && v.Pos() < s.End() {
				found = s
			}
		}
		return true
	})
	return found
}

// str prints e as the user wrote it (cgo names mapped back to C.x).
func (c *checker) str(e ast.Expr) string { return cgoast.Format(c.pass.Fset, e) }
