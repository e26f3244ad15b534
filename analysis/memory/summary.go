package memory

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/cfg"

	"github.com/cgoguard/cgoguard/analysis/internal/cflow"
)

// Ownership is the fact the memory analyzer exports for a function or
// method: what it does with the C memory its callers hand it, and what C
// memory it hands back. Callers in the same package use it directly;
// callers in other packages see it when the driver propagates facts (go
// vet -vettool). Functions without a fact are assumed to take ownership of
// whatever they are given, so a missing fact never causes a finding.
type Ownership struct {
	// Params says, for each parameter of the signature, what the function
	// does with a pointer passed there: cflow.Free (it frees it, or the C
	// memory held in its fields, on every path), cflow.Read (it only
	// borrows it) or cflow.Escape (it keeps it, frees it on some paths
	// only, or hands it on); cflow.None for parameters that cannot hold a
	// pointer.
	Params []cflow.Use
	// Results names, for each result, the allocator of the fresh C memory
	// the function returns there ("CString", "malloc", ...), "" if none.
	Results []string
	// Fills lists the parameters (pointers to structs) into whose fields
	// the function stores fresh C memory for the caller to free.
	Fills []Fill
}

// Fill is a parameter whose fields receive fresh C memory.
type Fill struct {
	// Param is the index of the parameter.
	Param int
	// Alloc names the allocator ("CString", "malloc").
	Alloc string
	// Fields are the fields written.
	Fields []string
}

// AFact marks Ownership as a go/analysis fact.
func (*Ownership) AFact() {}

func (o *Ownership) String() string {
	var b strings.Builder
	b.WriteString("ownership(")
	for i, u := range o.Params {
		if i > 0 {
			b.WriteByte(' ')
		}
		if u == cflow.None {
			b.WriteByte('-')
			continue
		}
		b.WriteString(u.String())
	}
	b.WriteString(")")
	for i, r := range o.Results {
		if r != "" {
			fmt.Fprintf(&b, " result%d=%s", i, r)
		}
	}
	for _, f := range o.Fills {
		fmt.Fprintf(&b, " fills%d=%s%v", f.Param, f.Alloc, f.Fields)
	}
	return b.String()
}

// interesting reports whether o says more than the conservative default.
func (o *Ownership) interesting() bool {
	for _, u := range o.Params {
		if u != cflow.Escape && u != cflow.None {
			return true
		}
	}
	for _, r := range o.Results {
		if r != "" {
			return true
		}
	}
	return len(o.Fills) > 0
}

// summaries computes and caches the Ownership of the package's functions.
type summaries struct {
	s     *state
	decls map[*types.Func]*ast.FuncDecl
	memo  map[*types.Func]*Ownership
	busy  map[*types.Func]bool
}

func newSummaries(s *state, decls map[*types.Func]*ast.FuncDecl) *summaries {
	return &summaries{s: s, decls: decls, memo: map[*types.Func]*Ownership{}, busy: map[*types.Func]bool{}}
}

// of returns the Ownership of fn, nil when unknown.
func (ss *summaries) of(fn *types.Func) *Ownership {
	if fn == nil {
		return nil
	}
	fn = fn.Origin()
	if o, ok := ss.memo[fn]; ok {
		return o
	}
	if fn.Pkg() != ss.s.pass.Pkg {
		o := new(Ownership)
		if !ss.s.pass.ImportObjectFact(fn, o) {
			o = nil
		}
		ss.memo[fn] = o
		return o
	}
	d := ss.decls[fn]
	if d == nil || ss.busy[fn] {
		return nil // recursion or no body: unknown
	}
	ss.busy[fn] = true
	o := ss.compute(fn, d)
	delete(ss.busy, fn)
	ss.memo[fn] = o
	return o
}

// exportAll computes the summaries of every function of the package and
// exports those that say something.
func (ss *summaries) exportAll() {
	for fn := range ss.decls {
		if o := ss.of(fn); o != nil && o.interesting() {
			ss.s.pass.ExportObjectFact(fn, o)
		}
	}
}

// goArg answers cflow.Env.GoArg from the summaries: for a static call,
// the callee's; for a call of a method of an unexported interface of the
// package, the agreement of every implementation in the package.
func (ss *summaries) goArg(call *ast.CallExpr, i int) (cflow.Use, bool) {
	fn := cflow.Callee(ss.s.info, call)
	if fn == nil {
		return cflow.Escape, false
	}
	if sig, ok := fn.Type().(*types.Signature); ok && sig.Recv() != nil && types.IsInterface(sig.Recv().Type()) {
		return ss.interfaceArg(fn, i)
	}
	o := ss.of(fn)
	if o == nil {
		return cflow.Escape, false
	}
	return paramUse(o, i), true
}

func paramUse(o *Ownership, i int) cflow.Use {
	if len(o.Params) == 0 {
		return cflow.Escape
	}
	if i >= len(o.Params) {
		i = len(o.Params) - 1 // variadic
	}
	if o.Params[i] == cflow.None {
		return cflow.Escape
	}
	return o.Params[i]
}

