package handles

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"

	"github.com/cgoguard/cgoguard/analysis/internal/cgoast"
	"github.com/cgoguard/cgoguard/analysis/internal/diag"
)

// Doc is the analyzer's documentation.
const Doc = `check cgo.Handle use (CG009, CG010, CG024)

Reports handles converted to unsafe.Pointer, the address of a local handle
given to C that keeps it, and handles not deleted on every path or created
per loop iteration.`

// URL is the documentation of the analyzer's rules.
const URL = diag.BaseURL + "README.md#handles"

// Analyzer checks cgo.Handle use.
var Analyzer = &analysis.Analyzer{
	Name:       "handles",
	Doc:        Doc,
	URL:        URL,
	Run:        run,
	ResultType: diag.ResultType,
}

// handleTypes are the handle types checked, as package path and name.
var handleTypes = [][2]string{
	{"runtime/cgo", "Handle"},
	{"github.com/cgoguard/cgoguard/handles", "Handle"},
}

// constructors create handles.
var constructors = [][2]string{
	{"runtime/cgo", "NewHandle"},
	{"github.com/cgoguard/cgoguard/handles", "New"},
}

func isHandle(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	if !ok || n.Obj().Pkg() == nil {
		return false
	}
	for _, h := range handleTypes {
		if n.Obj().Pkg().Path() == h[0] && n.Obj().Name() == h[1] {
			return true
		}
	}
	return false
}

func isConstructor(info *types.Info, call *ast.CallExpr) bool {
	for _, c := range constructors {
		if cgoast.IsPkgFunc(info, call, c[0], c[1]) {
			return true
		}
	}
	return false
}

func isDelete(info *types.Info, call *ast.CallExpr) (*types.Var, bool) {
	sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "Delete" || !isHandle(info.TypeOf(sel.X)) {
		return nil, false
	}
	id, ok := ast.Unparen(sel.X).(*ast.Ident)
	if !ok {
		return nil, true
	}
	v, _ := info.Uses[id].(*types.Var)
	return v, true
}

func run(pass *analysis.Pass) (any, error) {
	r := diag.New(pass)
	files := cgoast.UserFiles(pass.Files)
	keeps := cgoast.Marked(files, "keeps")
	pkg := deletes(pass.TypesInfo, files)
	for _, f := range files {
		for _, fd := range cgoast.Funcs(f) {
			c := &checker{pass: pass, r: r, info: pass.TypesInfo, keeps: keeps, fd: fd, pkg: pkg}
			c.asPointer()
			c.addressGiven()
			c.lifetimes()
		}
	}
	return r.Result(), nil
}

type checker struct {
	pass  *analysis.Pass
	r     *diag.Reporter
	info  *types.Info
	keeps map[string]bool
	fd    *ast.FuncDecl
	pkg   pkgDeletes
}

// pkgDeletes says where the package deletes handles.
type pkgDeletes struct {
	// any: some code of the package deletes a handle.
	any bool
	// callbacks: an //export function (a callback C makes) deletes a
	// handle it is given: handles passed to C are deleted when C is done
	// with them.
	callbacks bool
}

// deletes finds the handle deletions of the package.
func deletes(info *types.Info, files []*ast.File) pkgDeletes {
	var d pkgDeletes
	for _, f := range files {
		for _, fd := range cgoast.Funcs(f) {
			export := cgoast.ExportName(fd) != ""
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				if call, ok := n.(*ast.CallExpr); ok {
					if _, ok := isDelete(info, call); ok {
						d.any = true
						if export {
							d.callbacks = true
						}
					}
				}
				return true
			})
		}
	}
	return d
}

// keptBy reports whether the C call keeps what it is given past the call:
// by its name or a //cgoguard:keeps directive, or because it is also
// given a C function pointer (a callback that runs later with it).
func (c *checker) keptBy(call *cgoast.Call) bool {
	if cgoast.Keeps(c.keeps, call.Name) {
		return true
	}
	for _, a := range call.Args {
		if isFuncPointer(c.info, a) {
			return true
		}
	}
	return false
}

