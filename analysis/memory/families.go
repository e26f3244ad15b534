package memory

import (
	"go/ast"
	"go/token"
	"go/types"
	"regexp"
	"strings"

	"golang.org/x/tools/go/cfg"

	"github.com/cgoguard/cgoguard/analysis/internal/cflow"
	"github.com/cgoguard/cgoguard/analysis/internal/cgoast"
)

// noteGoVar records locals that n assigns Go memory to.
func (s *state) noteGoVar(n ast.Node) {
	a, ok := n.(*ast.AssignStmt)
	if !ok || len(a.Lhs) != len(a.Rhs) {
		return
	}
	for i, l := range a.Lhs {
		if v := cflow.Var(s.info, l); v != nil {
			if s.goMemory(a.Rhs[i]) {
				s.goVars[v] = true
			} else if a.Tok == token.ASSIGN {
				delete(s.goVars, v)
			}
		}
	}
}

// goMemory reports whether e is a pointer into memory the Go allocator
// owns: &x of a Go variable or composite literal, &s[i] or
// unsafe.SliceData(s) of a slice made in Go, new(T), make(...). A slice of
// unknown origin may view C memory (unsafe.Slice over a C pointer) and
// does not count.
func (s *state) goMemory(e ast.Expr) bool {
	switch e := ast.Unparen(e).(type) {
	case *ast.UnaryExpr:
		if e.Op != token.AND {
			return false
		}
		switch x := ast.Unparen(e.X).(type) {
		case *ast.IndexExpr:
			if _, isSlice := cgoast.Under(s.info.TypeOf(x.X)).(*types.Slice); isSlice {
				return s.goSlice(x.X)
			}
			return cgoast.IsGoMemory(s.info, x)
		case *ast.SelectorExpr:
			return cgoast.IsGoMemory(s.info, x)
		}
		return true
	case *ast.CallExpr:
		if cflow.IsFunc(s.info, e, "unsafe", "SliceData") && len(e.Args) == 1 {
			return s.goSlice(e.Args[0])
		}
		if cflow.IsFunc(s.info, e, "unsafe", "StringData") {
			return true
		}
		if id, ok := ast.Unparen(e.Fun).(*ast.Ident); ok {
			if _, ok := s.info.Uses[id].(*types.Builtin); ok && (id.Name == "new" || id.Name == "make") {
				return true
			}
		}
	case *ast.CompositeLit:
		return true
	}
	return false
}

// goSlice reports a slice made by Go: a composite literal, make, or a
// local assigned one.
func (s *state) goSlice(e ast.Expr) bool {
	switch x := ast.Unparen(e).(type) {
	case *ast.CompositeLit:
		return true
	case *ast.CallExpr:
		return s.goMemory(x)
	}
	return s.goVars[cflow.Var(s.info, e)]
}

// releaseArg returns the pointer a release call c releases: its only
// argument, or the last for deallocators that also take the library
// handle (rd_kafka_mem_free(rk, p)).
func releaseArg(c *cflow.Call) ast.Expr {
	if len(c.Args) == 0 {
		return nil
	}
	return c.Args[len(c.Args)-1]
}

// wrongAllocator reports memory released by an allocator other than the
// one it came from (CG014): C.free of Go memory, C.free of memory a
// library allocated (rocksdb_property_value's result), or a library's
// deallocator given C allocator memory (SDL_free of a C.CString).
func (s *state) wrongAllocator(n ast.Node, body *ast.BlockStmt) {
	cflow.Inspect(n, func(m ast.Node) bool {
		e, ok := m.(ast.Expr)
		if !ok {
			return true
		}
		c, ok := cflow.CCall(e)
		if !ok {
			return true
		}
		fam, ok := s.lib.Dealloc(c.Name)
		if !ok || (c.Name == "free" && len(c.Args) != 1) {
			return true
		}
		arg := cflow.Strip(s.info, releaseArg(c))
		if c.Name == "free" && (s.goMemory(arg) || s.goVars[cflow.Var(s.info, arg)]) {
			s.r.Report(c.Expr, "CG014", "C.free of Go memory (%s): only memory from the C allocator may be freed with C.free", types.ExprString(arg))
			return false
		}
		vf, from := s.valueFamily(arg, body)
		if vf == "" || vf == fam {
			return false
		}
		s.r.Report(c.Expr, "CG014", "%s holds memory from %s (%s) but is released with C.%s; release it with C.%s",
			cgoast.Format(s.pass.Fset, arg), from, cgoast.FamilyName(vf), c.Name, s.lib.DeallocOf(vf))
		return false
	})
}

