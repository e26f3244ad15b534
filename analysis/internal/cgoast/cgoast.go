package cgoast

import (
	"go/ast"
	"go/token"
	"go/types"
	"strings"
)

// Prefixes of the identifiers cmd/cgo generates.
const (
	funcPrefix  = "_Cfunc_"
	errnoPrefix = "_C2func_"
	typePrefix  = "_Ctype_"
	varPrefix   = "_Cvar_"
	macroPrefix = "_Cmacro_"
	tempPrefix  = "_cgo"
	indexPrefix = "_cgoIndex"
	checkPtr    = "_cgoCheckPointer"
)

// Call is one call of a C function (or a cgo builtin such as C.CString) as
// the user wrote it.
type Call struct {
	// Name is the C name: "free", "malloc", "CString", "GoString", "f".
	Name string
	// Errno reports the two-result form r, err := C.f().
	Errno bool
	// Expr is the outermost expression standing for the call in the
	// rewritten file: the _cgoCheckPointer closure call when the call has
	// pointer arguments, otherwise the plain call. For deferred and go
	// statements it is the deferred/go call expression.
	Expr *ast.CallExpr
	// Inner is the call of the generated _Cfunc_ function itself.
	Inner *ast.CallExpr
	// Args are the user's argument expressions, with the closure's
	// temporaries resolved; see Base for &s[0] arguments. For an argument
	// unsafe.Pointer(&x), which cgo splits into _cgoBase0 := &x and
	// unsafe.Pointer(_cgoBase0), Args holds &x.
	Args []ast.Expr
	// Checked reports that cgo wrapped the call in a _cgoCheckPointer
	// closure (some argument is a pointer).
	Checked bool
	// temps maps _cgoIndexN identifiers to the expression they take the
	// address of.
	temps map[string]ast.Expr
}

// Pos returns the start of the call.
func (c *Call) Pos() token.Pos { return c.Expr.Pos() }

// End returns the end of the call as the user wrote it when cgo rewrote
// it into a closure (the //line position of the generated call), otherwise
// the end of the call expression.
func (c *Call) End() token.Pos {
	if c.Checked {
		return c.Inner.Fun.End()
	}
	return c.Expr.End()
}

// IsAlloc reports whether the call returns memory from the C heap that the
// caller must free: C.malloc, C.calloc, C.realloc, C.strdup, C.strndup,
// C.CString and C.CBytes.
func (c *Call) IsAlloc() bool {
	switch c.Name {
	case "malloc", "calloc", "realloc", "strdup", "strndup", "CString", "CBytes":
		return true
	}
	return false
}

// IsBuiltin reports whether the call is one of cgo's own helpers
// (C.CString, C.CBytes, C.GoString, C.GoStringN, C.GoBytes) rather than a
// C function. C.malloc counts as a C function.
func (c *Call) IsBuiltin() bool { return IsBuiltin(c.Name) }

// IsBuiltin reports whether name is one of cgo's helper functions.
func IsBuiltin(name string) bool {
	switch name {
	case "CString", "CBytes", "GoString", "GoStringN", "GoBytes":
		return true
	}
	return false
}

// Base returns the expression e stands for in the user's code: a
// reference (*_cgoIndexN) to a temporary that cgo introduced for an
// index expression such as &s[0] becomes s. Other expressions are returned
// unchanged, with parentheses removed.
func (c *Call) Base(e ast.Expr) ast.Expr {
	e = ast.Unparen(e)
	if star, ok := e.(*ast.StarExpr); ok {
		if id, ok := ast.Unparen(star.X).(*ast.Ident); ok {
			if x, ok := c.temps[id.Name]; ok {
				return ast.Unparen(x)
			}
		}
	}
	return e
}

