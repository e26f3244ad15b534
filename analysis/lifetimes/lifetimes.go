package lifetimes

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/ctrlflow"
	"golang.org/x/tools/go/cfg"

	"github.com/cgoguard/cgoguard/analysis/internal/cflow"
	"github.com/cgoguard/cgoguard/analysis/internal/cgoast"
	"github.com/cgoguard/cgoguard/analysis/internal/diag"
)

// URL is the documentation of the rules this analyzer checks; each rule
// has its own page, CG021.md to CG023.md, beside it.
const URL = diag.BaseURL + "CG021.md"

// Analyzer checks the lifetime rules CG021, CG022 and CG023.
var Analyzer = &analysis.Analyzer{
	Name:       "lifetimes",
	Doc:        Doc,
	URL:        URL,
	Run:        run,
	Requires:   []*analysis.Analyzer{ctrlflow.Analyzer},
	ResultType: diag.ResultType,
}

func run(pass *analysis.Pass) (any, error) {
	r := diag.New(pass)
	info := pass.TypesInfo
	files := cgoast.UserFiles(pass.Files)
	decls := cflow.Decls(info, files)
	fins := cflow.Finalizers(info, files, decls)

	// finalized: types whose finalizer or cleanup releases C memory.
	finalized := map[*types.Named]bool{}
	finBodies := map[*ast.BlockStmt]bool{}
	for _, fz := range fins {
		if fz.Body != nil {
			finBodies[fz.Body] = true
		}
		if releasesC(info, fz, decls) {
			finalized[fz.Type] = true
		}
		notIdempotent(r, info, fz, decls)
	}
	if len(finalized) == 0 {
		return r.Result(), nil
	}
	for _, f := range files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil || finBodies[fd.Body] {
				continue
			}
			keepAlive(r, info, pass.ResultOf[ctrlflow.Analyzer].(*ctrlflow.CFGs), decls, fd, finalized, finBodies)
			children(r, info, fd.Body, finalized)
		}
	}
	return r.Result(), nil
}

// releasesC reports whether the finalizer releases C memory, directly or
// through a method of its type it calls.
func releasesC(info *types.Info, fz *cflow.Finalizer, decls map[*types.Func]*ast.FuncDecl) bool {
	if fz.Body == nil || fz.Param == nil {
		return false
	}
	if len(cflow.Releases(info, fz.Body, fz.Param)) > 0 {
		return true
	}
	found := false
	ast.Inspect(fz.Body, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok && !found {
			if m := cflow.Callee(info, call); m != nil {
				if d := decls[m]; d != nil && d.Recv != nil && len(d.Recv.List) == 1 && len(d.Recv.List[0].Names) == 1 {
					if rv, ok := info.Defs[d.Recv.List[0].Names[0]].(*types.Var); ok && len(cflow.Releases(info, d.Body, rv)) > 0 {
						found = true
					}
				}
			}
		}
		return !found
	})
	return found
}

// notIdempotent reports CG021 for one registration.
func notIdempotent(r *diag.Reporter, info *types.Info, fz *cflow.Finalizer, decls map[*types.Func]*ast.FuncDecl) {
	if fz.Body == nil || fz.Param == nil || fz.Method != nil {
		return // a finalizer that is the Close method itself is CG017's case
	}
	// Fields the finalizer releases without a guard.
	fields := map[*types.Var]bool{}
	if fz.Cleanup {
		// The cleanup is given fz.Arg; it names the field it frees.
		if sel, ok := ast.Unparen(cflow.Strip(info, fz.Arg)).(*ast.SelectorExpr); ok {
			if fv, ok := info.Uses[sel.Sel].(*types.Var); ok && fv.IsField() {
				for _, rel := range cflow.Releases(info, fz.Body, fz.Param) {
					if rel.Field == nil && !rel.Guarded {
						fields[fv] = true
					}
				}
			}
		}
	} else {
		for _, rel := range cflow.Releases(info, fz.Body, fz.Param) {
			if rel.Field != nil && !rel.Guarded {
				fields[rel.Field] = true
			}
		}
	}
	if len(fields) == 0 {
		return
	}
	for d, rv := range cflow.Methods(info, fz.Type, decls) {
		if cflow.Clears(info, d.Body, rv) {
			continue
		}
		for _, rel := range cflow.Releases(info, d.Body, rv) {
			if rel.Field != nil && fields[rel.Field] {
				kind := "finalizer"
				if fz.Cleanup {
					kind = "cleanup"
				}
				r.Report(fz.Call, "CG021", "%s frees %s.%s, which %s also frees, with no guard: stop the %s in %s or guard the free",
					kind, fz.Type.Obj().Name(), rel.Field.Name(), d.Name.Name, kind, d.Name.Name)
				return
			}
		}
	}
}

