package cflow

import (
	"go/ast"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/ast/astutil"
)

// Use says what a node does with a pointer variable.
type Use int

const (
	// None: the node does not mention the variable.
	None Use = iota
	// Read: the node reads through the variable or passes it to a C
	// function that does not keep it (a plain use).
	Read
	// Compare: the node only compares the variable (p == nil).
	Compare
	// Free: the node frees the variable with C.free (now or deferred).
	Free
	// Escape: ownership leaves the function's hands: returned, stored,
	// captured, passed to Go code or to a C function that takes
	// ownership.
	Escape
	// Assign: the node overwrites the variable with another value.
	Assign
)

// Owners is the set of C functions that take ownership of the pointers
// passed to them.
type Owners map[string]bool

// Add adds the C function names of a comma or space separated list.
func (o Owners) Add(list string) {
	for _, f := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		o[strings.TrimPrefix(f, "C.")] = true
	}
}

// OwnersFromComments returns the C functions named by
// "cgoguard:owns NAME..." directives in any comment of files (the cgo
// preamble included), added to the list given in flag.
func OwnersFromComments(files []*ast.File, flag string) Owners {
	o := Owners{}
	o.Add(flag)
	for _, f := range files {
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				for line := range strings.SplitSeq(c.Text, "\n") {
					if _, rest, ok := strings.Cut(line, "cgoguard:owns"); ok {
						rest, _, _ = strings.Cut(rest, "*/")
						o.Add(rest)
					}
				}
			}
		}
	}
	return o
}

// Env tells Classify what the calls a pointer is passed to do with it.
// The zero Env knows only C.free; a nil *Env is the zero Env.
type Env struct {
	// Owners are C functions that take ownership of the pointers passed
	// to them.
	Owners Owners
	// OwnsArg, when set, reports C functions that take ownership of the
	// pointer passed as argument i only.
	OwnsArg func(name string, i int) bool
	// Dealloc reports C functions other than free that release the
	// memory passed to them (a library's own deallocator, sqlite3_free).
	Dealloc func(name string) bool
	// Destructor reports C functions that, passed as a function-pointer
	// argument of a call (C.f(p, C.free)), make the callee the owner of
	// the call's pointer arguments.
	Destructor func(name string) bool
	// GoArg reports what the Go function or method that call calls does
	// with its argument i: Free (it frees it), Read (it only borrows it)
	// or Escape. Calls it does not know (ok false), and every Go call when
	// GoArg is nil, count as Escape.
	GoArg func(call *ast.CallExpr, i int) (u Use, ok bool)
	// Holder classifies v as a value holding C memory in its fields
	// (a struct, or a pointer to one): &v stands for v, and reading a
	// field of v is a Read.
	Holder bool
}

// CUse says what the C call c does with a pointer among its arguments:
// Free for C.free and library deallocators, Escape for owners and calls
// given a destructor, Read otherwise.
func (e *Env) CUse(info *types.Info, c *Call) Use {
	return e.CArgUse(info, c, -1)
}

// CArgUse is CUse for the pointer passed as argument i (-1 when unknown).
func (e *Env) CArgUse(info *types.Info, c *Call, i int) Use {
	if e != nil && e.OwnsArg != nil && i >= 0 && e.OwnsArg(c.Name, i) {
		return Escape
	}
	if c.Name == "free" {
		return Free
	}
	if e == nil {
		return Read
	}
	if e.Dealloc != nil && e.Dealloc(c.Name) {
		return Free
	}
	if e.Owners[c.Name] {
		return Escape
	}
	if e.Destructor != nil && (i < 0 || i >= len(c.Args) || dataArg(info, c.Args[i])) {
		for _, a := range c.Args {
			if name, ok := FuncPointer(info, a); ok && e.Destructor(name) {
				return Escape
			}
		}
	}
	return Read
}

// dataArg reports an argument that hands over bytes: an unsafe.Pointer or
// a pointer to a one-byte integer type (*C.char, *C.uchar, *byte). The
// destructor of C.f(ctx, s, n, C.free) releases s, not ctx.
func dataArg(info *types.Info, a ast.Expr) bool {
	t := info.TypeOf(a)
	if t == nil {
		return true
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		return u.Kind() == types.UnsafePointer
	case *types.Pointer:
		b, ok := u.Elem().Underlying().(*types.Basic)
		return ok && (b.Kind() == types.Int8 || b.Kind() == types.Uint8)
	}
	return false
}

