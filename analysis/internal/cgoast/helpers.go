package cgoast

import (
	"go/ast"
	"go/format"
	"go/token"
	"go/types"
	"regexp"
	"strings"
)

// Unconvert removes type conversions around e: unsafe.Pointer(x),
// (*C.char)(unsafe.Pointer(x)) and C.uintptr_t(x) all become x. Parentheses
// are removed too.
func Unconvert(info *types.Info, e ast.Expr) ast.Expr {
	for {
		e = ast.Unparen(e)
		call, ok := e.(*ast.CallExpr)
		if !ok || len(call.Args) != 1 {
			return e
		}
		tv, ok := info.Types[call.Fun]
		if !ok || !tv.IsType() {
			return e
		}
		e = call.Args[0]
	}
}

// Conversions returns the types e is converted to, outermost first, and
// the innermost operand: for C.uintptr_t(uintptr(unsafe.Pointer(p))) it
// returns [C.uintptr_t uintptr unsafe.Pointer] and p.
func Conversions(info *types.Info, e ast.Expr) ([]types.Type, ast.Expr) {
	var ts []types.Type
	for {
		e = ast.Unparen(e)
		call, ok := e.(*ast.CallExpr)
		if !ok || len(call.Args) != 1 {
			return ts, e
		}
		tv, ok := info.Types[call.Fun]
		if !ok || !tv.IsType() {
			return ts, e
		}
		ts = append(ts, tv.Type)
		e = call.Args[0]
	}
}

// GoPointer reports whether e (conversions already removed) evaluates to a
// pointer into Go memory, and returns the type it points to: &x of a Go
// variable, composite literal or field of Go memory; a value of type *T
// for a Go type T; unsafe.SliceData(s) or unsafe.StringData(s) of Go
// slices and strings. Pointers whose target is unknown (unsafe.Pointer
// values, pointers to C types) are not reported.
func GoPointer(info *types.Info, e ast.Expr) (types.Type, bool) {
	e = ast.Unparen(e)
	switch x := e.(type) {
	case *ast.UnaryExpr:
		if x.Op != token.AND {
			return nil, false
		}
		if !IsGoMemory(info, x.X) {
			return nil, false
		}
		t := info.TypeOf(x.X)
		if t == nil {
			return nil, false
		}
		return t, true
	case *ast.CallExpr:
		if id, ok := ast.Unparen(x.Fun).(*ast.SelectorExpr); ok && len(x.Args) == 1 {
			if obj, ok := info.Uses[id.Sel].(*types.Builtin); ok {
				switch obj.Name() {
				case "SliceData":
					if s, ok := Under(info.TypeOf(x.Args[0])).(*types.Slice); ok && !IsCType(s.Elem()) {
						return s.Elem(), IsGoMemory(info, x.Args[0])
					}
				case "StringData":
					return types.Typ[types.Byte], true
				}
				return nil, false
			}
		}
	}
	t := info.TypeOf(e)
	if t == nil {
		return nil, false
	}
	if p, ok := Under(t).(*types.Pointer); ok && !IsCPointee(p.Elem()) && !isOpaque(p.Elem()) {
		return p.Elem(), true
	}
	return nil, false
}

// fromC reports whether e, an unsafe.Pointer, is made from C memory: a C
// pointer or a C call's result converted to unsafe.Pointer.
func fromC(info *types.Info, e ast.Expr) bool {
	for {
		e = ast.Unparen(e)
		call, ok := e.(*ast.CallExpr)
		if !ok {
			break
		}
		if _, _, isC := CalleeName(call.Fun); isC {
			return true
		}
		if tv, ok := info.Types[call.Fun]; ok && tv.IsType() && len(call.Args) == 1 {
			e = call.Args[0]
			continue
		}
		return false
	}
	if p, ok := Under(info.TypeOf(e)).(*types.Pointer); ok {
		return IsCType(p.Elem())
	}
	return false
}