// fieldRoot returns the variable x when e is x.f (through conversions).
func fieldRoot(info *types.Info, e ast.Expr) *types.Var {
	sel, ok := ast.Unparen(cflow.Strip(info, e)).(*ast.SelectorExpr)
	if !ok {
		return nil
	}
	if fv, ok := info.Uses[sel.Sel].(*types.Var); !ok || !fv.IsField() {
		return nil
	}
	return cflow.Var(info, sel.X)
}

// keepAlive reports CG022 in one function body.
//
// The receiver and parameters of an unexported function are not checked:
// its callers in the package hold the object and are expected to use it
// after the call; exported functions, and objects the function makes or
// loads itself, are.
//
// An object x is alive during a C call given x.f when some path from the
// call uses x again (runtime.KeepAlive(x), another field, a method), or a
// variable derived from it or that it was derived from (o :=
// x.AsObject() keeps pointing into x), or a deferred call mentions it; or
// when x itself goes into the call's arguments (C.f(x.h, keep(x)) keeps
// it reachable through keep), directly or through a variable a Go call
// computed from it.
func keepAlive(r *diag.Reporter, info *types.Info, cfgs *ctrlflow.CFGs, decls map[*types.Func]*ast.FuncDecl, fd *ast.FuncDecl, finalized map[*types.Named]bool, finBodies map[*ast.BlockStmt]bool) {
	body := fd.Body
	params := map[*types.Var]bool{}
	if !fd.Name.IsExported() {
		for _, fl := range []*ast.FieldList{fd.Recv, fd.Type.Params} {
			if fl == nil {
				continue
			}
			for _, f := range fl.List {
				for _, id := range f.Names {
					if v, ok := info.Defs[id].(*types.Var); ok {
						params[v] = true
					}
				}
			}
		}
	}
	g := cfgs.FuncDecl(fd)
	if g == nil {
		return
	}
	deferred := deferredMentions(info, body)
	// derived: C pointers a C call returned from a finalized object's
	// field (cstr := C.name(v.ptr)); copying them into Go later with
	// C.GoString needs v alive then (the string is the object's).
	type origin struct {
		x     *types.Var
		field string
		call  string
	}
	derived := map[*types.Var]origin{}
	ast.Inspect(body, func(n ast.Node) bool {
		a, ok := n.(*ast.AssignStmt)
		if !ok || len(a.Lhs) != 1 || len(a.Rhs) != 1 {
			return true
		}
		rv := cflow.Var(info, a.Lhs[0])
		c, ok := cflow.CCall(a.Rhs[0])
		if rv == nil || !ok || !cgoast.IsCPointer(rv.Type()) {
			return true
		}
		for _, arg := range c.Args {
			if x := fieldRoot(info, arg); x != nil && !params[x] && finalized[cflow.Named(x.Type())] {
				derived[rv] = origin{x, ast.Unparen(cflow.Strip(info, arg)).(*ast.SelectorExpr).Sel.Name, c.Name}
			}
		}
		return true
	})
	ast.Inspect(body, func(n ast.Node) bool {
		if len(derived) == 0 {
			return false
		}
		e, ok := n.(ast.Expr)
		if !ok {
			return true
		}
		c, ok := cflow.CCall(e)
		if !ok || (c.Name != "GoString" && c.Name != "GoStringN" && c.Name != "GoBytes") {
			return true // C.GoString and kin copy memory the object owns
		}
		for _, arg := range c.Args {
			rv := cflow.Var(info, arg)
			o, ok := derived[rv]
			if !ok {
				continue
			}
			related := aliases(info, decls, body, o.x)
			if aliveAfter(info, g, c.Expr, related, deferred) {
				continue
			}
			r.Report(c.Expr, "CG022", "%s, which C.%s returned from %s.%s, is read by C.%s after the last use of %s, which may be finalized (freeing it) during the call: add runtime.KeepAlive(%s) after it",
				rv.Name(), o.call, o.x.Name(), o.field, c.Name, o.x.Name(), o.x.Name())
			return false
		}
		return true
	})
	ast.Inspect(body, func(n ast.Node) bool {
		if lit, ok := n.(*ast.FuncLit); ok && finBodies[lit.Body] {
			return false
		}
		e, ok := n.(ast.Expr)
		if !ok {
			return true
		}
		c, ok := cflow.CCall(e)
		if !ok || cflow.IsHelper(c.Name) || cflow.IsRelease(c.Name) {
			return true // releases race with the finalizer: that is CG021
		}
		for _, a := range c.Args {
			x := fieldRoot(info, a)
			if x == nil || params[x] || !finalized[cflow.Named(x.Type())] {
				continue
			}
			related := aliases(info, decls, body, x)
			if wholeInArgs(info, c, related) || computedFrom(info, body, c, related) || aliveAfter(info, g, c.Expr, related, deferred) {
				continue
			}
			r.Report(c.Expr, "CG022", "%s.%s is passed to C.%s but %s may be finalized during the call: add runtime.KeepAlive(%s) after it",
				x.Name(), ast.Unparen(cflow.Strip(info, a)).(*ast.SelectorExpr).Sel.Name, c.Name, x.Name(), x.Name())
			return false
		}
		return true
	})
}