// valueFamily returns the allocator family of the memory e points to, and
// where it came from, when that is known: a C call's result, a field
// whose every assignment in the package is of one family, or a local
// variable whose every value in body (assigned, or written through &v by a
// C function) is of one family.
func (s *state) valueFamily(e ast.Expr, body *ast.BlockStmt) (family, from string) {
	e = cflow.Strip(s.info, e)
	if fam, from := s.callFamily(e); fam != "" {
		return fam, from
	}
	if sel, ok := ast.Unparen(e).(*ast.SelectorExpr); ok {
		if fv, ok := s.info.Uses[sel.Sel].(*types.Var); ok && fv.IsField() {
			if fam := s.fields[fv]; fam != "" {
				return fam, "the assignments to field " + fv.Name()
			}
		}
		return "", ""
	}
	v := cflow.Var(s.info, e)
	if v == nil || !isLocal(v, body) {
		return "", ""
	}
	mixed := false
	note := func(fam, f string) {
		switch {
		case fam == "":
			mixed = true
		case family == "":
			family, from = fam, f
		case family != fam:
			mixed = true
		}
	}
	ast.Inspect(body, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.AssignStmt:
			if len(x.Lhs) != len(x.Rhs) {
				for _, l := range x.Lhs {
					if cflow.Var(s.info, l) == v && isIdent(l) {
						// r, err := C.f(): the errno form
						if len(x.Rhs) == 1 {
							note(s.callFamily(cflow.Strip(s.info, x.Rhs[0])))
						} else {
							mixed = true
						}
					}
				}
				return true
			}
			for i, l := range x.Lhs {
				if isIdent(l) && cflow.Var(s.info, l) == v && !s.isNil(x.Rhs[i]) {
					note(s.callFamily(cflow.Strip(s.info, x.Rhs[i])))
				}
			}
		case *ast.ValueSpec:
			for i, id := range x.Names {
				if s.info.Defs[id] == v && i < len(x.Values) && !s.isNil(x.Values[i]) {
					note(s.callFamily(cflow.Strip(s.info, x.Values[i])))
				}
			}
		case *ast.CallExpr:
			c, ok := cflow.CCall(x)
			if !ok {
				if cflow.Callee(s.info, x) != nil || !isConversion(s.info, x) {
					for _, a := range x.Args {
						if isAddrOfVar(s.info, a, v) {
							mixed = true // filled by Go code
						}
					}
				}
				return true
			}
			for _, a := range c.Args {
				if isAddrOfVar(s.info, a, v) {
					note(s.lib.Family(c.Name), "C."+c.Name)
				}
			}
		}
		return true
	})
	if mixed {
		return "", ""
	}
	return family, from
}

func isIdent(e ast.Expr) bool {
	_, ok := ast.Unparen(e).(*ast.Ident)
	return ok
}

func isConversion(info *types.Info, call *ast.CallExpr) bool {
	tv, ok := info.Types[call.Fun]
	return ok && tv.IsType()
}

// isAddrOfVar reports whether e (conversions removed) is &v.
func isAddrOfVar(info *types.Info, e ast.Expr, v *types.Var) bool {
	u, ok := ast.Unparen(cflow.Strip(info, e)).(*ast.UnaryExpr)
	return ok && u.Op == token.AND && cflow.Var(info, u.X) == v
}

// callFamily returns the family of the memory the call e returns, when e
// is a C call of a known family or a Go function returning fresh C memory.
func (s *state) callFamily(e ast.Expr) (string, string) {
	if c, ok := cflow.CCall(e); ok {
		if fam := s.lib.Family(c.Name); fam != "" {
			return fam, "C." + c.Name
		}
		return "", ""
	}
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok {
		return "", ""
	}
	if fn := cflow.Callee(s.info, call); fn != nil {
		if o := s.sums.of(fn); o != nil && len(o.Results) > 0 && o.Results[0] != "" {
			return cgoast.LibC, fn.Name()
		}
	}
	return "", ""
}

