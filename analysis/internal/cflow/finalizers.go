package cflow

import (
	"go/ast"
	"go/types"
	"strings"
)

// Finalizer is a runtime.SetFinalizer or runtime.AddCleanup registration.
type Finalizer struct {
	// Call is the registration call.
	Call *ast.CallExpr
	// Cleanup is true for runtime.AddCleanup.
	Cleanup bool
	// Type is the named type of the object (T for a *T argument).
	Type *types.Named
	// Func is the finalizer's body when it is known: a function literal,
	// a function declaration, or a method (then Method is set).
	Func *ast.FuncType
	Body *ast.BlockStmt
	// Param is the finalizer's parameter (the object for SetFinalizer,
	// the argument for AddCleanup), or nil.
	Param *types.Var
	// Method is set when the finalizer is a method of Type, as a method
	// expression (*T).Close or a method value x.Close.
	Method *types.Func
	// Arg is AddCleanup's third argument.
	Arg ast.Expr
}

// Decls indexes the function declarations of a package by object.
func Decls(info *types.Info, files []*ast.File) map[*types.Func]*ast.FuncDecl {
	m := map[*types.Func]*ast.FuncDecl{}
	for _, f := range files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
				if fn, ok := info.Defs[fd.Name].(*types.Func); ok {
					m[fn] = fd
				}
			}
		}
	}
	return m
}

// Named returns the named type of t or of what t points to.
func Named(t types.Type) *types.Named {
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	n, _ := types.Unalias(t).(*types.Named)
	return n
}

// Finalizers returns the finalizer and cleanup registrations in files.
func Finalizers(info *types.Info, files []*ast.File, decls map[*types.Func]*ast.FuncDecl) []*Finalizer {
	var out []*Finalizer
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			var fz Finalizer
			switch {
			case IsFunc(info, call, "runtime", "SetFinalizer") && len(call.Args) == 2:
			case IsFunc(info, call, "runtime", "AddCleanup") && len(call.Args) == 3:
				fz.Cleanup = true
				fz.Arg = call.Args[2]
			default:
				return true
			}
			fz.Call = call
			fz.Type = Named(info.TypeOf(call.Args[0]))
			if fz.Type == nil {
				return true
			}
			if tv, ok := info.Types[call.Args[1]]; ok && tv.IsNil() {
				return true // SetFinalizer(x, nil) clears
			}
			switch fn := unparen(call.Args[1]).(type) {
			case *ast.FuncLit:
				fz.Func, fz.Body = fn.Type, fn.Body
			case *ast.Ident:
				if obj, ok := info.Uses[fn].(*types.Func); ok && decls[obj] != nil {
					fz.Func, fz.Body = decls[obj].Type, decls[obj].Body
				}
			case *ast.SelectorExpr:
				if sel, ok := info.Selections[fn]; ok {
					if m, ok := sel.Obj().(*types.Func); ok {
						fz.Method = m
						if d := decls[m]; d != nil {
							fz.Func, fz.Body = d.Type, d.Body
							if d.Recv != nil && len(d.Recv.List) == 1 && len(d.Recv.List[0].Names) == 1 {
								fz.Param, _ = info.Defs[d.Recv.List[0].Names[0]].(*types.Var)
							}
						}
					}
				}
			}
			if fz.Func != nil && fz.Param == nil && fz.Func.Params != nil && len(fz.Func.Params.List) == 1 && len(fz.Func.Params.List[0].Names) == 1 {
				fz.Param, _ = info.Defs[fz.Func.Params.List[0].Names[0]].(*types.Var)
			}
			out = append(out, &fz)
			return true
		})
	}
	return out
}

// releasers are substrings of C function names that release memory or a
// resource: free, destroy, release, delete, close, dispose, unref.
var releasers = []string{"free", "destroy", "release", "delete", "close", "dispose", "unref", "finalize"}

// IsRelease reports whether the C function name releases what it is given.
func IsRelease(name string) bool {
	l := strings.ToLower(name)
	for _, r := range releasers {
		if strings.Contains(l, r) {
			return true
		}
	}
	return false
}

// Release is a C call in a function body that releases memory reached
// from a variable: C.free(x.p), C.db_close(x.h), C.free(p).
type Release struct {
	Call  *Call
	Field *types.Var // the field released (x.p), or nil when the variable itself is
	// Guarded is true when the call sits inside an if statement or a
	// closure (sync.Once.Do and the like) of the body.
	Guarded bool
}

// Releases returns the C releases in body of v or of fields of v.
func Releases(info *types.Info, body *ast.BlockStmt, v *types.Var) []Release {
	var out []Release
	var stack []ast.Node
	ast.Inspect(body, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		stack = append(stack, n)
		e, ok := n.(ast.Expr)
		if !ok {
			return true
		}
		c, ok := CCall(e)
		if !ok || !IsRelease(c.Name) {
			return true
		}
		for _, a := range c.Args {
			a = Strip(info, a)
			var field *types.Var
			if sel, ok := unparen(a).(*ast.SelectorExpr); ok {
				if Var(info, sel.X) != v {
					continue
				}
				field, _ = info.Uses[sel.Sel].(*types.Var)
			} else if Var(info, a) != v {
				continue
			}
			guarded := false
			for _, s := range stack[:len(stack)-1] {
				switch s := s.(type) {
				case *ast.IfStmt:
					guarded = true
				case *ast.FuncLit:
					if !IsCgoClosure(s) {
						guarded = true
					}
				}
			}
			out = append(out, Release{Call: c, Field: field, Guarded: guarded})
		}
		return true
	})
	return out
}

// Clears reports whether body stops the finalizer or cleanup of v:
// runtime.SetFinalizer(v, nil) or a Stop method call (runtime.Cleanup.Stop).
func Clears(info *types.Info, body *ast.BlockStmt, v *types.Var) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || found {
			return !found
		}
		if IsFunc(info, call, "runtime", "SetFinalizer") && len(call.Args) == 2 {
			if tv, ok := info.Types[call.Args[1]]; ok && tv.IsNil() && Var(info, call.Args[0]) == v {
				found = true
			}
		}
		if IsFunc(info, call, "runtime", "Cleanup.Stop") {
			found = true
		}
		return true
	})
	return found
}

// Methods returns the declared methods of named type t with their
// receiver variables.
func Methods(info *types.Info, t *types.Named, decls map[*types.Func]*ast.FuncDecl) map[*ast.FuncDecl]*types.Var {
	out := map[*ast.FuncDecl]*types.Var{}
	for i := range t.NumMethods() {
		d := decls[t.Method(i)]
		if d == nil || d.Recv == nil || len(d.Recv.List) != 1 || len(d.Recv.List[0].Names) != 1 {
			continue
		}
		if rv, ok := info.Defs[d.Recv.List[0].Names[0]].(*types.Var); ok {
			out[d] = rv
		}
	}
	return out
}