// aliases returns x and the local variables that point into the same
// allocation: o := &x.embedded, o := x.AsObject() for a method returning
// the address of a field of its receiver, and the variables x itself was
// derived from that way (x := o.AsChild()). A use of any of them keeps the
// allocation reachable.
func aliases(info *types.Info, decls map[*types.Func]*ast.FuncDecl, body *ast.BlockStmt, x *types.Var) map[*types.Var]bool {
	set := map[*types.Var]bool{x: true}
	for changed := true; changed; {
		changed = false
		ast.Inspect(body, func(n ast.Node) bool {
			a, ok := n.(*ast.AssignStmt)
			if !ok || len(a.Lhs) != len(a.Rhs) {
				return true
			}
			for i, l := range a.Lhs {
				// A holder: it := &Iter{cfg: c}, or it.cfg = c. While
				// the holder is reachable, so is what it holds.
				if h := holderOf(info, l, a.Rhs[i], set); h != nil && !set[h] {
					set[h], changed = true, true
					continue
				}
				lv := cflow.Var(info, l)
				if lv == nil {
					continue
				}
				root := interiorOf(info, decls, a.Rhs[i])
				if root == nil {
					continue
				}
				if set[root] && !set[lv] {
					set[lv], changed = true, true
				}
				if set[lv] && !set[root] {
					set[root], changed = true, true
				}
			}
			return true
		})
	}
	return set
}