// fieldFamilies returns, for each field of the package assigned C memory,
// the family of what it holds: the assignments (x.f = C.malloc(n)) and
// composite literals (T{f: C.CString(s)}) of the package must agree; a
// field assigned anything else is left out.
func (s *state) fieldFamilies() map[*types.Var]string {
	out := map[*types.Var]string{}
	mixed := map[*types.Var]bool{}
	note := func(f *types.Var, rhs ast.Expr) {
		if s.isNil(rhs) {
			return
		}
		fam, _ := s.callFamily(cflow.Strip(s.info, rhs))
		switch {
		case fam == "":
			mixed[f] = true
		case out[f] == "":
			out[f] = fam
		case out[f] != fam:
			mixed[f] = true
		}
	}
	for _, file := range cgoast.UserFiles(s.pass.Files) {
		ast.Inspect(file, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.AssignStmt:
				if len(x.Lhs) != len(x.Rhs) {
					return true
				}
				for i, l := range x.Lhs {
					if sel, ok := ast.Unparen(l).(*ast.SelectorExpr); ok {
						if fv, ok := s.info.Uses[sel.Sel].(*types.Var); ok && fv.IsField() {
							note(fv, x.Rhs[i])
						}
					}
				}
			case *ast.KeyValueExpr:
				if id, ok := x.Key.(*ast.Ident); ok {
					if fv, ok := s.info.Uses[id].(*types.Var); ok && fv.IsField() {
						note(fv, x.Value)
					}
				}
			}
			return true
		})
	}
	for f := range mixed {
		delete(out, f)
	}
	return out
}

// containers reports C allocations stored in the elements of a local
// slice or array that nothing frees (CG013, CG014): no element is freed
// (in a loop, a deferred closure...), and the container is not handed on.
func (s *state) containers(body *ast.BlockStmt) {
	type store struct {
		at    ast.Node
		alloc string
	}
	stores := map[*types.Var][]store{}
	var order []*types.Var
	cflow.Inspect(body, func(n ast.Node) bool {
		a, ok := n.(*ast.AssignStmt)
		if !ok || len(a.Lhs) != len(a.Rhs) {
			return true
		}
		for i, l := range a.Lhs {
			ix, ok := ast.Unparen(l).(*ast.IndexExpr)
			if !ok {
				continue
			}
			v := cflow.Var(s.info, ix.X)
			if v == nil || !isLocal(v, body) {
				continue
			}
			switch cgoast.Under(v.Type()).(type) {
			case *types.Slice, *types.Array:
			default:
				continue
			}
			st, ok := s.allocation(a.Rhs[i])
			if !ok {
				continue
			}
			if stores[v] == nil {
				order = append(order, v)
			}
			stores[v] = append(stores[v], store{at: st.at, alloc: st.alloc})
		}
		return true
	})
	for _, v := range order {
		if s.containerReleased(body, v) {
			continue
		}
		for _, st := range stores[v] {
			rule, what, _ := allocKind(st.alloc)
			if rule == "" {
				rule, what = "CG014", st.alloc
			}
			s.r.Report(st.at, rule, "%s results stored in the elements of %s are never freed", what, v.Name())
		}
	}
}

// containerReleased reports whether body frees an element of v (directly
// or through a range variable), or hands v on.
func (s *state) containerReleased(body *ast.BlockStmt, v *types.Var) bool {
	ranged := map[*types.Var]bool{} // range value variables over v
	ast.Inspect(body, func(n ast.Node) bool {
		if r, ok := n.(*ast.RangeStmt); ok && cflow.Var(s.info, r.X) == v && r.Value != nil {
			if w := cflow.Var(s.info, r.Value); w != nil {
				ranged[w] = true
			}
		}
		return true
	})
	released := false
	var stack []ast.Node
	ast.Inspect(body, func(n ast.Node) bool {
		if released {
			return false
		}
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		stack = append(stack, n)
		if call, ok := n.(*ast.CallExpr); ok {
			if c, ok := cflow.CCall(call); ok && s.env.CUse(s.info, c) != cflow.Read {
				for _, a := range c.Args {
					a = cflow.Strip(s.info, a)
					if ix, ok := ast.Unparen(a).(*ast.IndexExpr); ok && cflow.Var(s.info, ix.X) == v {
						released = true
					}
					if w := cflow.Var(s.info, a); w != nil && ranged[w] {
						released = true
					}
				}
			}
		}
		id, ok := n.(*ast.Ident)
		if !ok || s.info.Uses[id] != v || len(stack) < 2 {
			return true
		}
		switch p := stack[len(stack)-2].(type) {
		case *ast.ReturnStmt, *ast.CompositeLit, *ast.KeyValueExpr, *ast.SendStmt:
			released = true // handed on
		case *ast.AssignStmt:
			for _, r := range p.Rhs {
				if r == id {
					released = true
				}
			}
		case *ast.UnaryExpr:
			if p.Op == token.AND && !inCgoTemp(stack[:len(stack)-2]) {
				released = true
			}
		case *ast.CallExpr:
			if p.Fun == id {
				break
			}
			if _, isC := cflow.CCall(p); isC {
				break
			}
			if b, ok := s.info.Uses[identOf(p.Fun)].(*types.Builtin); ok {
				switch b.Name() {
				case "len", "cap", "append", "copy":
					return true
				}
			}
			if tv, ok := s.info.Types[p.Fun]; ok && tv.IsType() {
				break
			}
			released = true // passed to Go code
		}
		return true
	})
	return released
}