// CalleeName reports whether fun (the Fun of a call expression) names a C
// function, in rewritten form (_Cfunc_f, _C2func_f, _Cfunc__CMalloc) or in
// source form (C.f), and returns the C name.
func CalleeName(fun ast.Expr) (name string, errno, ok bool) {
	switch f := ast.Unparen(fun).(type) {
	case *ast.Ident:
		return FuncName(f.Name)
	case *ast.SelectorExpr:
		if x, isIdent := f.X.(*ast.Ident); isIdent && x.Name == "C" {
			return f.Sel.Name, false, true
		}
	}
	return "", false, false
}

// FuncName maps a generated function identifier to the C name:
// _Cfunc_f → f, _C2func_f → f (errno true), _Cfunc__CMalloc → malloc.
func FuncName(id string) (name string, errno, ok bool) {
	switch {
	case id == "_Cfunc__CMalloc":
		return "malloc", false, true
	case strings.HasPrefix(id, funcPrefix) && len(id) > len(funcPrefix):
		return id[len(funcPrefix):], false, true
	case strings.HasPrefix(id, errnoPrefix) && len(id) > len(errnoPrefix):
		return id[len(errnoPrefix):], true, true
	}
	return "", false, false
}

// IsCName reports whether id is an identifier cmd/cgo generated for a C
// name (function, type, variable or macro).
func IsCName(id string) bool {
	for _, p := range []string{funcPrefix, errnoPrefix, typePrefix, varPrefix, macroPrefix} {
		if strings.HasPrefix(id, p) {
			return true
		}
	}
	return false
}