// holderOf returns the variable that the assignment l = r makes hold a
// pointer to a member of set: v := &T{f: x} (or T{...}), v.f = x.
func holderOf(info *types.Info, l, r ast.Expr, set map[*types.Var]bool) *types.Var {
	isMember := func(e ast.Expr) bool {
		v := cflow.Var(info, e)
		return v != nil && set[v] && isPointerLike(v.Type())
	}
	if sel, ok := ast.Unparen(l).(*ast.SelectorExpr); ok {
		if isMember(r) {
			return rootOfSelector(info, sel)
		}
		return nil
	}
	e := ast.Unparen(r)
	if u, ok := e.(*ast.UnaryExpr); ok && u.Op == token.AND {
		e = ast.Unparen(u.X)
	}
	lit, ok := e.(*ast.CompositeLit)
	if !ok {
		return nil
	}
	for _, el := range lit.Elts {
		if kv, ok := el.(*ast.KeyValueExpr); ok {
			el = kv.Value
		}
		if isMember(el) {
			return cflow.Var(info, l)
		}
	}
	return nil
}

// interiorOf returns y when e points into y's allocation: &y.f (any
// field path), or y.m() where method m returns the address of a field of
// its receiver.
func interiorOf(info *types.Info, decls map[*types.Func]*ast.FuncDecl, e ast.Expr) *types.Var {
	e = ast.Unparen(e)
	if u, ok := e.(*ast.UnaryExpr); ok && u.Op == token.AND {
		if sel, ok := ast.Unparen(u.X).(*ast.SelectorExpr); ok {
			return rootOfSelector(info, sel)
		}
		return nil
	}
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return nil
	}
	sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
	if !ok {
		return nil
	}
	fn := cflow.Callee(info, call)
	if fn == nil {
		return nil
	}
	var impls []*ast.FuncDecl
	if sig, ok := fn.Type().(*types.Signature); ok && sig.Recv() != nil && types.IsInterface(sig.Recv().Type()) {
		// An interface method: every method of that name in the package
		// must return an interior pointer.
		for m, d := range decls {
			if m.Name() == fn.Name() && d.Recv != nil {
				impls = append(impls, d)
			}
		}
	} else if d := decls[fn]; d != nil {
		impls = append(impls, d)
	}
	if len(impls) == 0 {
		return nil
	}
	for _, d := range impls {
		if !returnsInterior(info, d) {
			return nil
		}
	}
	return cflow.Var(info, sel.X)
}

// returnsInterior reports a method that returns the address of a field
// of its receiver (return &c.Object).
func returnsInterior(info *types.Info, d *ast.FuncDecl) bool {
	if d.Recv == nil || len(d.Recv.List) != 1 || len(d.Recv.List[0].Names) != 1 {
		return false
	}
	recv, _ := info.Defs[d.Recv.List[0].Names[0]].(*types.Var)
	interior, other := false, false
	ast.Inspect(d.Body, func(n ast.Node) bool {
		if r, ok := n.(*ast.ReturnStmt); ok && len(r.Results) == 1 {
			if u, ok := ast.Unparen(r.Results[0]).(*ast.UnaryExpr); ok && u.Op == token.AND {
				if s, ok := ast.Unparen(u.X).(*ast.SelectorExpr); ok && rootOfSelector(info, s) == recv {
					interior = true
					return true
				}
			}
			other = true
		}
		return true
	})
	return interior && !other
}

// rootOfSelector returns the variable at the root of x.f.g.
func rootOfSelector(info *types.Info, sel *ast.SelectorExpr) *types.Var {
	var e ast.Expr = sel
	for {
		s, ok := ast.Unparen(e).(*ast.SelectorExpr)
		if !ok {
			return cflow.Var(info, e)
		}
		e = s.X
	}
}

func isPointerLike(t types.Type) bool {
	switch t.Underlying().(type) {
	case *types.Pointer, *types.Interface:
		return true
	}
	return false
}