// interfaceArg combines the summaries of the implementations of the
// interface method m found in the package. Exported interfaces, and
// interfaces of other packages, may have implementations elsewhere: they
// are unknown.
func (ss *summaries) interfaceArg(m *types.Func, i int) (cflow.Use, bool) {
	recv := m.Type().(*types.Signature).Recv().Type()
	named, ok := types.Unalias(recv).(*types.Named)
	if !ok || named.Obj().Pkg() != ss.s.pass.Pkg || named.Obj().Exported() {
		return cflow.Escape, false
	}
	iface, _ := named.Underlying().(*types.Interface)
	if iface == nil {
		return cflow.Escape, false
	}
	var uses []cflow.Use
	scope := ss.s.pass.Pkg.Scope()
	for _, name := range scope.Names() {
		tn, ok := scope.Lookup(name).(*types.TypeName)
		if !ok || tn.IsAlias() || types.IsInterface(tn.Type()) {
			continue
		}
		for _, t := range []types.Type{tn.Type(), types.NewPointer(tn.Type())} {
			if !types.Implements(t, iface) {
				continue
			}
			obj, _, _ := types.LookupFieldOrMethod(t, true, ss.s.pass.Pkg, m.Name())
			impl, ok := obj.(*types.Func)
			if !ok {
				return cflow.Escape, false
			}
			o := ss.of(impl)
			if o == nil {
				return cflow.Escape, false
			}
			uses = append(uses, paramUse(o, i))
			break
		}
	}
	if len(uses) == 0 {
		return cflow.Escape, false
	}
	for _, u := range uses[1:] {
		if u != uses[0] {
			return cflow.Escape, true
		}
	}
	return uses[0], true
}

// compute derives the Ownership of a function of the package from its
// body.
func (ss *summaries) compute(fn *types.Func, d *ast.FuncDecl) *Ownership {
	s := ss.s
	sig := fn.Type().(*types.Signature)
	o := &Ownership{Params: make([]cflow.Use, sig.Params().Len()), Results: make([]string, sig.Results().Len())}
	g := s.cfgs.FuncDecl(d)
	for i := range o.Params {
		p := sig.Params().At(i)
		if !holdsPointers(p.Type()) {
			o.Params[i] = cflow.None
			continue
		}
		o.Params[i] = cflow.Escape
		if g == nil {
			continue
		}
		o.Params[i] = ss.paramUse(g, d.Body, p, isHolder(p.Type()))
	}
	ss.results(d, o)
	ss.fills(d, sig, o)
	return o
}

// holdsPointers reports types a caller may pass C memory in: pointers,
// unsafe.Pointer, and structs (whose fields may hold it).
func holdsPointers(t types.Type) bool {
	switch u := t.Underlying().(type) {
	case *types.Pointer:
		return true
	case *types.Basic:
		return u.Kind() == types.UnsafePointer
	case *types.Struct:
		return true
	}
	return false
}

// isHolder reports a struct, or a pointer to one: a value whose fields may
// hold C memory.
func isHolder(t types.Type) bool {
	if p, ok := t.Underlying().(*types.Pointer); ok {
		t = p.Elem()
	}
	_, ok := t.Underlying().(*types.Struct)
	return ok
}

// paramUse walks every path from the function's entry and classifies
// what happens to parameter p.
func (ss *summaries) paramUse(g *cfg.CFG, body *ast.BlockStmt, p *types.Var, holder bool) cflow.Use {
	s := ss.s
	env := s.envFor(holder)
	freed, escaped := false, false
	mentions := func(n ast.Node) bool { return cflow.Mentions(s.info, n, p) }
	w := &cflow.Walker{
		Step: func(n ast.Node) cflow.Step {
			if !mentions(n) {
				return cflow.Next
			}
			switch cflow.Classify(s.info, n, p, env) {
			case cflow.Free:
				freed = true
				return cflow.Done
			case cflow.Escape, cflow.Assign:
				escaped = true
				return cflow.Done
			}
			return cflow.Next
		},
		Branch: s.nilBranch(p),
		Dead:   s.dead,
	}
	if len(g.Blocks) == 0 {
		return cflow.Read
	}
	_, leaks := w.From(g.Blocks[0], -1)
	switch {
	case freed && !escaped && !leaks:
		return cflow.Free
	case freed || escaped:
		return cflow.Escape
	}
	return cflow.Read
}