// inCgoTemp reports whether the innermost node of stack assigns one of
// cmd/cgo's temporaries (_cgoIndex0 := &s for an argument &s[0]).
func inCgoTemp(stack []ast.Node) bool {
	if len(stack) == 0 {
		return false
	}
	switch p := stack[len(stack)-1].(type) {
	case *ast.AssignStmt:
		if len(p.Lhs) == 1 {
			if id, ok := p.Lhs[0].(*ast.Ident); ok && cgoast.IsTemp(id.Name) {
				return true
			}
		}
	case *ast.ValueSpec:
		return len(p.Names) == 1 && cgoast.IsTemp(p.Names[0].Name)
	}
	return false
}

func identOf(e ast.Expr) *ast.Ident {
	id, _ := ast.Unparen(e).(*ast.Ident)
	return id
}

// deferredEarly reports a deferred release whose argument is evaluated
// when the defer runs, before the variable receives the memory it is
// meant to release (CG013, CG014): var msg *C.char; defer
// C.sqlite3_free(msg); C.sqlite3_f(&msg). The deferred call frees the old
// value (often nil) and the new memory leaks.
func (s *state) deferredEarly(g *cfg.CFG, body *ast.BlockStmt) {
	for _, b := range g.Blocks {
		for i, n := range b.Nodes {
			d, ok := n.(*ast.DeferStmt)
			if !ok {
				continue
			}
			c, ok := cflow.CCall(d.Call)
			if !ok {
				continue
			}
			fam, ok := s.lib.Dealloc(c.Name)
			if !ok || fam == "" {
				continue
			}
			v := cflow.Var(s.info, releaseArg(c))
			if v == nil || !isLocal(v, body) {
				continue
			}
			s.deferredEarlyFrom(b, i, d, c, v, fam)
		}
	}
}

func (s *state) deferredEarlyFrom(b *cfg.Block, i int, d *ast.DeferStmt, c *cflow.Call, v *types.Var, fam string) {
	var what string
	var line int
	w := &cflow.Walker{
		Step: func(n ast.Node) cflow.Step {
			if !cflow.Mentions(s.info, n, v) {
				return cflow.Next
			}
			if a, ok := n.(*ast.AssignStmt); ok && len(a.Lhs) == len(a.Rhs) {
				for j, l := range a.Lhs {
					if !isIdent(l) || cflow.Var(s.info, l) != v {
						continue
					}
					if st, ok := s.allocation(a.Rhs[j]); ok && fam == cgoast.LibC {
						what, line = st.alloc, s.pass.Fset.Position(a.Pos()).Line
						return cflow.Fail
					}
					if f, from := s.callFamily(cflow.Strip(s.info, a.Rhs[j])); f == fam && f != cgoast.LibC {
						what, line = strings.TrimPrefix(from, "C."), s.pass.Fset.Position(a.Pos()).Line
						return cflow.Fail
					}
					return cflow.Done // replaced by something else
				}
			}
			found := cflow.Done
			cflow.Inspect(n, func(m ast.Node) bool {
				if found == cflow.Fail {
					return false
				}
				call, ok := m.(*ast.CallExpr)
				if !ok {
					return true
				}
				cc, ok := cflow.CCall(call)
				if !ok {
					return true
				}
				for _, a := range cc.Args {
					if isAddrOfVar(s.info, a, v) && s.lib.Family(cc.Name) == fam {
						what, line = cc.Name, s.pass.Fset.Position(call.Pos()).Line
						found = cflow.Fail
					}
				}
				return true
			})
			if found == cflow.Fail {
				return cflow.Fail
			}
			return cflow.Next
		},
	}
	if m, bad := w.From(b, i); !bad || m == nil {
		return
	}
	rule := "CG014"
	if what == "CString" || what == "CBytes" {
		rule = "CG013"
	}
	s.r.Report(d, rule, "defer C.%s(%s) evaluates %s when the defer statement runs; the memory C.%s stores in %s at line %d is never freed (free it after it is set, or defer a closure)",
		c.Name, v.Name(), v.Name(), what, v.Name(), line)
}