// MirrorTypes returns the Go named types that files convert C memory to:
// (*T)(unsafe.Pointer(p)) says T mirrors a C struct, and a *T may point
// into C memory whatever fields T declares.
func MirrorTypes(info *types.Info, files []*ast.File) map[*types.Named]bool {
	out := map[*types.Named]bool{}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 1 {
				return true
			}
			tv, ok := info.Types[call.Fun]
			if !ok || !tv.IsType() {
				return true
			}
			p, ok := Under(tv.Type).(*types.Pointer)
			if !ok || IsCType(p.Elem()) {
				return true
			}
			if !IsUnsafePointer(info.TypeOf(call.Args[0])) || !fromC(info, call.Args[0]) {
				return true
			}
			if named, ok := types.Unalias(p.Elem()).(*types.Named); ok {
				if _, isStruct := named.Underlying().(*types.Struct); isStruct {
					out[named] = true
				}
			}
			return true
		})
	}
	return out
}

// isOpaque reports types whose pointers commonly point at C memory even
// though they are Go types: arrays of C types reached through conversions.
func isOpaque(t types.Type) bool {
	if a, ok := Under(t).(*types.Array); ok {
		return IsCType(a.Elem()) || isOpaque(a.Elem())
	}
	return false
}

// IsGoMemory reports whether the location x (an operand of &) is in Go
// memory: a variable, a composite literal, or a field or element reached
// from one without dereferencing a pointer of unknown origin.
func IsGoMemory(info *types.Info, x ast.Expr) bool {
	for {
		x = ast.Unparen(x)
		switch e := x.(type) {
		case *ast.Ident:
			v, ok := info.Uses[e].(*types.Var)
			if !ok {
				v, ok = info.Defs[e].(*types.Var)
			}
			return ok && v != nil
		case *ast.CompositeLit:
			return true
		case *ast.SelectorExpr:
			sel := info.Selections[e]
			if sel == nil || sel.Kind() != types.FieldVal {
				return false
			}
			if p, ok := Under(info.TypeOf(e.X)).(*types.Pointer); ok {
				// p.f: Go memory when p points to a Go type.
				return !IsCType(p.Elem())
			}
			x = e.X
		case *ast.IndexExpr:
			t := Under(info.TypeOf(e.X))
			switch tt := t.(type) {
			case *types.Slice:
				return !IsCType(tt.Elem()) && IsGoMemory(info, e.X)
			case *types.Pointer:
				return false
			case *types.Array:
				x = e.X
			default:
				return false
			}
		case *ast.StarExpr:
			// *p: Go memory when p is a Go pointer.
			_, ok := GoPointer(info, e.X)
			return ok
		default:
			return false
		}
	}
}

// CalleeFunc returns the function or method called by call, or nil for
// conversions, builtins and calls of function values.
func CalleeFunc(info *types.Info, call *ast.CallExpr) *types.Func {
	var id *ast.Ident
	switch f := ast.Unparen(call.Fun).(type) {
	case *ast.Ident:
		id = f
	case *ast.SelectorExpr:
		id = f.Sel
	case *ast.IndexExpr:
		return CalleeFunc(info, &ast.CallExpr{Fun: f.X})
	default:
		return nil
	}
	fn, _ := info.Uses[id].(*types.Func)
	return fn
}

// IsPkgFunc reports whether call calls the function pkgPath.name (a
// package-level function, or a method when name is "Type.Method").
func IsPkgFunc(info *types.Info, call *ast.CallExpr, pkgPath, name string) bool {
	fn := CalleeFunc(info, call)
	if fn == nil || fn.Pkg() == nil || fn.Pkg().Path() != pkgPath {
		return false
	}
	sig := fn.Type().(*types.Signature)
	if recv := sig.Recv(); recv != nil {
		t := recv.Type()
		if p, ok := t.(*types.Pointer); ok {
			t = p.Elem()
		}
		n, ok := types.Unalias(t).(*types.Named)
		return ok && n.Obj().Name()+"."+fn.Name() == name
	}
	return fn.Name() == name
}