// wholeInArgs reports whether the object itself (not one of its fields)
// is among the call's arguments: C.f(x.h, keep(x)) or C.f(unsafe.Pointer(x)).
func wholeInArgs(info *types.Info, c *cflow.Call, related map[*types.Var]bool) bool {
	found := false
	for _, a := range c.Args {
		var stack []ast.Node
		ast.Inspect(a, func(n ast.Node) bool {
			if n == nil {
				stack = stack[:len(stack)-1]
				return true
			}
			stack = append(stack, n)
			id, ok := n.(*ast.Ident)
			if !ok || found {
				return !found
			}
			v, ok := info.Uses[id].(*types.Var)
			if !ok || !related[v] {
				return true
			}
			// x.f reads a field: not the object itself; &x.f points into
			// it.
			if len(stack) >= 2 {
				if sel, ok := stack[len(stack)-2].(*ast.SelectorExpr); ok && sel.X == id {
					if fv, ok := info.Uses[sel.Sel].(*types.Var); ok && fv.IsField() && !addressed(stack) {
						return true
					}
				}
			}
			found = true
			return false
		})
	}
	return found
}

// addressed reports whether the selector chain ending the stack (x.f.g,
// x at the top) is the operand of &.
func addressed(stack []ast.Node) bool {
	i := len(stack) - 2
	for i > 0 {
		if _, ok := stack[i-1].(*ast.SelectorExpr); !ok {
			break
		}
		i--
	}
	for i > 0 {
		if _, ok := stack[i-1].(*ast.ParenExpr); !ok {
			break
		}
		i--
	}
	if i <= 0 {
		return false
	}
	u, ok := stack[i-1].(*ast.UnaryExpr)
	return ok && u.Op == token.AND
}

// deferredMentions returns the variables that the function's deferred
// calls mention: they are used when the function returns.
func deferredMentions(info *types.Info, body *ast.BlockStmt) map[*types.Var]bool {
	out := map[*types.Var]bool{}
	ast.Inspect(body, func(n ast.Node) bool {
		if d, ok := n.(*ast.DeferStmt); ok {
			ast.Inspect(d, func(m ast.Node) bool {
				if id, ok := m.(*ast.Ident); ok {
					if v, ok := info.Uses[id].(*types.Var); ok {
						out[v] = true
					}
				}
				return true
			})
		}
		return true
	})
	return out
}

// aliveAfter reports whether the object is live at the C call: a
// related variable is used on some path from the call (the compiler keeps
// a variable live at a call when any path after it uses the variable, so
// the collector cannot finalize the object during the call), or a
// deferred call mentions one. A mention that no path from the call
// reaches (a sibling branch) does not count.
func aliveAfter(info *types.Info, g *cfg.CFG, call ast.Node, related map[*types.Var]bool, deferred map[*types.Var]bool) bool {
	for v := range related {
		if deferred[v] {
			return true
		}
	}
	b, i, ok := cflow.Find(g, call.Pos())
	if !ok {
		return true
	}
	uses := func(n ast.Node, after token.Pos) bool {
		found := false
		ast.Inspect(n, func(m ast.Node) bool {
			if id, ok := m.(*ast.Ident); ok && !found && id.Pos() >= after {
				if v, ok := info.Uses[id].(*types.Var); ok && related[v] {
					found = true
				}
			}
			return !found
		})
		return found
	}
	// The rest of the node holding the call: r := C.f(x.h); use(x) in one
	// statement, or x used in a later argument of an enclosing call.
	if uses(b.Nodes[i], call.End()) {
		return true
	}
	seen := map[*cfg.Block]bool{}
	var reach func(b *cfg.Block, from int) bool
	reach = func(b *cfg.Block, from int) bool {
		for _, n := range b.Nodes[from:] {
			if uses(n, token.NoPos) {
				return true
			}
		}
		for _, s := range b.Succs {
			if !seen[s] {
				seen[s] = true
				if reach(s, 0) {
					return true
				}
			}
		}
		return false
	}
	return reach(b, i+1)
}