// IsTemp reports whether id is a temporary cgo introduced (_cgo0,
// _cgoIndex0, ...).
func IsTemp(id string) bool {
	if !strings.HasPrefix(id, tempPrefix) || len(id) == len(tempPrefix) {
		return false
	}
	rest := strings.TrimPrefix(id[len(tempPrefix):], "Index")
	rest = strings.TrimPrefix(rest, "Base")
	if rest == "" {
		return false
	}
	for _, r := range rest {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// AsCall reports whether call is a C call, in any of its rewritten forms
// (plain, _cgoCheckPointer closure, deferred closure) or in source form,
// and describes it. The inner _Cfunc_ call of a closure is also recognised
// on its own (with its temporaries unresolved); Inspect visits each call
// once, at its outermost form.
func AsCall(call *ast.CallExpr) (*Call, bool) {
	if name, errno, ok := CalleeName(call.Fun); ok {
		return &Call{Name: name, Errno: errno, Expr: call, Inner: call, Args: call.Args}, true
	}
	if len(call.Args) != 0 {
		return nil, false
	}
	switch fun := ast.Unparen(call.Fun).(type) {
	case *ast.FuncLit:
		// func() T { _cgo0 := x; ...; return _Cfunc_f(_cgo0) }()
		return closureCall(call, fun.Body, nil)
	case *ast.CallExpr:
		// func() func() { _cgo0 := x; return func() { ...; _Cfunc_f(_cgo0) } }()()
		lit, ok := ast.Unparen(fun.Fun).(*ast.FuncLit)
		if !ok || len(fun.Args) != 0 || len(lit.Body.List) == 0 {
			return nil, false
		}
		ret, ok := lit.Body.List[len(lit.Body.List)-1].(*ast.ReturnStmt)
		if !ok || len(ret.Results) != 1 {
			return nil, false
		}
		inner, ok := ret.Results[0].(*ast.FuncLit)
		if !ok {
			return nil, false
		}
		return closureCall(call, inner.Body, lit.Body)
	}
	return nil, false
}

// closureCall finds the _Cfunc_ call in body and resolves its temporaries
// from the assignments in body and outer.
func closureCall(call *ast.CallExpr, body, outer *ast.BlockStmt) (*Call, bool) {
	if body == nil || len(body.List) == 0 {
		return nil, false
	}
	temps := map[string]ast.Expr{}
	sawCheck := false
	collect := func(b *ast.BlockStmt) {
		if b == nil {
			return
		}
		for _, st := range b.List {
			switch s := st.(type) {
			case *ast.AssignStmt:
				if s.Tok == token.DEFINE && len(s.Lhs) == 1 && len(s.Rhs) == 1 {
					if id, ok := s.Lhs[0].(*ast.Ident); ok && IsTemp(id.Name) {
						temps[id.Name] = s.Rhs[0]
					}
				}
			case *ast.DeclStmt:
				gd, ok := s.Decl.(*ast.GenDecl)
				if !ok {
					continue
				}
				for _, sp := range gd.Specs {
					vs, ok := sp.(*ast.ValueSpec)
					if !ok || len(vs.Names) != 1 || len(vs.Values) != 1 {
						continue
					}
					if IsTemp(vs.Names[0].Name) {
						temps[vs.Names[0].Name] = vs.Values[0]
					}
				}
			case *ast.ExprStmt:
				if c, ok := s.X.(*ast.CallExpr); ok {
					if id, ok := c.Fun.(*ast.Ident); ok && id.Name == checkPtr {
						sawCheck = true
					}
				}
			}
		}
	}
	collect(outer)
	collect(body)
	if !sawCheck && len(temps) == 0 {
		return nil, false
	}
	var inner *ast.CallExpr
	switch last := body.List[len(body.List)-1].(type) {
	case *ast.ReturnStmt:
		if len(last.Results) == 1 {
			inner, _ = last.Results[0].(*ast.CallExpr)
		}
	case *ast.ExprStmt:
		inner, _ = last.X.(*ast.CallExpr)
	}
	if inner == nil {
		return nil, false
	}
	name, errno, ok := CalleeName(inner.Fun)
	if !ok {
		return nil, false
	}
	c := &Call{Name: name, Errno: errno, Expr: call, Inner: inner, Checked: true, temps: map[string]ast.Expr{}}
	for k, v := range temps {
		if strings.HasPrefix(k, indexPrefix) {
			// _cgoIndexN := &s
			if u, ok := ast.Unparen(v).(*ast.UnaryExpr); ok && u.Op == token.AND {
				c.temps[k] = u.X
			}
		}
	}
	c.Args = make([]ast.Expr, len(inner.Args))
	for i, a := range inner.Args {
		c.Args[i] = a
		if id, ok := ast.Unparen(a).(*ast.Ident); ok {
			if v, ok := temps[id.Name]; ok {
				c.Args[i] = v
				// unsafe.Pointer(&x) becomes _cgoBase0 := &x;
				// _cgo0 := unsafe.Pointer(_cgoBase0): use &x.
				if conv, ok := ast.Unparen(v).(*ast.CallExpr); ok && len(conv.Args) == 1 {
					if b, ok := ast.Unparen(conv.Args[0]).(*ast.Ident); ok && IsTemp(b.Name) {
						if bv, ok := temps[b.Name]; ok {
							c.Args[i] = bv
						}
					}
				}
			}
		}
	}
	return c, true
}

// Inspect walks root in depth-first order and calls fn for every C call,
// once per call, with the stack of enclosing nodes (outermost first, the
// call's Expr last). For calls rewritten into closures it does not descend
// into the generated closure, but it does visit C calls nested in the
// arguments (C.f(C.CString(s)) yields f and CString).
func Inspect(root ast.Node, fn func(c *Call, stack []ast.Node)) {
	var stack []ast.Node
	ast.Inspect(root, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		stack = append(stack, n)
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		c, ok := AsCall(call)
		if !ok {
			return true
		}
		fn(c, stack)
		if c.Checked {
			// Visit only the argument expressions, not the closure
			// scaffolding.
			for _, a := range c.Args {
				Inspect(a, func(c2 *Call, st []ast.Node) {
					full := append(append([]ast.Node(nil), stack...), st...)
					fn(c2, full)
				})
			}
			stack = stack[:len(stack)-1]
			return false
		}
		return true
	})
}

// UserFiles returns the files of a package that hold the user's code: the
// hand-written files and the cgo-rewritten copies of them (which carry a
// //line directive to the original), but not the files cmd/cgo generates
// from scratch (_cgo_gotypes.go, _cgo_import.go).
func UserFiles(files []*ast.File) []*ast.File {
	out := make([]*ast.File, 0, len(files))
	for _, f := range files {
		if IsGenerated(f) {
			continue
		}
		out = append(out, f)
	}
	return out
}

// IsGenerated reports whether f is a file cmd/cgo generated without a
// user source behind it.
func IsGenerated(f *ast.File) bool {
	gen := false
	for _, cg := range f.Comments {
		if cg.Pos() > f.Package {
			break
		}
		for _, c := range cg.List {
			if strings.HasPrefix(c.Text, "//line ") {
				return false
			}
			if c.Text == "// Code generated by cmd/cgo; DO NOT EDIT." {
				gen = true
			}
		}
	}
	if gen {
		return true
	}
	// _cgo_import.go has only cgo_import_dynamic directives.
	return len(f.Decls) == 0 && hasDirective(f, "//go:cgo_import_dynamic")
}

// IsRewritten reports whether f is a cgo-rewritten copy of a user file.
func IsRewritten(f *ast.File) bool {
	for _, cg := range f.Comments {
		if cg.Pos() > f.Package {
			break
		}
		for _, c := range cg.List {
			if c.Text == "// Code generated by cmd/cgo; DO NOT EDIT." {
				return true
			}
		}
	}
	return false
}

func hasDirective(f *ast.File, prefix string) bool {
	for _, cg := range f.Comments {
		for _, c := range cg.List {
			if strings.HasPrefix(c.Text, prefix) {
				return true
			}
		}
	}
	return false
}

// UsesCgo reports whether f imports "C", in source form or rewritten form
// (where the import becomes import _ "unsafe" preceded by the preamble).
func UsesCgo(f *ast.File) bool {
	if IsRewritten(f) {
		return true
	}
	for _, im := range f.Imports {
		if im.Path.Value == `"C"` {
			return true
		}
	}
	return false
}

// AddrOfIndex is AddrOfElem that also returns the index expression
// itself (whose Lbrack locates it in the file cmd/cgo rewrote).
func (c *Call) AddrOfIndex(info *types.Info, e ast.Expr) (ix *ast.IndexExpr, slice, index ast.Expr, ok bool) {
	e = ast.Unparen(Unconvert(info, e))
	u, isAddr := e.(*ast.UnaryExpr)
	if !isAddr || u.Op != token.AND {
		return nil, nil, nil, false
	}
	ix, isIndex := ast.Unparen(u.X).(*ast.IndexExpr)
	if !isIndex {
		return nil, nil, nil, false
	}
	return ix, c.Base(ix.X), ix.Index, true
}

// AddrOfElem reports whether e is &s[i] (possibly inside conversions such as
// unsafe.Pointer(&s[i]) or (*C.char)(unsafe.Pointer(&s[i]))) and returns
// s, resolved with Base, and i.
func (c *Call) AddrOfElem(info *types.Info, e ast.Expr) (slice, index ast.Expr, ok bool) {
	e = ast.Unparen(e)
	for {
		call, isCall := e.(*ast.CallExpr)
		if !isCall || len(call.Args) != 1 || info == nil {
			break
		}
		if tv, found := info.Types[call.Fun]; !found || !tv.IsType() {
			break
		}
		e = ast.Unparen(call.Args[0])
	}
	u, isAddr := e.(*ast.UnaryExpr)
	if !isAddr || u.Op != token.AND {
		return nil, nil, false
	}
	ix, isIndex := ast.Unparen(u.X).(*ast.IndexExpr)
	if !isIndex {
		return nil, nil, false
	}
	return c.Base(ix.X), ix.Index, true
}