// RootVar returns the variable at the root of a selector/index/star chain
// (s in s.f[i].g), or nil.
func RootVar(info *types.Info, e ast.Expr) *types.Var {
	for {
		switch x := ast.Unparen(e).(type) {
		case *ast.Ident:
			v, _ := info.Uses[x].(*types.Var)
			if v == nil {
				v, _ = info.Defs[x].(*types.Var)
			}
			return v
		case *ast.SelectorExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.StarExpr:
			e = x.X
		case *ast.UnaryExpr:
			e = x.X
		case *ast.CallExpr:
			if len(x.Args) != 1 {
				return nil
			}
			e = x.Args[0]
		default:
			return nil
		}
	}
}

// ExportName returns the name in an //export directive of fd's doc
// comment, or "".
func ExportName(fd *ast.FuncDecl) string {
	if fd.Doc == nil {
		return ""
	}
	for _, c := range fd.Doc.List {
		if rest, ok := strings.CutPrefix(c.Text, "//export "); ok {
			return strings.TrimSpace(rest)
		}
	}
	return ""
}

// Marked collects the names given in //cgoguard:<kind> directives of the
// files (Go comments and C comments in preambles), for example
//
//	//cgoguard:keeps register_callback set_userdata
//
// says that these C functions keep the pointers passed to them.
func Marked(files []*ast.File, kind string) map[string]bool {
	re := regexp.MustCompile(`//\s*cgoguard:` + regexp.QuoteMeta(kind) + `\s+([^\n]*)`)
	out := map[string]bool{}
	for _, f := range files {
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				if !strings.Contains(c.Text, "cgoguard:"+kind) {
					continue
				}
				for _, m := range re.FindAllStringSubmatch(c.Text, -1) {
					for _, name := range strings.FieldsFunc(m[1], func(r rune) bool { return r == ' ' || r == ',' || r == '\t' }) {
						out[name] = true
					}
				}
			}
		}
	}
	return out
}

// keepsName matches C function names that by convention keep the pointer
// passed to them beyond the call.
var keepsName = regexp.MustCompile(`(?i)(register|set_?(callback|userdata|user_data|context|ctx|handler|opaque)|retain|keep_?(ptr|pointer|ref|handle|ctx|context|data)|attach|subscribe|add_?(listener|handler|callback|watch)|enqueue|store_?ptr)`)

// Keeps reports whether the C function name keeps the pointers passed to
// it past the call, by a //cgoguard:keeps directive (marked) or by its
// name (register_*, set_callback, set_userdata, retain, keep_ptr, attach,
// subscribe, add_listener, enqueue ...).
func Keeps(marked map[string]bool, name string) bool {
	if marked[name] {
		return true
	}
	lower := strings.ToLower(name)
	for _, m := range keepsName.FindAllStringIndex(name, -1) {
		before := strings.TrimSuffix(lower[:m[0]], "_")
		if strings.HasSuffix(before, "un") || strings.HasSuffix(before, "de") {
			continue // unregister, deregister, un_subscribe: releases
		}
		return true
	}
	return false
}

// Funcs returns the function declarations of f with a body.
func Funcs(f *ast.File) []*ast.FuncDecl {
	var out []*ast.FuncDecl
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
			out = append(out, fd)
		}
	}
	return out
}

// Format prints e as source, with cgo's generated names written the way
// the user wrote them (_Cfunc_f → C.f, _Ctype_int → C.int).
func Format(fset *token.FileSet, e ast.Expr) string {
	var b strings.Builder
	if err := format.Node(&b, fset, e); err != nil {
		return "?"
	}
	s := b.String()
	s = strings.ReplaceAll(s, "_Cfunc__CMalloc", "C.malloc")
	for _, p := range []string{funcPrefix, errnoPrefix, typePrefix, varPrefix, macroPrefix} {
		s = strings.ReplaceAll(s, p, "C.")
	}
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}