// FuncPointer reports whether e (conversions removed) is a C function used
// as a value, C.free in C.f(p, C.free), which cmd/cgo writes as
// _Cgo_ptr(_Cfpvar_fp_free), and returns the C name.
func FuncPointer(info *types.Info, e ast.Expr) (string, bool) {
	e = Strip(info, e)
	if call, ok := unparen(e).(*ast.CallExpr); ok && len(call.Args) == 1 {
		if id, ok := unparen(call.Fun).(*ast.Ident); ok && id.Name == "_Cgo_ptr" {
			e = call.Args[0]
		}
	}
	switch x := unparen(e).(type) {
	case *ast.Ident:
		if name, ok := strings.CutPrefix(x.Name, "_Cfpvar_fp_"); ok {
			return name, true
		}
	case *ast.SelectorExpr:
		if id, ok := x.X.(*ast.Ident); ok && id.Name == "C" {
			return x.Sel.Name, true
		}
	}
	return "", false
}

// Classify says what node n does with v. When n does several things the
// strongest wins in the order Free, Escape, Assign, Read, Compare, except
// that a read of v on the right of an assignment to v counts as a Read.
// Function literals the user wrote count as Escape when they capture v,
// unless deferred and freeing it (Free).
func Classify(info *types.Info, n ast.Node, v *types.Var, env *Env) Use {
	res := None
	raise := func(u Use) {
		if rank(u) > rank(res) {
			res = u
		}
	}
	// Deferred closure that frees v.
	if d, ok := n.(*ast.DeferStmt); ok {
		if lit, ok := unparen(d.Call.Fun).(*ast.FuncLit); ok && !IsCgoClosure(lit) && Mentions(info, lit, v) {
			if FreesIn(info, lit.Body, v) || env.freesIn(info, lit.Body, v) {
				return Free
			}
			return Escape
		}
	}
	var stack []ast.Node
	readOnRHS := false
	astutil.Apply(n, func(c *astutil.Cursor) bool {
		node := c.Node()
		if node == nil {
			return true
		}
		if lit, ok := node.(*ast.FuncLit); ok && !IsCgoClosure(lit) {
			if Mentions(info, lit, v) {
				raise(Escape)
			}
			return false
		}
		if id, ok := node.(*ast.Ident); ok && info.Uses[id] == v {
			u := classifyIdent(info, id, stack, v, env)
			if u == Read || u == Compare {
				readOnRHS = true
			}
			raise(u)
		}
		stack = append(stack, node)
		return true
	}, func(c *astutil.Cursor) bool {
		if c.Node() != nil {
			stack = stack[:len(stack)-1]
		}
		return true
	})
	if res == Assign && readOnRHS {
		return Read
	}
	return res
}

// String returns the name of the use, for messages and tests.
func (u Use) String() string {
	switch u {
	case None:
		return "None"
	case Read:
		return "Read"
	case Compare:
		return "Compare"
	case Free:
		return "Free"
	case Escape:
		return "Escape"
	case Assign:
		return "Assign"
	}
	return "Use(?)"
}

func rank(u Use) int {
	switch u {
	case Free:
		return 5
	case Escape:
		return 4
	case Assign:
		return 3
	case Read:
		return 2
	case Compare:
		return 1
	}
	return 0
}

// FreesIn reports whether body frees v with C.free.
func FreesIn(info *types.Info, body ast.Node, v *types.Var) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if found {
			return false
		}
		if e, ok := n.(ast.Expr); ok {
			if c, ok := CCall(e); ok && c.Name == "free" && len(c.Args) == 1 && Var(info, c.Args[0]) == v {
				found = true
				return false
			}
		}
		return true
	})
	return found
}

// freesIn reports whether body releases v with a library deallocator or
// hands it to a Go function that frees it.
func (e *Env) freesIn(info *types.Info, body ast.Node, v *types.Var) bool {
	if e == nil {
		return false
	}
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if found {
			return false
		}
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		if c, ok := CCall(call); ok {
			for _, a := range c.Args {
				if Var(info, a) == v && e.CUse(info, c) == Free {
					found = true
				}
			}
			return !found
		}
		if e.GoArg != nil {
			for i, a := range call.Args {
				if Var(info, a) == v || (e.Holder && isAddrOf(info, a, v)) {
					if u, ok := e.GoArg(call, i); ok && u == Free {
						found = true
					}
				}
			}
		}
		return true
	})
	return found
}

func isAddrOf(info *types.Info, e ast.Expr, v *types.Var) bool {
	u, ok := unparen(Strip(info, e)).(*ast.UnaryExpr)
	return ok && u.Op == token.AND && Var(info, u.X) == v
}