// computedFrom reports whether an argument of the C call is a variable
// computed by a Go call given the object itself (handle := keep(x); C.f(x.h,
// handle)): the object is reachable through what that call stored.
func computedFrom(info *types.Info, body *ast.BlockStmt, c *cflow.Call, related map[*types.Var]bool) bool {
	args := map[*types.Var]bool{}
	for _, a := range c.Args {
		ast.Inspect(a, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok {
				if v, ok := info.Uses[id].(*types.Var); ok && !related[v] {
					args[v] = true
				}
			}
			return true
		})
	}
	if len(args) == 0 {
		return false
	}
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		a, ok := n.(*ast.AssignStmt)
		if !ok || found || len(a.Rhs) != 1 {
			return !found
		}
		assigns := false
		for _, l := range a.Lhs {
			if v := cflow.Var(info, l); v != nil && args[v] {
				assigns = true
			}
		}
		if !assigns {
			return true
		}
		call, ok := ast.Unparen(a.Rhs[0]).(*ast.CallExpr)
		if !ok {
			return true
		}
		if _, isC := cflow.CCall(call); isC {
			return true
		}
		fake := &cflow.Call{Args: call.Args}
		if wholeInArgs(info, fake, related) {
			found = true
		}
		return true
	})
	return found
}

// children reports CG023 in one function body: a struct literal that
// keeps C memory reached through a finalized object x but not x itself.
func children(r *diag.Reporter, info *types.Info, body *ast.BlockStmt, finalized map[*types.Named]bool) {
	ast.Inspect(body, func(n ast.Node) bool {
		cl, ok := n.(*ast.CompositeLit)
		if !ok {
			return true
		}
		child := cflow.Named(info.TypeOf(cl))
		if child == nil {
			return true
		}
		if _, ok := child.Underlying().(*types.Struct); !ok {
			return true
		}
		var parent *types.Var
		keeps := map[*types.Var]bool{}
		for _, el := range cl.Elts {
			val := el
			if kv, ok := el.(*ast.KeyValueExpr); ok {
				val = kv.Value
			}
			if v := cflow.Var(info, val); v != nil && finalized[cflow.Named(v.Type())] {
				keeps[v] = true
				continue
			}
			if !isPointer(info.TypeOf(val)) {
				continue
			}
			ast.Inspect(val, func(m ast.Node) bool {
				if sel, ok := m.(*ast.SelectorExpr); ok {
					if x := fieldRoot(info, sel); x != nil && finalized[cflow.Named(x.Type())] && cflow.Named(x.Type()) != child {
						parent = x
					}
				}
				return parent == nil
			})
		}
		if parent == nil || keeps[parent] || storedLater(info, body, parent, cl.End()) {
			return true
		}
		r.Report(cl, "CG023", "%s holds C memory of %s but no reference to it: %s's finalizer may free that memory while %s uses it; keep %s in a field",
			child.Obj().Name(), parent.Name(), cflow.Named(parent.Type()).Obj().Name(), child.Obj().Name(), parent.Name())
		return true
	})
}

// isPointer reports whether t is a pointer, unsafe.Pointer or uintptr.
func isPointer(t types.Type) bool {
	if t == nil {
		return false
	}
	switch u := t.Underlying().(type) {
	case *types.Pointer:
		return true
	case *types.Basic:
		return u.Kind() == types.UnsafePointer || u.Kind() == types.Uintptr
	}
	return false
}

// storedLater reports whether x is assigned into a field after pos
// (c.parent = x), which also keeps it alive.
func storedLater(info *types.Info, body *ast.BlockStmt, x *types.Var, pos token.Pos) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		a, ok := n.(*ast.AssignStmt)
		if !ok || found || a.Pos() < pos {
			return !found
		}
		for i, l := range a.Lhs {
			if _, ok := ast.Unparen(l).(*ast.SelectorExpr); ok && i < len(a.Rhs) && cflow.Var(info, a.Rhs[i]) == x {
				found = true
			}
		}
		return true
	})
	return found
}
