// Package cflow holds the flow helpers shared by the memory, strings,
// lifetimes, threads and errors analyzers: recognising C calls in
// cgo-rewritten files (including the _cgoCheckPointer closures cmd/cgo
// wraps pointer arguments in), resolving the variable a pointer expression
// names, and walking every path of a function's control-flow graph.
//
// It is written here rather than taken from a library because the cgo
// rewriting it undoes is specific to cmd/cgo and no maintained package
// exposes it; the path walk is a few dozen lines over golang.org/x/tools/go/cfg.
package cflow

import (
	"go/ast"
	"go/token"
	"go/types"
	"strings"

	"github.com/cgoguard/cgoguard/analysis/internal/cgoast"
)

// Call is a C function call found in a cgo-rewritten file.
type Call struct {
	// Name is the C name as written after "C.": "free", "malloc",
	// "CString", "f" for C.f.
	Name string
	// Errno is true for the two-result form r, err := C.f().
	Errno bool
	// Args are the arguments as the user wrote them, with cgo's
	// temporaries (_cgo0, _cgo1...) replaced by the expressions they hold.
	Args []ast.Expr
	// Expr is the outermost expression of the call as it appears in the
	// file (the immediately invoked closure when cgo wrapped the call).
	Expr *ast.CallExpr
	// Deferred is true when Expr is the double call cmd/cgo writes for a
	// deferred C call: defer func() func() {...}()().
	Deferred bool
}

// cname maps a cgo-generated identifier to the C name the user wrote.
func cname(id string) (name string, errno, ok bool) {
	switch {
	case strings.HasPrefix(id, "_Cfunc_"):
		name = id[len("_Cfunc_"):]
	case strings.HasPrefix(id, "_C2func_"):
		name, errno = id[len("_C2func_"):], true
	default:
		return "", false, false
	}
	switch name {
	case "_CMalloc":
		name = "malloc"
	}
	return name, errno, true
}

func unparen(e ast.Expr) ast.Expr {
	for {
		p, ok := e.(*ast.ParenExpr)
		if !ok {
			return e
		}
		e = p.X
	}
}

// CCall reports whether e is a call of a C function and describes it.
// It recognises the direct form (_Cfunc_f)(args), the errno form
// _C2func_f, the closures cmd/cgo writes around pointer arguments, the
// deferred closure form, and the unrewritten C.f(args) form.
func CCall(e ast.Expr) (*Call, bool) {
	call, ok := unparen(e).(*ast.CallExpr)
	if !ok {
		return nil, false
	}
	switch fun := unparen(call.Fun).(type) {
	case *ast.Ident:
		if name, errno, ok := cname(fun.Name); ok {
			return &Call{Name: name, Errno: errno, Args: call.Args, Expr: call}, true
		}
	case *ast.SelectorExpr:
		if x, ok := fun.X.(*ast.Ident); ok && x.Name == "C" {
			return &Call{Name: fun.Sel.Name, Args: call.Args, Expr: call}, true
		}
	case *ast.FuncLit:
		if len(call.Args) != 0 || !IsCgoClosure(fun) {
			return nil, false
		}
		c, ok := closureCall(fun, map[string]ast.Expr{})
		if ok {
			c.Expr = call
		}
		return c, ok
	case *ast.CallExpr:
		// defer func() func() { _cgo0 := x; return func() { ...; _Cfunc_f(_cgo0) } }()()
		lit, ok := unparen(fun.Fun).(*ast.FuncLit)
		if !ok || len(call.Args) != 0 || len(fun.Args) != 0 || !IsCgoClosure(lit) {
			return nil, false
		}
		c, ok := closureCall(lit, map[string]ast.Expr{})
		if ok {
			c.Expr = call
			c.Deferred = true
		}
		return c, ok
	}
	return nil, false
}

