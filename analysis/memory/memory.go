package memory

import (
	"go/ast"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/ctrlflow"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/cfg"

	"github.com/cgoguard/cgoguard/analysis/internal/cflow"
	"github.com/cgoguard/cgoguard/analysis/internal/cgoast"
	"github.com/cgoguard/cgoguard/analysis/internal/diag"
)

// URL is the documentation of the rules this analyzer checks; each rule
// has its own page, CG012.md to CG018.md, beside it.
const URL = diag.BaseURL + "CG013.md"

// Analyzer checks the memory rules CG012 to CG018.
var Analyzer = &analysis.Analyzer{
	Name:       "memory",
	Doc:        Doc,
	URL:        URL,
	Run:        run,
	Requires:   []*analysis.Analyzer{inspect.Analyzer, ctrlflow.Analyzer},
	ResultType: diag.ResultType,
	FactTypes:  []analysis.Fact{new(Ownership)},
}

// builtinOwners are C functions that keep the memory passed to them: the
// caller must not free it.
const builtinOwners = "putenv"

// owns is the -owns flag: C functions that take ownership of the memory
// passed to them, comma separated (default: none).
var owns string

func init() {
	Analyzer.Flags.StringVar(&owns, "owns", "",
		"comma-separated C functions that take ownership of the pointers passed to them (also: //cgoguard:owns NAME comments)")
}

// state is one run over one package.
type state struct {
	pass   *analysis.Pass
	r      *diag.Reporter
	info   *types.Info
	cfgs   *ctrlflow.CFGs
	owners cflow.Owners
	lib    *cgoast.Lib
	sums   *summaries
	env    *cflow.Env              // for plain pointers
	fields map[*types.Var]string   // allocator family of what each field holds; "" when mixed
	owned  map[string]map[int]bool // C functions of the package that own argument i

	reported map[ast.Node]bool
	// mentions holds, for each CFG node of the function being checked,
	// the variables it references: path walks skip the nodes that do not
	// mention theirs without classifying them.
	mentions map[ast.Node]map[*types.Var]bool
	// viewCache holds the unsafe.Slice/String views of each variable.
	viewCache map[*types.Var]map[*types.Var]bool
	ptrIndex  *pointerIndex
	goVars    map[*types.Var]bool // locals holding new(T), make(...) or &x
	originals map[string]origFile
}

func run(pass *analysis.Pass) (any, error) {
	s := &state{
		pass:   pass,
		r:      diag.New(pass),
		info:   pass.TypesInfo,
		cfgs:   pass.ResultOf[ctrlflow.Analyzer].(*ctrlflow.CFGs),
		owners: cflow.OwnersFromComments(pass.Files, owns),
		lib:    cgoast.NewLib(pass),
		owned:  map[string]map[int]bool{},

		reported:  map[ast.Node]bool{},
		goVars:    map[*types.Var]bool{},
		originals: map[string]origFile{},
	}
	s.owners.Add(builtinOwners)
	s.inferOwners()
	s.sums = newSummaries(s, cflow.Decls(s.info, cgoast.UserFiles(pass.Files)))
	s.env = s.envFor(false)
	s.fields = s.fieldFamilies()
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	gen := cflow.InGenerated(pass.Fset, pass.Files)
	ins.Preorder([]ast.Node{(*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)}, func(n ast.Node) {
		if gen(n.Pos()) {
			return
		}
		var g *cfg.CFG
		var body *ast.BlockStmt
		switch fn := n.(type) {
		case *ast.FuncDecl:
			if fn.Body == nil {
				return
			}
			g, body = s.cfgs.FuncDecl(fn), fn.Body
		case *ast.FuncLit:
			if cflow.IsCgoClosure(fn) {
				return
			}
			g, body = s.cfgs.FuncLit(fn), fn.Body
		}
		if g != nil {
			s.function(g, body)
		}
	})
	s.deferInLoop(ins, gen)
	s.closeAndFinalizer()
	s.sums.exportAll()
	return s.r.Result(), nil
}