// isFuncPointer reports a C function used as a value (a callback):
// C.cb, or its conversion to a function-pointer type.
func isFuncPointer(info *types.Info, e ast.Expr) bool {
	e = cgoast.Unconvert(info, e)
	if call, ok := ast.Unparen(e).(*ast.CallExpr); ok && len(call.Args) == 1 {
		if id, ok := ast.Unparen(call.Fun).(*ast.Ident); ok && id.Name == "_Cgo_ptr" {
			e = call.Args[0]
		}
	}
	switch x := ast.Unparen(e).(type) {
	case *ast.Ident:
		return strings.HasPrefix(x.Name, "_Cfpvar_fp_")
	case *ast.SelectorExpr:
		if id, ok := x.X.(*ast.Ident); ok && id.Name == "C" {
			_, isSig := info.TypeOf(x).Underlying().(*types.Signature)
			return !isSig
		}
	}
	return false
}

// asPointer reports a handle converted to unsafe.Pointer (CG009):
// directly, through integer conversions (unsafe.Pointer(uintptr(h)),
// unsafe.Pointer(C.uintptr_t(h))), or through a variable holding the
// handle's integer (u := uintptr(h); unsafe.Pointer(u)).
func (c *checker) asPointer() {
	ints := map[*types.Var]ast.Expr{} // variables holding a handle as an integer
	ast.Inspect(c.fd.Body, func(n ast.Node) bool {
		as, ok := n.(*ast.AssignStmt)
		if !ok || len(as.Lhs) != len(as.Rhs) {
			return true
		}
		for i, l := range as.Lhs {
			id, ok := ast.Unparen(l).(*ast.Ident)
			if !ok {
				continue
			}
			v, _ := c.info.ObjectOf(id).(*types.Var)
			if v == nil || isHandle(v.Type()) || !isInteger(v.Type()) {
				continue
			}
			if h := c.handleIn(as.Rhs[i], ints); h != nil {
				ints[v] = h
			}
		}
		return true
	})
	ast.Inspect(c.fd.Body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) != 1 {
			return true
		}
		tv, ok := c.info.Types[call.Fun]
		if !ok || !tv.IsType() || !cgoast.IsUnsafePointer(tv.Type) {
			return true
		}
		if h := c.handleIn(call.Args[0], ints); h != nil {
			c.r.Report(call, "CG009", "cgo.Handle %s converted to unsafe.Pointer; a handle is an integer, not an address (pass it as C.uintptr_t)", cgoast.Format(c.pass.Fset, h))
		}
		return true
	})
}

// handleIn returns the handle e holds: a handle, an integer conversion of
// one, or a variable holding one as an integer.
func (c *checker) handleIn(e ast.Expr, ints map[*types.Var]ast.Expr) ast.Expr {
	e = ast.Unparen(e)
	for {
		if isHandle(c.info.TypeOf(e)) {
			return e
		}
		if id, ok := e.(*ast.Ident); ok {
			if v, ok := c.info.Uses[id].(*types.Var); ok && ints[v] != nil {
				return ints[v]
			}
		}
		inner, ok := e.(*ast.CallExpr)
		if !ok || len(inner.Args) != 1 {
			return nil
		}
		if tv, ok := c.info.Types[inner.Fun]; !ok || !tv.IsType() || !isInteger(tv.Type) {
			return nil
		}
		e = ast.Unparen(inner.Args[0])
	}
}

func isInteger(t types.Type) bool {
	b, ok := cgoast.Under(t).(*types.Basic)
	return ok && b.Info()&types.IsInteger != 0
}