// classifyIdent climbs from a use of v through conversions and cgo's
// temporaries to the construct that consumes it.
func classifyIdent(info *types.Info, id *ast.Ident, stack []ast.Node, v *types.Var, env *Env) Use {
	var child ast.Node = id
	for i := len(stack) - 1; i >= 0; i-- {
		p := stack[i]
		switch p := p.(type) {
		case *ast.ParenExpr:
			child = p
			continue
		case *ast.CallExpr:
			if tv, ok := info.Types[p.Fun]; ok && tv.IsType() {
				child = p // conversion
				continue
			}
			if p.Fun == child {
				return Read
			}
			if c, ok := CCall(p); ok {
				return env.CArgUse(info, c, argIndex(c, id))
			}
			if sel, ok := unparen(p.Fun).(*ast.SelectorExpr); ok {
				if _, ok := info.Uses[sel.Sel].(*types.Builtin); ok {
					// unsafe.Slice, unsafe.String, unsafe.Add: the result
					// aliases v, so what happens to it happens to v.
					child = p
					continue
				}
			}
			fn := Callee(info, p)
			if fn != nil && fn.Pkg() != nil {
				switch fn.Pkg().Path() + "." + fn.Name() {
				case "runtime.KeepAlive", "unsafe.Slice", "unsafe.String", "unsafe.SliceData", "unsafe.StringData", "unsafe.Add":
					return Read
				}
			}
			if b, ok := info.Uses[identOf(p.Fun)].(*types.Builtin); ok {
				switch b.Name() {
				case "len", "cap", "copy", "print", "println", "delete":
					return Read
				}
			}
			if env != nil && env.GoArg != nil {
				for i, a := range p.Args {
					if a == child {
						if u, ok := env.GoArg(p, i); ok {
							return u
						}
					}
				}
			}
			return Escape
		case *ast.AssignStmt:
			for _, l := range p.Lhs {
				if l == child {
					if isV(info, l, v) {
						return Assign
					}
					return Read // write through v: p.x = 1 reaches here via the selector
				}
			}
			// v is on the right: a cgo temporary keeps climbing to its closure.
			if len(p.Lhs) == 1 {
				if l, ok := p.Lhs[0].(*ast.Ident); ok && strings.HasPrefix(l.Name, "_cgo") {
					return tempUse(info, stack[:i], env, id)
				}
			}
			return Escape
		case *ast.ValueSpec:
			if len(p.Names) == 1 && strings.HasPrefix(p.Names[0].Name, "_cgo") {
				return tempUse(info, stack[:i], env, id)
			}
			return Escape
		case *ast.BinaryExpr:
			switch p.Op {
			case token.EQL, token.NEQ:
				return Compare
			}
			return Read
		case *ast.SelectorExpr, *ast.IndexExpr, *ast.StarExpr, *ast.SliceExpr:
			if x := xOf(p); x == child {
				// &v[i], &(*T)(v).f: an interior pointer aliases v; what
				// happens to it happens to v.
				if j := addrAbove(stack, i); j >= 0 {
					child = stack[j]
					i = j
					continue
				}
				if sel, ok := p.(*ast.SelectorExpr); ok && env != nil && env.Holder {
					if fv, ok := info.Uses[sel.Sel].(*types.Var); ok && fv.IsField() {
						child = p // a field of the holder: follow what holds the memory
						continue
					}
				}
				return Read // read or write through v
			}
			return Escape
		case *ast.UnaryExpr:
			if p.Op == token.AND {
				if env != nil && env.Holder {
					child = p // &holder stands for the holder
					continue
				}
				return Escape
			}
			child = p
			continue
		case *ast.ExprStmt, *ast.IfStmt, *ast.SwitchStmt:
			return Read
		default:
			return Escape
		}
	}
	return Read
}

// tempUse classifies a value held in one of cgo's temporaries by the C
// call of the closure that holds it (stack ends just above the temporary).
func tempUse(info *types.Info, stack []ast.Node, env *Env, id *ast.Ident) Use {
	for j := len(stack) - 1; j >= 0; j-- {
		if call, ok := stack[j].(*ast.CallExpr); ok {
			if c, ok := CCall(call); ok {
				return env.CArgUse(info, c, argIndex(c, id))
			}
		}
	}
	return Read
}

// argIndex returns the index of the argument of c that contains the
// identifier id, -1 if none does.
func argIndex(c *Call, id *ast.Ident) int {
	for i, a := range c.Args {
		if a.Pos() <= id.Pos() && id.End() <= a.End() {
			return i
		}
	}
	return -1
}

// addrAbove returns the index in stack of a & operator taking the address
// of stack[i] (through parentheses), or -1.
func addrAbove(stack []ast.Node, i int) int {
	for j := i - 1; j >= 0; j-- {
		switch p := stack[j].(type) {
		case *ast.ParenExpr:
			continue
		case *ast.UnaryExpr:
			if p.Op == token.AND {
				return j
			}
		}
		return -1
	}
	return -1
}

func xOf(n ast.Node) ast.Node {
	switch n := n.(type) {
	case *ast.SelectorExpr:
		return n.X
	case *ast.IndexExpr:
		return n.X
	case *ast.StarExpr:
		return n.X
	case *ast.SliceExpr:
		return n.X
	}
	return nil
}

func identOf(e ast.Expr) *ast.Ident {
	id, _ := unparen(e).(*ast.Ident)
	return id
}

func isV(info *types.Info, e ast.Expr, v *types.Var) bool {
	id, ok := unparen(e).(*ast.Ident)
	return ok && info.ObjectOf(id) == v
}
