package cstrings

import (
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"

	"github.com/cgoguard/cgoguard/analysis/internal/cflow"
	"github.com/cgoguard/cgoguard/analysis/internal/diag"
)

// URL is the documentation of the rules this analyzer checks; each rule
// has its own page, CG019.md and CG020.md, beside it.
const URL = diag.BaseURL + "CG019.md"

// Analyzer checks the string rules CG019 and CG020.
var Analyzer = &analysis.Analyzer{
	Name:       "cstrings",
	Doc:        Doc,
	URL:        URL,
	Run:        run,
	Requires:   []*analysis.Analyzer{inspect.Analyzer},
	ResultType: diag.ResultType,
}

func run(pass *analysis.Pass) (any, error) {
	r := diag.New(pass)
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	gen := cflow.InGenerated(pass.Fset, pass.Files)
	ins.Preorder([]ast.Node{(*ast.FuncDecl)(nil)}, func(n ast.Node) {
		fn := n.(*ast.FuncDecl)
		if fn.Body == nil || gen(fn.Pos()) {
			return
		}
		f := &fun{pass: pass, r: r, info: pass.TypesInfo, body: fn.Body, origin: map[*types.Var]string{}, bytesOf: map[*types.Var]*types.Var{}}
		f.scan()
	})
	return r.Result(), nil
}

// fun checks one function declaration, function literals included.
type fun struct {
	pass *analysis.Pass
	r    *diag.Reporter
	info *types.Info
	body *ast.BlockStmt
	// origin says where a local pointer came from: "C.CBytes", "C.malloc".
	origin map[*types.Var]string
	// bytesOf maps a string variable to the []byte variable it was converted from.
	bytesOf map[*types.Var]*types.Var
}

func (f *fun) scan() {
	ast.Inspect(f.body, func(n ast.Node) bool {
		if a, ok := n.(*ast.AssignStmt); ok && len(a.Lhs) == len(a.Rhs) {
			for i, rhs := range a.Rhs {
				v := cflow.Var(f.info, a.Lhs[i])
				if v == nil {
					continue
				}
				if c, ok := cflow.CCall(cflow.Strip(f.info, rhs)); ok && (c.Name == "CBytes" || c.Name == "malloc") {
					f.origin[v] = "C." + c.Name
				}
				if b := f.bytesConversion(rhs); b != nil {
					f.bytesOf[v] = b
				}
			}
		}
		e, ok := n.(ast.Expr)
		if !ok {
			return true
		}
		c, ok := cflow.CCall(e)
		if !ok || len(c.Args) != 1 {
			return true
		}
		switch c.Name {
		case "GoString":
			f.goString(c)
		case "CString":
			f.cString(c)
		}
		return true
	})
}

// goString checks the buffer given to C.GoString (CG019).
func (f *fun) goString(c *cflow.Call) {
	arg := cflow.Strip(f.info, c.Args[0])
	why := ""
	switch a := ast.Unparen(arg).(type) {
	case *ast.UnaryExpr:
		if a.Op != token.AND {
			break
		}
		x := ast.Unparen(a.X)
		if ix, ok := x.(*ast.IndexExpr); ok {
			x = ix.X
		}
		if f.filledByC(x, c.Expr.Pos()) {
			break
		}
		switch t := f.typeOf(x).(type) {
		case *types.Array:
			why = "a fixed-size " + types.TypeString(t, types.RelativeTo(f.pass.Pkg)) + " array"
			why = strings.ReplaceAll(why, "_Ctype_", "C.")
		case *types.Slice:
			why = "a Go byte slice"
		}
	case *ast.CallExpr:
		if cflow.IsFunc(f.info, a, "unsafe", "SliceData") && len(a.Args) == 1 && !f.filledByC(a.Args[0], c.Expr.Pos()) {
			why = "a Go byte slice"
		}
	case *ast.Ident:
		if v, ok := f.info.Uses[a].(*types.Var); ok && f.origin[v] != "" && !f.filledByC(a, c.Expr.Pos()) {
			why = "memory from " + f.origin[v]
		}
	}
	if why != "" {
		f.r.Report(c.Expr, "CG019", "C.GoString on %s that may lack a terminating NUL; use C.GoStringN with a bound", why)
	}
}