// addressGiven reports &h given to C that keeps it (CG010). C keeps it
// when its name or a directive says so, when the call also hands C a
// callback, or when the package deletes handles in its callbacks and this
// function does not delete h: the handle outlives the call, and so must
// the address C was given.
func (c *checker) addressGiven() {
	cgoast.Inspect(c.fd.Body, func(call *cgoast.Call, _ []ast.Node) {
		if call.IsBuiltin() {
			return
		}
		kept := c.keptBy(call)
		for _, a := range call.Args {
			u, ok := cgoast.Unconvert(c.info, a).(*ast.UnaryExpr)
			if !ok || u.Op != token.AND || !isHandle(c.info.TypeOf(u.X)) {
				continue
			}
			id, ok := ast.Unparen(u.X).(*ast.Ident)
			if !ok {
				continue
			}
			v, _ := c.info.Uses[id].(*types.Var)
			if v == nil || v.Parent() == v.Pkg().Scope() {
				continue // globals live on
			}
			if !kept && !(c.pkg.callbacks && !c.deletedHere(v)) {
				continue
			}
			c.r.Report(a, "CG010", "C.%s keeps &%s, the address of local handle %s, which is gone when %s returns; pass the handle by value (C.uintptr_t(%s)) or store it in C memory", call.Name, id.Name, id.Name, c.fd.Name.Name, id.Name)
		}
	})
}

// deletedHere reports whether this function deletes the handle v.
func (c *checker) deletedHere(v *types.Var) bool {
	found := false
	ast.Inspect(c.fd.Body, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok && !found {
			if dv, ok := isDelete(c.info, call); ok && dv == v {
				found = true
			}
		}
		return !found
	})
	return found
}

// creation is one handle constructor call and what happens to its result.
type creation struct {
	call   *ast.CallExpr
	v      *types.Var // local it is assigned to; nil if used inline
	decl   ast.Stmt   // statement assigning it
	loop   ast.Node   // innermost enclosing loop in the function, if any
	inline *cgoast.Call
	kept   bool // the inline call keeps the handle
}

// lifetimes checks that handles are deleted (CG024).
func (c *checker) lifetimes() {
	var created []*creation
	var stack []ast.Node
	ast.Inspect(c.fd.Body, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		stack = append(stack, n)
		call, ok := n.(*ast.CallExpr)
		if !ok || !isConstructor(c.info, call) {
			return true
		}
		cr := &creation{call: call}
		for i := len(stack) - 2; i >= 0; i-- {
			if _, ok := stack[i].(*ast.FuncLit); ok {
				break
			}
			switch stack[i].(type) {
			case *ast.ForStmt, *ast.RangeStmt:
				if cr.loop == nil {
					cr.loop = stack[i]
				}
			}
		}
		c.context(cr, stack)
		if cr.v != nil || cr.inline != nil {
			created = append(created, cr)
		}
		return true
	})
	for _, cr := range created {
		c.check(cr)
	}
}

// context finds what the constructor's result is assigned or passed to.
// Results returned, stored in fields or passed to Go functions are owned
// elsewhere and leave both v and inline nil.
func (c *checker) context(cr *creation, stack []ast.Node) {
	child := ast.Node(cr.call)
	for i := len(stack) - 2; i >= 0; i-- {
		switch p := stack[i].(type) {
		case *ast.ParenExpr:
		case *ast.CallExpr:
			if cc, ok := cgoast.AsCall(p); ok && !cc.IsBuiltin() {
				cr.inline = cc
				cr.kept = c.keptBy(cc)
				return
			}
			if tv, ok := c.info.Types[p.Fun]; ok && tv.IsType() {
				break // conversion: keep looking
			}
			// In a cgo closure the argument is bound to a temporary; the
			// enclosing C call is found further up.
			if _, ok := ast.Unparen(p.Fun).(*ast.FuncLit); !ok {
				return
			}
		case *ast.AssignStmt:
			if p.Tok == token.DEFINE || p.Tok == token.ASSIGN {
				for j, r := range p.Rhs {
					if r != child || j >= len(p.Lhs) {
						continue
					}
					id, ok := p.Lhs[j].(*ast.Ident)
					if !ok {
						return
					}
					if cgoast.IsTemp(id.Name) {
						break
					}
					v, _ := c.info.Defs[id].(*types.Var)
					if v == nil {
						v, _ = c.info.Uses[id].(*types.Var)
					}
					if v != nil && v.Parent() != v.Pkg().Scope() {
						cr.v, cr.decl = v, p
					}
					return
				}
			}
			if !c.inClosure(stack[:i+1]) {
				return
			}
		case *ast.ValueSpec:
			for j, val := range p.Values {
				if val == child && j < len(p.Names) {
					if v, _ := c.info.Defs[p.Names[j]].(*types.Var); v != nil {
						cr.v = v
						if i > 1 {
							cr.decl, _ = stack[i-2].(ast.Stmt)
						}
					}
				}
			}
			return
		case *ast.BlockStmt, *ast.FuncLit, *ast.ExprStmt, *ast.ReturnStmt:
			if !c.inClosure(stack[:i+1]) {
				return
			}
		case *ast.DeclStmt, *ast.GenDecl:
			if !c.inClosure(stack[:i+1]) {
				return
			}
		default:
			return
		}
		child = stack[i]
	}
}