// envFor returns what Classify needs to know about the calls a pointer
// (holder false) or a struct holding C memory (holder true) meets.
func (s *state) envFor(holder bool) *cflow.Env {
	return &cflow.Env{
		Owners:     s.owners,
		OwnsArg:    func(name string, i int) bool { return s.owned[name][i] },
		Dealloc:    s.lib.IsLibDealloc,
		Destructor: s.isDestructor,
		GoArg:      s.sums.goArg,
		Holder:     holder,
	}
}

// isDestructor reports C functions that, given to a C call as a
// function pointer, release what the call is handed.
func (s *state) isDestructor(name string) bool {
	if _, ok := s.lib.Dealloc(name); ok {
		return true
	}
	return cflow.IsRelease(name)
}

// allocKind names the rule an allocating C helper belongs to.
func allocKind(name string) (rule, what string, ok bool) {
	switch name {
	case "CString":
		return "CG013", "C.CString", true
	case "CBytes":
		return "CG013", "C.CBytes", true
	case "malloc":
		return "CG014", "C.malloc", true
	case "calloc":
		return "CG014", "C.calloc", true
	case "strdup", "strndup":
		return "CG014", "C." + name, true
	}
	return "", "", false
}

// site is an allocation assigned to a local variable, or a call that
// stores allocations in the fields of a local struct (holder).
type site struct {
	alloc  string      // the allocator: "CString", "malloc", ...
	call   *cflow.Call // the C allocation, nil for helpers
	at     ast.Node    // where to report
	v      *types.Var
	node   ast.Node // the statement that assigns it
	block  *cfg.Block
	index  int
	assign *ast.AssignStmt
	via    string   // the Go function that allocated it, for helpers and holders
	holder bool     // v's fields hold the allocations
	fields []string // the fields, for holders
}

// function checks one function body (not the literals inside it).
func (s *state) function(g *cfg.CFG, body *ast.BlockStmt) {
	var sites []site
	frees := map[*types.Var][]ast.Node{} // explicit and deferred frees
	s.mentions = map[ast.Node]map[*types.Var]bool{}
	s.viewCache = nil
	for _, b := range g.Blocks {
		for i, n := range b.Nodes {
			s.index(n)
			s.noteGoVar(n)
			s.inline(n)
			s.wrongAllocator(n, body)
			// Allocation assigned to a variable.
			if a, ok := n.(*ast.AssignStmt); ok && len(a.Lhs) == 1 && len(a.Rhs) == 1 {
				if v := cflow.Var(s.info, a.Lhs[0]); v != nil && isLocal(v, body) {
					if st, ok := s.allocation(a.Rhs[0]); ok {
						st.v, st.node, st.block, st.index, st.assign = v, n, b, i, a
						sites = append(sites, st)
					}
				}
			}
			if vs, ok := n.(*ast.ValueSpec); ok && len(vs.Names) == 1 && len(vs.Values) == 1 {
				if v, ok := s.info.Defs[vs.Names[0]].(*types.Var); ok {
					if st, ok := s.allocation(vs.Values[0]); ok {
						st.v, st.node, st.block, st.index = v, n, b, i
						sites = append(sites, st)
					}
				}
			}
			// A helper that stores allocations in a local struct's fields.
			if st, ok := s.holderSite(n, body); ok {
				st.node, st.block, st.index = n, b, i
				sites = append(sites, st)
			}
			for _, v := range freedVars(s.info, n) {
				frees[v] = append(frees[v], n)
			}
		}
	}
	for _, st := range sites {
		s.leak(g, st)
		if st.call != nil {
			s.uninitialised(body, st)
		}
	}
	for v, ns := range frees {
		for _, n := range ns {
			s.afterFree(g, body, v, n)
		}
	}
	s.containers(body)
	s.deferredEarly(g, body)
}

// allocation reports whether e (conversions removed) is an allocation of
// C memory the caller must free: a C allocator, or a Go function whose
// Ownership says its result is fresh C memory.
func (s *state) allocation(e ast.Expr) (site, bool) {
	e = cflow.Strip(s.info, e)
	if c, ok := cflow.CCall(e); ok {
		if _, _, ok := allocKind(c.Name); ok {
			return site{alloc: c.Name, call: c, at: c.Expr}, true
		}
		return site{}, false
	}
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok {
		return site{}, false
	}
	fn := cflow.Callee(s.info, call)
	if o := s.sums.of(fn); o != nil && len(o.Results) > 0 && o.Results[0] != "" {
		return site{alloc: o.Results[0], at: call, via: fn.Name()}, true
	}
	return site{}, false
}