// inferOwners adds to the owners the C functions of the package's own C
// code that free a parameter, or hand it to another call together with a
// destructor (free, a library's deallocator): void result_text(ctx *c,
// const char *s, int n) { lib_result(c, s, n, free); } takes ownership of
// s.
func (s *state) inferOwners() {
	for _, src := range cgoast.CSources(s.pass) {
		for _, f := range cgoast.CFuncs(src.Code) {
			params := map[string]int{} // pointer parameters by name → index
			data := map[int]bool{}     // those pointing to bytes or void
			for i, p := range strings.Split(f.Params, ",") {
				if ids := cIdent.FindAllString(p, -1); len(ids) > 1 && strings.Contains(p, "*") {
					params[ids[len(ids)-1]] = i
					data[i] = dataPointer(ids[:len(ids)-1])
				}
			}
			if len(params) == 0 {
				continue
			}
			for _, m := range cCall.FindAllStringSubmatchIndex(f.Body, -1) {
				callee := f.Body[m[2]:m[3]]
				args, _ := cgoast.CallArgs(f.Body, m[1]-1)
				if _, ok := s.lib.Dealloc(callee); ok {
					// free(p) of a parameter: the function releases it.
					for _, a := range args {
						if i, ok := params[strings.TrimLeft(stripCasts(a), "&")]; ok {
							s.ownArg(f.Name, i)
						}
					}
					continue
				}
				destructor := false
				var passed []int
				for _, a := range args {
					name := strings.TrimLeft(stripCasts(a), "&")
					i, isParam := params[name]
					if _, ok := s.lib.Dealloc(name); ok || (!isParam && cIdent.MatchString(name) && cflow.IsRelease(name)) {
						destructor = true
					}
					if isParam && data[i] {
						// The data handed over (const char *s, void *buf),
						// not the context it is handed to.
						passed = append(passed, i)
					}
				}
				if destructor {
					for _, i := range passed {
						s.ownArg(f.Name, i)
					}
				}
			}
		}
	}
}

// dataPointer reports a C parameter type (its identifiers) that points to
// bytes or to void: the data a call with a destructor hands over.
func dataPointer(typeIdents []string) bool {
	for _, id := range typeIdents {
		switch id {
		case "const", "volatile", "restrict", "unsigned", "signed":
			continue
		case "char", "void", "uint8_t", "int8_t", "u_char", "uchar", "byte", "gchar", "guchar", "gpointer", "gconstpointer":
			return true
		}
		return false
	}
	return false
}

// ownArg records that the C function name takes ownership of argument i.
func (s *state) ownArg(name string, i int) {
	if s.owned[name] == nil {
		s.owned[name] = map[int]bool{}
	}
	s.owned[name][i] = true
}

var (
	cIdent = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)
	cCall  = regexp.MustCompile(`\b([A-Za-z_][A-Za-z0-9_]*)\s*\(`)
	cCast  = regexp.MustCompile(`^\(\s*[A-Za-z_][A-Za-z0-9_\s\*]*\)\s*`)
)

// stripCasts removes leading C casts and spaces: "(void (*)(void*))free"
// is reduced as far as a simple cast goes; "(char *)s" becomes "s".
func stripCasts(a string) string {
	a = strings.TrimSpace(a)
	for {
		b := cCast.ReplaceAllString(a, "")
		if b == a {
			break
		}
		a = strings.TrimSpace(b)
	}
	if i := strings.LastIndex(a, ")"); i >= 0 && strings.HasPrefix(a, "(") {
		a = strings.TrimSpace(a[i+1:]) // a function-pointer cast
	}
	return a
}