// closureCall finds the C call inside a cgo-generated closure body.
func closureCall(lit *ast.FuncLit, temps map[string]ast.Expr) (*Call, bool) {
	var found *Call
	for _, st := range lit.Body.List {
		var e ast.Expr
		switch st := st.(type) {
		case *ast.AssignStmt:
			if len(st.Lhs) == 1 && len(st.Rhs) == 1 {
				if id, ok := st.Lhs[0].(*ast.Ident); ok && strings.HasPrefix(id.Name, "_cgo") {
					temps[id.Name] = st.Rhs[0]
					continue
				}
			}
			return nil, false
		case *ast.DeclStmt:
			// var _cgo0 *_Ctype_T = (*_Ctype_T)(b)
			gd, ok := st.Decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				return nil, false
			}
			for _, sp := range gd.Specs {
				vs, ok := sp.(*ast.ValueSpec)
				if !ok || len(vs.Names) != len(vs.Values) {
					return nil, false
				}
				for i, id := range vs.Names {
					if !strings.HasPrefix(id.Name, "_cgo") {
						return nil, false
					}
					temps[id.Name] = vs.Values[i]
				}
			}
			continue
		case *ast.ExprStmt:
			e = st.X
		case *ast.ReturnStmt:
			if len(st.Results) != 1 {
				return nil, false
			}
			e = st.Results[0]
		default:
			return nil, false
		}
		if inner, ok := unparen(e).(*ast.FuncLit); ok {
			if c, ok := closureCall(inner, temps); ok {
				found = c
			}
			continue
		}
		call, ok := unparen(e).(*ast.CallExpr)
		if !ok {
			return nil, false
		}
		if id, ok := unparen(call.Fun).(*ast.Ident); ok {
			if id.Name == "_cgoCheckPointer" {
				continue
			}
			if name, errno, ok := cname(id.Name); ok {
				args := make([]ast.Expr, len(call.Args))
				for i, a := range call.Args {
					args[i] = a
					if _, ok := unparen(a).(*ast.Ident); ok {
						args[i] = subst(a, temps)
					}
				}
				found = &Call{Name: name, Errno: errno, Args: args}
				continue
			}
		}
		return nil, false
	}
	return found, found != nil
}

// subst replaces cgo's index temporaries in e: cmd/cgo turns &s[i] into
// _cgoIndex0 := &s; ... &(*_cgoIndex0)[i]. The nodes on the way to a
// replaced temporary are copies; the rest of e is shared.
func subst(e ast.Expr, temps map[string]ast.Expr) ast.Expr {
	return substDepth(e, temps, 0)
}

func substDepth(e ast.Expr, temps map[string]ast.Expr, depth int) ast.Expr {
	if depth > 8 {
		return e
	}
	subst := func(e ast.Expr, temps map[string]ast.Expr) ast.Expr { return substDepth(e, temps, depth+1) }
	switch x := e.(type) {
	case *ast.Ident:
		// _cgo3 := _cgoBase3; _cgoBase3 := &x: follow the chain of
		// temporaries (index temporaries stand for &s and are resolved
		// where they are dereferenced).
		if strings.HasPrefix(x.Name, "_cgo") && !strings.HasPrefix(x.Name, "_cgoIndex") {
			if v, ok := temps[x.Name]; ok {
				return subst(v, temps)
			}
		}
	case *ast.StarExpr:
		if id, ok := unparen(x.X).(*ast.Ident); ok && strings.HasPrefix(id.Name, "_cgoIndex") {
			if u, ok := unparen(temps[id.Name]).(*ast.UnaryExpr); ok && u.Op == token.AND {
				return u.X
			}
		}
		if y := subst(x.X, temps); y != x.X {
			c := *x
			c.X = y
			return &c
		}
	case *ast.ParenExpr:
		y := subst(x.X, temps)
		if _, isStar := x.X.(*ast.StarExpr); isStar && y != x.X {
			return y
		}
		if y != x.X {
			c := *x
			c.X = y
			return &c
		}
	case *ast.IndexExpr:
		if y := subst(x.X, temps); y != x.X {
			c := *x
			c.X = y
			return &c
		}
	case *ast.SliceExpr:
		if y := subst(x.X, temps); y != x.X {
			c := *x
			c.X = y
			return &c
		}
	case *ast.SelectorExpr:
		if y := subst(x.X, temps); y != x.X {
			c := *x
			c.X = y
			return &c
		}
	case *ast.UnaryExpr:
		if y := subst(x.X, temps); y != x.X {
			c := *x
			c.X = y
			return &c
		}
	case *ast.CallExpr:
		var args []ast.Expr
		for i, a := range x.Args {
			if y := subst(a, temps); y != a {
				if args == nil {
					args = append([]ast.Expr(nil), x.Args...)
				}
				args[i] = y
			}
		}
		if args != nil {
			c := *x
			c.Args = args
			return &c
		}
	}
	return e
}