// holderSite reports a statement calling a Go function that stores fresh
// C memory in the fields of a local struct passed to it (populate(&opts)).
func (s *state) holderSite(n ast.Node, body *ast.BlockStmt) (site, bool) {
	es, ok := n.(*ast.ExprStmt)
	if !ok {
		return site{}, false
	}
	call, ok := ast.Unparen(es.X).(*ast.CallExpr)
	if !ok {
		return site{}, false
	}
	fn := cflow.Callee(s.info, call)
	o := s.sums.of(fn)
	if o == nil {
		return site{}, false
	}
	for _, f := range o.Fills {
		if f.Param >= len(call.Args) {
			continue
		}
		arg := cflow.Strip(s.info, call.Args[f.Param])
		if u, ok := ast.Unparen(arg).(*ast.UnaryExpr); ok && u.Op == token.AND {
			arg = u.X
		}
		v := cflow.Var(s.info, arg)
		if v == nil || !isLocal(v, body) {
			continue
		}
		return site{alloc: f.Alloc, at: call, v: v, via: fn.Name(), holder: true, fields: f.Fields}, true
	}
	return site{}, false
}

// index records the variables node n references (closures included).
func (s *state) index(n ast.Node) {
	m := map[*types.Var]bool{}
	ast.Inspect(n, func(x ast.Node) bool {
		if id, ok := x.(*ast.Ident); ok {
			if v, ok := s.info.ObjectOf(id).(*types.Var); ok {
				m[v] = true
			}
		}
		return true
	})
	s.mentions[n] = m
}

// isLocal reports whether v is declared inside body.
func isLocal(v *types.Var, body *ast.BlockStmt) bool {
	return body.Pos() <= v.Pos() && v.Pos() < body.End()
}

// freedVars returns the variables node n frees with C.free, now or deferred.
func freedVars(info *types.Info, n ast.Node) []*types.Var {
	var vs []*types.Var
	if d, ok := n.(*ast.DeferStmt); ok {
		if lit, ok := d.Call.Fun.(*ast.FuncLit); ok && !cflow.IsCgoClosure(lit) {
			ast.Inspect(lit.Body, func(m ast.Node) bool {
				if e, ok := m.(ast.Expr); ok {
					if c, ok := cflow.CCall(e); ok && c.Name == "free" && len(c.Args) == 1 {
						if v := cflow.Var(info, c.Args[0]); v != nil {
							vs = append(vs, v)
						}
						return false
					}
				}
				return true
			})
			return vs
		}
	}
	cflow.Inspect(n, func(m ast.Node) bool {
		if e, ok := m.(ast.Expr); ok {
			if c, ok := cflow.CCall(e); ok && c.Name == "free" && len(c.Args) == 1 {
				if v := cflow.Var(info, c.Args[0]); v != nil {
					vs = append(vs, v)
				}
				return false
			}
		}
		return true
	})
	return vs
}

// dead reports whether exit block b ends in panic or a call that never returns.
func (s *state) dead(b *cfg.Block) bool {
	if len(b.Nodes) == 0 {
		return false
	}
	es, ok := b.Nodes[len(b.Nodes)-1].(*ast.ExprStmt)
	if !ok {
		return false
	}
	call, ok := es.X.(*ast.CallExpr)
	if !ok {
		return false
	}
	if id, ok := call.Fun.(*ast.Ident); ok {
		if _, ok := s.info.Uses[id].(*types.Builtin); ok && id.Name == "panic" {
			return true
		}
	}
	if fn := cflow.Callee(s.info, call); fn != nil {
		return s.cfgs.NoReturn(fn)
	}
	return false
}