// filledByC reports whether the local buffer x (an array, a byte slice,
// or C memory from C.malloc) is handed to a C function, or to a Go
// function that passes it on, before the C.GoString at pos: C filled it
// (realpath, snprintf-style APIs, the error-string out-parameter
// convention, where C writes a NUL-terminated message on failure) and is
// trusted to terminate it. Struct fields are not trusted this way: a
// record's fixed-size field is the classic unterminated buffer.
func (f *fun) filledByC(x ast.Expr, pos token.Pos) bool {
	v := cflow.Var(f.info, x)
	if v == nil {
		return false
	}
	found := false
	ast.Inspect(f.body, func(n ast.Node) bool {
		e, ok := n.(ast.Expr)
		if !ok || found || n.Pos() >= pos {
			return !found
		}
		c, ok := cflow.CCall(e)
		if !ok {
			// A Go function given the buffer hands it to C (the
			// error-string out-parameter of a wrapper).
			if call, isCall := e.(*ast.CallExpr); isCall && cflow.Callee(f.info, call) != nil {
				for _, a := range call.Args {
					if cflow.Var(f.info, a) == v {
						found = true
					}
				}
			}
			return true
		}
		if cflow.IsHelper(c.Name) {
			return true
		}
		for _, a := range c.Args {
			if cflow.Mentions(f.info, a, v) {
				found = true
			}
		}
		return true
	})
	return found
}

// typeOf returns the underlying type of e, looking through the copies
// cmd/cgo makes of index expressions.
func (f *fun) typeOf(e ast.Expr) types.Type {
	t := f.info.TypeOf(e)
	if t == nil {
		return nil
	}
	return t.Underlying()
}

// bytesConversion returns the []byte variable b when e is string(b).
func (f *fun) bytesConversion(e ast.Expr) *types.Var {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok || len(call.Args) != 1 {
		return nil
	}
	tv, ok := f.info.Types[call.Fun]
	if !ok || !tv.IsType() || !isString(tv.Type) {
		return nil
	}
	at := f.info.TypeOf(call.Args[0])
	if at == nil {
		return nil
	}
	if s, ok := at.Underlying().(*types.Slice); ok {
		if b, ok := s.Elem().Underlying().(*types.Basic); ok && (b.Kind() == types.Byte || b.Kind() == types.Rune) {
			if v := cflow.Var(f.info, call.Args[0]); v != nil {
				return v
			}
			return &types.Var{} // unnamed bytes: never checked
		}
	}
	return nil
}

func isString(t types.Type) bool {
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Info()&types.IsString != 0
}

// cString checks the string given to C.CString (CG020).
func (f *fun) cString(c *cflow.Call) {
	arg := c.Args[0]
	if tv, ok := f.info.Types[arg]; ok && tv.Value != nil && tv.Value.Kind() == constant.String {
		if strings.IndexByte(constant.StringVal(tv.Value), 0) >= 0 {
			f.r.Report(c.Expr, "CG020", "C.CString of a constant holding a NUL byte: C sees the string cut at the NUL")
		}
		return
	}
	var s, b *types.Var
	if bv := f.bytesConversion(arg); bv != nil {
		b = bv
	} else if v := cflow.Var(f.info, arg); v != nil && f.bytesOf[v] != nil {
		s, b = v, f.bytesOf[v]
	} else {
		return
	}
	if f.checksNUL(s) || f.checksNUL(b) {
		return
	}
	f.r.Report(c.Expr, "CG020", "C.CString of a string converted from bytes that may hold NUL; check with strings.IndexByte(s, 0) first")
}

// checksNUL reports whether the function looks for a NUL in v:
// strings.IndexByte(v, 0), bytes.Contains(v, []byte{0}), strings.ContainsRune(v, 0)...
func (f *fun) checksNUL(v *types.Var) bool {
	if v == nil || v.Name() == "" {
		return false
	}
	found := false
	ast.Inspect(f.body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || found || len(call.Args) < 2 {
			return !found
		}
		fn := cflow.Callee(f.info, call)
		if fn == nil || fn.Pkg() == nil || (fn.Pkg().Path() != "strings" && fn.Pkg().Path() != "bytes") {
			return true
		}
		if cflow.Var(f.info, call.Args[0]) != v {
			return true
		}
		for _, a := range call.Args[1:] {
			if isNUL(f.info, a) {
				found = true
			}
		}
		return true
	})
	return found
}

// isNUL reports whether e is the constant 0, "\x00" or []byte{0}.
func isNUL(info *types.Info, e ast.Expr) bool {
	if tv, ok := info.Types[e]; ok && tv.Value != nil {
		switch tv.Value.Kind() {
		case constant.Int:
			v, ok := constant.Int64Val(tv.Value)
			return ok && v == 0
		case constant.String:
			return strings.IndexByte(constant.StringVal(tv.Value), 0) >= 0
		}
	}
	if cl, ok := ast.Unparen(e).(*ast.CompositeLit); ok {
		for _, el := range cl.Elts {
			if isNUL(info, el) {
				return true
			}
		}
	}
	if call, ok := ast.Unparen(e).(*ast.CallExpr); ok && len(call.Args) == 1 {
		if tv, ok := info.Types[call.Fun]; ok && tv.IsType() {
			return isNUL(info, call.Args[0])
		}
	}
	return false
}