// inClosure reports whether the innermost function literal on stack is a
// cgo-generated closure (a call with a _cgoCheckPointer body).
func (c *checker) inClosure(stack []ast.Node) bool {
	for i := len(stack) - 1; i >= 1; i-- {
		if _, ok := stack[i].(*ast.FuncLit); ok {
			for j := i - 1; j >= 0; j-- {
				if call, ok := stack[j].(*ast.CallExpr); ok {
					_, isC := cgoast.AsCall(call)
					return isC
				}
			}
			return false
		}
	}
	return false
}

func (c *checker) check(cr *creation) {
	if cr.inline != nil {
		switch {
		case c.pkg.callbacks:
			return // the callback C makes deletes it
		case cr.kept && c.pkg.any:
			return // C keeps it; the code that deletes handles releases it
		case cr.kept:
			c.r.Report(cr.call, "CG024", "handle created for C.%s is kept by C but nothing in the package ever deletes a handle: every call leaks the value it holds", cr.inline.Name)
			return
		}
		msg := "handle created for C.%s is never deleted; C.%s does not keep it, so delete it after the call"
		if cr.loop != nil {
			msg = "a new handle per loop iteration for C.%s is never deleted; C.%s does not keep it (create one handle outside the loop, or delete it after the call)"
		}
		c.r.Report(cr.call, "CG024", msg, cr.inline.Name, cr.inline.Name)
		return
	}
	v := cr.v
	var deletes []*ast.CallExpr
	deferred := false
	escapes := false
	toC := false // passed to a C function
	var stack []ast.Node
	ast.Inspect(c.fd.Body, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		stack = append(stack, n)
		switch x := n.(type) {
		case *ast.CallExpr:
			if dv, ok := isDelete(c.info, x); ok && dv == v {
				deletes = append(deletes, x)
				for _, s := range stack {
					if _, ok := s.(*ast.DeferStmt); ok {
						deferred = true
					}
				}
			}
		case *ast.Ident:
			if c.info.Uses[x] == v {
				if c.escapes(stack) {
					escapes = true
				}
				if c.inCCall(stack) {
					toC = true
				}
			}
		}
		return true
	})
	if escapes {
		return
	}
	if toC && c.pkg.callbacks && len(deletes) == 0 {
		return // handed to C; the callback C makes deletes it
	}
	name := v.Name()
	if len(deletes) == 0 {
		var fixes []analysis.SuggestedFix
		if cr.decl != nil && cr.loop == nil && diag.CanFix(c.pass, cr.decl.Pos()) {
			fixes = []analysis.SuggestedFix{{
				Message:   fmt.Sprintf("defer %s.Delete()", name),
				TextEdits: []analysis.TextEdit{diag.InsertLineAfter(c.pass, cr.decl, "defer "+name+".Delete()")},
			}}
		}
		if cr.loop != nil {
			c.r.ReportFix(cr.call, "CG024", fixes, "a new handle %s per loop iteration is never deleted; every iteration leaks the value it holds", name)
			return
		}
		c.r.ReportFix(cr.call, "CG024", fixes, "handle %s is never deleted; the value it holds is never released (add defer %s.Delete())", name, name)
		return
	}
	if cr.loop != nil {
		inLoop := false
		for _, d := range deletes {
			if cr.loop.Pos() <= d.Pos() && d.End() <= cr.loop.End() {
				inLoop = true
			}
		}
		if !inLoop {
			c.r.Report(cr.call, "CG024", "a new handle %s per loop iteration is deleted only after the loop; all but the last leak", name)
			return
		}
	}
	if deferred {
		return
	}
	// Explicit Delete: a return between creation and the first Delete
	// leaks on that path.
	first := deletes[0].Pos()
	ast.Inspect(c.fd.Body, func(n ast.Node) bool {
		if _, ok := n.(*ast.FuncLit); ok {
			return false
		}
		ret, ok := n.(*ast.ReturnStmt)
		if !ok || ret.Pos() < cr.call.End() || ret.Pos() > first {
			return true
		}
		c.r.Report(cr.call, "CG024", "handle %s is not deleted on the path through the return at line %d (use defer %s.Delete())", name, c.pass.Fset.Position(ret.Pos()).Line, name)
		first = token.NoPos // report once
		return false
	})
}