// nilBranch follows only the arm of "v == nil" / "v != nil" where v is not nil.
func (s *state) nilBranch(v *types.Var) func(ast.Expr) (bool, bool) {
	return func(cond ast.Expr) (bool, bool) {
		be, ok := ast.Unparen(cond).(*ast.BinaryExpr)
		if !ok || (be.Op != token.EQL && be.Op != token.NEQ) {
			return true, true
		}
		x, y := be.X, be.Y
		if s.isNil(x) {
			x, y = y, x
		}
		if !s.isNil(y) || cflow.Var(s.info, x) != v {
			return true, true
		}
		if be.Op == token.EQL {
			return false, true
		}
		return true, false
	}
}

func (s *state) isNil(e ast.Expr) bool {
	tv, ok := s.info.Types[e]
	return ok && tv.IsNil()
}

// leak reports an allocation that some path does not free (CG013, CG014).
func (s *state) leak(g *cfg.CFG, st site) {
	rule, what, _ := allocKind(st.alloc)
	env := s.env
	if st.holder {
		env = s.envFor(true)
	}
	w := &cflow.Walker{
		Step: func(n ast.Node) cflow.Step {
			if n == st.node {
				return cflow.Fail // allocated again before the last one was freed
			}
			if !s.mentions[n][st.v] {
				return cflow.Next
			}
			switch cflow.Classify(s.info, n, st.v, env) {
			case cflow.Free, cflow.Escape:
				return cflow.Done
			case cflow.Assign:
				return cflow.Fail
			}
			return cflow.Next
		},
		Branch: s.nilBranch(st.v),
		Dead:   s.dead,
	}
	if _, bad := w.From(st.block, st.index); !bad {
		return
	}
	switch {
	case st.holder:
		s.r.Report(st.at, rule, "%s stores %s results in the fields of %s (%s); they are not freed on every path",
			st.via, what, st.v.Name(), strings.Join(st.fields, ", "))
	case st.via != "":
		s.r.Report(st.at, rule, "%s returns %s memory; %s is not freed on every path", st.via, what, st.v.Name())
	default:
		var fixes []analysis.SuggestedFix
		if rule == "CG013" && st.assign != nil && st.assign.Tok == token.DEFINE {
			fixes = s.deferFreeFix(st)
		}
		s.r.ReportFix(st.at, rule, fixes, "%s result %s is not freed on every path", what, st.v.Name())
	}
}

// inline reports an allocation passed straight to a C function that does
// not take ownership, or whose result is dropped: nothing can free it.
func (s *state) inline(n ast.Node) {
	cflow.Inspect(n, func(m ast.Node) bool {
		if es, ok := m.(*ast.ExprStmt); ok {
			if c, ok := cflow.CCall(es.X); ok {
				if rule, what, ok := allocKind(c.Name); ok {
					s.r.Report(c.Expr, rule, "%s result is dropped and never freed", what)
					return false
				}
			}
		}
		e, ok := m.(ast.Expr)
		if !ok {
			return true
		}
		c, ok := cflow.CCall(e)
		if !ok {
			return true
		}
		if _, _, alloc := allocKind(c.Name); alloc || s.env.CUse(s.info, c) != cflow.Read {
			return true
		}
		for _, a := range c.Args {
			if ac, ok := cflow.CCall(cflow.Strip(s.info, a)); ok {
				if rule, what, ok := allocKind(ac.Name); ok {
					s.r.Report(ac.Expr, rule, "%s passed straight to C.%s is never freed", what, c.Name)
				}
			}
		}
		return true
	})
}

// uninitialised reports malloc memory viewed as Go values that hold
// pointers and then written with pointers (CG012).
func (s *state) uninitialised(body *ast.BlockStmt, st site) {
	if st.call.Name != "malloc" {
		return
	}
	ix := s.pointerIndex(body)
	views := map[*types.Var]bool{st.v: true}
	var conv ast.Expr
	if pointerful(st.v.Type()) {
		conv = st.call.Expr
	}
	for _, a := range ix.assigns {
		if s.viewOf(a.rhs, views) {
			views[a.lhs] = true
			if conv == nil {
				conv = a.rhs
			}
		}
	}
	if conv == nil {
		return
	}
	stored := false
	for _, l := range ix.stores {
		if s.rootIn(l, views) {
			stored = true
			break
		}
	}
	if stored {
		t := st.v.Type()
		if conv != st.call.Expr {
			t = s.info.TypeOf(conv)
		}
		s.r.ReportFix(st.call.Expr, "CG012", s.callocFix(st.call.Expr), "memory from C.malloc is not zeroed but Go code stores pointers into it as %s; use C.calloc",
			types.TypeString(t, types.RelativeTo(s.pass.Pkg)))
	}
}