// IsCgoClosure reports whether lit is a closure cmd/cgo wrote around a C
// call (as opposed to a function literal the user wrote).
//
// cmd/cgo writes a closure only to hold temporaries (_cgo0, _cgoIndex0)
// and pointer checks (_cgoCheckPointer), so a literal whose body is a bare
// C call, such as the argument of once.Do(func() { C.f() }), is the user's.
func IsCgoClosure(lit *ast.FuncLit) bool {
	if _, ok := closureCall(lit, map[string]ast.Expr{}); !ok {
		return false
	}
	found := false
	ast.Inspect(lit.Body, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && strings.HasPrefix(id.Name, "_cgo") {
			found = true
		}
		return !found
	})
	return found
}

// Helper names of the cgo pseudo-package: they convert between Go and C
// memory and never block.
var helpers = map[string]bool{
	"CString": true, "CBytes": true, "GoString": true, "GoStringN": true,
	"GoBytes": true, "free": true, "malloc": true, "calloc": true,
	"realloc": true,
}

// IsHelper reports whether name is one of cgo's conversion helpers or a C
// allocator: calls that copy or allocate and return promptly.
func IsHelper(name string) bool { return helpers[name] }

// Strip removes parentheses, conversions (unsafe.Pointer(p), (*T)(p),
// uintptr(p)) and cgo casts around e.
func Strip(info *types.Info, e ast.Expr) ast.Expr {
	for {
		e = unparen(e)
		call, ok := e.(*ast.CallExpr)
		if !ok || len(call.Args) != 1 {
			return e
		}
		if tv, ok := info.Types[call.Fun]; ok && tv.IsType() {
			e = call.Args[0]
			continue
		}
		return e
	}
}

// Var returns the variable e names after Strip, or nil.
func Var(info *types.Info, e ast.Expr) *types.Var {
	id, ok := Strip(info, e).(*ast.Ident)
	if !ok {
		return nil
	}
	v, _ := info.ObjectOf(id).(*types.Var)
	return v
}

// Mentions reports whether v is referenced anywhere inside n.
func Mentions(info *types.Info, n ast.Node, v *types.Var) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		if found {
			return false
		}
		if id, ok := n.(*ast.Ident); ok && info.Uses[id] == v {
			found = true
		}
		return true
	})
	return found
}

// Callee returns the function or method a call statically calls, or nil.
func Callee(info *types.Info, call *ast.CallExpr) *types.Func {
	var id *ast.Ident
	switch f := unparen(call.Fun).(type) {
	case *ast.Ident:
		id = f
	case *ast.SelectorExpr:
		id = f.Sel
	case *ast.IndexExpr:
		return Callee(info, &ast.CallExpr{Fun: f.X})
	default:
		return nil
	}
	fn, _ := info.Uses[id].(*types.Func)
	return fn
}

// IsFunc reports whether call statically calls pkgPath.name (a function,
// or a method when name is "Type.Method").
func IsFunc(info *types.Info, call *ast.CallExpr, pkgPath, name string) bool {
	if pkgPath == "unsafe" {
		if sel, ok := unparen(call.Fun).(*ast.SelectorExpr); ok {
			b, ok := info.Uses[sel.Sel].(*types.Builtin)
			return ok && b.Name() == name
		}
		return false
	}
	fn := Callee(info, call)
	if fn == nil || fn.Pkg() == nil || fn.Pkg().Path() != pkgPath {
		return false
	}
	if sig, ok := fn.Type().(*types.Signature); ok && sig.Recv() != nil {
		t := sig.Recv().Type()
		if p, ok := t.(*types.Pointer); ok {
			t = p.Elem()
		}
		if n, ok := t.(*types.Named); ok {
			return n.Obj().Name()+"."+fn.Name() == name
		}
		return false
	}
	return fn.Name() == name
}

// Inspect walks n like ast.Inspect but does not enter function literals
// the user wrote (their bodies run at another time); it does enter the
// closures cmd/cgo writes around C calls.
func Inspect(n ast.Node, f func(ast.Node) bool) {
	ast.Inspect(n, func(n ast.Node) bool {
		if lit, ok := n.(*ast.FuncLit); ok && !IsCgoClosure(lit) {
			return false
		}
		return f(n)
	})
}

// InGenerated returns a function reporting whether a position lies in a
// file cmd/cgo generated from scratch (_cgo_gotypes.go and the like), whose
// code is cgo's and not the user's.
func InGenerated(fset *token.FileSet, files []*ast.File) func(token.Pos) bool {
	gen := map[*token.File]bool{}
	for _, f := range files {
		if cgoast.IsGenerated(f) {
			gen[fset.File(f.Pos())] = true
		}
	}
	return func(p token.Pos) bool { return gen[fset.File(p)] }
}