// results records the results that always hold fresh C memory.
func (ss *summaries) results(d *ast.FuncDecl, o *Ownership) {
	if len(o.Results) == 0 {
		return
	}
	seen := make([]string, len(o.Results))
	bad := make([]bool, len(o.Results))
	cflow.Inspect(d.Body, func(n ast.Node) bool {
		ret, ok := n.(*ast.ReturnStmt)
		if !ok || len(ret.Results) != len(o.Results) {
			return true
		}
		for i, r := range ret.Results {
			if ss.s.isNil(r) {
				continue
			}
			a := ss.fresh(d.Body, r)
			switch {
			case a == "":
				bad[i] = true
			case seen[i] == "":
				seen[i] = a
			case seen[i] != a:
				bad[i] = true
			}
		}
		return true
	})
	for i := range o.Results {
		if !bad[i] {
			o.Results[i] = seen[i]
		}
	}
}

// fresh names the allocator of the fresh C memory e evaluates to in body:
// a C allocation, the result of a function that returns fresh memory, or
// a local variable only ever assigned one of those and never freed.
func (ss *summaries) fresh(body *ast.BlockStmt, e ast.Expr) string {
	s := ss.s
	e = cflow.Strip(s.info, e)
	if a := ss.freshCall(e); a != "" {
		return a
	}
	v := cflow.Var(s.info, e)
	if v == nil || !isLocal(v, body) || cflow.FreesIn(s.info, body, v) || ss.handedOn(body, v) {
		return ""
	}
	alloc := ""
	ok := true
	ast.Inspect(body, func(n ast.Node) bool {
		var rhs ast.Expr
		switch a := n.(type) {
		case *ast.AssignStmt:
			if len(a.Lhs) != len(a.Rhs) {
				for _, l := range a.Lhs {
					if cflow.Var(s.info, l) == v {
						ok = false
					}
				}
				return true
			}
			for i, l := range a.Lhs {
				if id, isID := l.(*ast.Ident); isID && s.info.ObjectOf(id) == v {
					rhs = a.Rhs[i]
				}
			}
		case *ast.ValueSpec:
			for i, id := range a.Names {
				if s.info.Defs[id] == v && i < len(a.Values) {
					rhs = a.Values[i]
				}
			}
		case *ast.UnaryExpr:
			if a.Op == token.AND && cflow.Var(s.info, a.X) == v {
				ok = false // filled through a pointer: unknown
			}
		}
		if rhs == nil || s.isNil(rhs) {
			return true
		}
		switch f := ss.freshCall(cflow.Strip(s.info, rhs)); {
		case f == "":
			ok = false
		case alloc == "":
			alloc = f
		case alloc != f:
			ok = false
		}
		return true
	})
	if !ok {
		return ""
	}
	return alloc
}

// handedOn reports whether a statement of body other than a return hands
// v to someone else (a registry map, a field, a Go function): the memory
// is then not the caller's alone to free.
func (ss *summaries) handedOn(body *ast.BlockStmt, v *types.Var) bool {
	s := ss.s
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if found {
			return false
		}
		switch st := n.(type) {
		case *ast.ReturnStmt, *ast.FuncLit:
			return false
		case *ast.ExprStmt, *ast.AssignStmt, *ast.DeferStmt, *ast.GoStmt, *ast.SendStmt:
			if cflow.Mentions(s.info, st, v) && cflow.Classify(s.info, st, v, s.env) == cflow.Escape {
				found = true
			}
			return false
		}
		return true
	})
	return found
}

// freshCall names the allocator when e is a call that returns fresh C
// memory: cgo's C.CString, C.CBytes, C.malloc, C.calloc, C.strdup... or
// a function whose Ownership says so.
func (ss *summaries) freshCall(e ast.Expr) string {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok {
		return ""
	}
	if c, ok := cflow.CCall(call); ok {
		switch c.Name {
		case "CString", "CBytes", "malloc", "calloc", "strdup", "strndup":
			return c.Name
		}
		return ""
	}
	if o := ss.of(cflow.Callee(ss.s.info, call)); o != nil && len(o.Results) > 0 {
		return o.Results[0]
	}
	return ""
}

// fills records the struct parameters into whose fields the function
// stores fresh C memory without freeing it.
func (ss *summaries) fills(d *ast.FuncDecl, sig *types.Signature, o *Ownership) {
	s := ss.s
	for i := range sig.Params().Len() {
		p := sig.Params().At(i)
		if !isHolder(p.Type()) || o.Params[i] == cflow.Free {
			continue
		}
		var fields []string
		alloc := ""
		cflow.Inspect(d.Body, func(n ast.Node) bool {
			a, ok := n.(*ast.AssignStmt)
			if !ok || len(a.Lhs) != len(a.Rhs) {
				return true
			}
			for j, l := range a.Lhs {
				sel, ok := ast.Unparen(l).(*ast.SelectorExpr)
				if !ok || cflow.Var(s.info, sel.X) != p {
					continue
				}
				if f := ss.freshCall(cflow.Strip(s.info, a.Rhs[j])); f != "" {
					fields = append(fields, sel.Sel.Name)
					if alloc == "" || f == "CString" {
						alloc = f
					}
				}
			}
			return true
		})
		if len(fields) > 0 {
			o.Fills = append(o.Fills, Fill{Param: i, Alloc: alloc, Fields: fields})
		}
	}
}