// pointerIndex lists, once per function body, the assignments of values
// whose type points at pointers (candidate views of C memory, in source
// order) and the pointer-typed places written through a selector, index or
// dereference.
type pointerIndex struct {
	body    *ast.BlockStmt
	assigns []struct {
		lhs *types.Var
		rhs ast.Expr
	}
	stores []ast.Expr
}

func (s *state) pointerIndex(body *ast.BlockStmt) *pointerIndex {
	if s.ptrIndex != nil && s.ptrIndex.body == body {
		return s.ptrIndex
	}
	ix := &pointerIndex{body: body}
	ast.Inspect(body, func(n ast.Node) bool {
		a, ok := n.(*ast.AssignStmt)
		if !ok {
			return true
		}
		if len(a.Lhs) == len(a.Rhs) {
			for i, rhs := range a.Rhs {
				if v := cflow.Var(s.info, a.Lhs[i]); v != nil && pointerful(s.info.TypeOf(a.Lhs[i])) {
					ix.assigns = append(ix.assigns, struct {
						lhs *types.Var
						rhs ast.Expr
					}{v, rhs})
				}
			}
		}
		for _, l := range a.Lhs {
			switch ul := ast.Unparen(l).(type) {
			case *ast.SelectorExpr, *ast.IndexExpr, *ast.StarExpr:
				if hasPointers(s.info.TypeOf(ul)) {
					ix.stores = append(ix.stores, ul)
				}
			}
		}
		return true
	})
	s.ptrIndex = ix
	return ix
}

// viewOf reports whether e converts or slices memory held in views.
func (s *state) viewOf(e ast.Expr, views map[*types.Var]bool) bool {
	e = ast.Unparen(e)
	if call, ok := e.(*ast.CallExpr); ok && (cflow.IsFunc(s.info, call, "unsafe", "Slice")) && len(call.Args) == 2 {
		return views[cflow.Var(s.info, call.Args[0])]
	}
	if se, ok := e.(*ast.SliceExpr); ok {
		return s.viewOf(se.X, views)
	}
	return e != cflow.Strip(s.info, e) && views[cflow.Var(s.info, e)]
}

// rootIn reports whether the base variable of l is in views.
func (s *state) rootIn(l ast.Expr, views map[*types.Var]bool) bool {
	for {
		switch x := ast.Unparen(l).(type) {
		case *ast.SelectorExpr:
			l = x.X
		case *ast.IndexExpr:
			l = x.X
		case *ast.StarExpr:
			l = x.X
		default:
			v := cflow.Var(s.info, l)
			return v != nil && views[v]
		}
	}
}

// pointerful reports whether t is a pointer or slice whose elements hold pointers.
func pointerful(t types.Type) bool {
	if t == nil {
		return false
	}
	switch t := t.Underlying().(type) {
	case *types.Pointer:
		return hasPointers(t.Elem())
	case *types.Slice:
		return hasPointers(t.Elem())
	}
	return false
}

// hasPointers reports whether values of t hold pointers.
func hasPointers(t types.Type) bool {
	return hasPointersSeen(t, map[types.Type]bool{})
}

func hasPointersSeen(t types.Type, seen map[types.Type]bool) bool {
	if t == nil || seen[t] {
		return false
	}
	seen[t] = true
	switch t := t.Underlying().(type) {
	case *types.Pointer, *types.Slice, *types.Map, *types.Chan, *types.Signature, *types.Interface:
		return true
	case *types.Basic:
		return t.Kind() == types.String || t.Kind() == types.UnsafePointer
	case *types.Array:
		return hasPointersSeen(t.Elem(), seen)
	case *types.Struct:
		for i := range t.NumFields() {
			if hasPointersSeen(t.Field(i).Type(), seen) {
				return true
			}
		}
	}
	return false
}