// inCCall reports whether the identifier at the top of stack is an
// argument of a C call.
func (c *checker) inCCall(stack []ast.Node) bool {
	for i := len(stack) - 2; i >= 0; i-- {
		if call, ok := stack[i].(*ast.CallExpr); ok {
			if cc, isC := cgoast.AsCall(call); isC && !cc.IsBuiltin() {
				return true
			}
		}
		if _, ok := stack[i].(*ast.FuncLit); ok && !c.inClosure(stack[:i+1]) {
			return false
		}
	}
	return false
}

// escapes reports whether the use of the handle at the top of stack hands
// it to someone else: returned, stored, sent, passed to a Go function or to
// a C function that keeps it, captured by a goroutine.
func (c *checker) escapes(stack []ast.Node) bool {
	child := stack[len(stack)-1]
	for i := len(stack) - 2; i >= 0; i-- {
		switch p := stack[i].(type) {
		case *ast.ParenExpr, *ast.StarExpr:
		case *ast.SelectorExpr:
			return false // method call on the handle (Value, Delete)
		case *ast.CallExpr:
			if cc, ok := cgoast.AsCall(p); ok {
				return !cc.IsBuiltin() && c.keptBy(cc) && c.pkg.any
			}
			if tv, ok := c.info.Types[p.Fun]; ok && tv.IsType() {
				break
			}
			if _, ok := ast.Unparen(p.Fun).(*ast.FuncLit); ok {
				break
			}
			if p.Fun == child {
				return false
			}
			return true // passed to a Go function
		case *ast.ReturnStmt, *ast.SendStmt, *ast.CompositeLit, *ast.KeyValueExpr, *ast.GoStmt:
			return true
		case *ast.BlockStmt, *ast.FuncLit, *ast.DeclStmt, *ast.GenDecl:
			if !c.inClosure(stack[:i+1]) {
				return false
			}
		case *ast.AssignStmt:
			for j, r := range p.Rhs {
				if r == child && j < len(p.Lhs) {
					if id, ok := p.Lhs[j].(*ast.Ident); ok && cgoast.IsTemp(id.Name) {
						goto next
					}
					return true
				}
			}
			return false
		case *ast.ValueSpec:
			if len(p.Names) == 1 && cgoast.IsTemp(p.Names[0].Name) {
				break
			}
			return true
		case *ast.UnaryExpr:
			if p.Op == token.AND {
				// &h: given to C that keeps it is CG010; to Go, an escape.
				for j := i - 1; j >= 0; j-- {
					if call, ok := stack[j].(*ast.CallExpr); ok {
						if _, isC := cgoast.AsCall(call); isC {
							return false
						}
					}
				}
				return true
			}
		default:
			return false
		}
	next:
		child = stack[i]
	}
	return false
}
