package threads

import (
	"go/ast"
	"go/constant"
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
// has its own page, CG026.md, CG027.md and CG029.md, beside it.
const URL = diag.BaseURL + "CG026.md"

// Analyzer checks the thread rules CG026, CG027 and CG029.
var Analyzer = &analysis.Analyzer{
	Name:       "threads",
	Doc:        Doc,
	URL:        URL,
	Run:        run,
	Requires:   []*analysis.Analyzer{inspect.Analyzer, ctrlflow.Analyzer},
	ResultType: diag.ResultType,
}

// ThreadExitDirective marks a LockOSThread that deliberately never unlocks.
const ThreadExitDirective = "cgoguard:thread-exit"

type state struct {
	pass  *analysis.Pass
	r     *diag.Reporter
	info  *types.Info
	cfgs  *ctrlflow.CFGs
	decls map[*types.Func]*ast.FuncDecl
	// exitLines holds file:line of thread-exit directives.
	exitLines map[string]map[int]bool
	reported  map[token.Pos]bool
}

func run(pass *analysis.Pass) (any, error) {
	s := &state{
		pass:      pass,
		r:         diag.New(pass),
		info:      pass.TypesInfo,
		cfgs:      pass.ResultOf[ctrlflow.Analyzer].(*ctrlflow.CFGs),
		decls:     cflow.Decls(pass.TypesInfo, cgoast.UserFiles(pass.Files)),
		exitLines: map[string]map[int]bool{},
		reported:  map[token.Pos]bool{},
	}
	for _, f := range pass.Files {
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				if hasThreadExit(c.Text) {
					p := pass.Fset.Position(c.Pos())
					if s.exitLines[p.Filename] == nil {
						s.exitLines[p.Filename] = map[int]bool{}
					}
					s.exitLines[p.Filename][p.Line] = true
				}
			}
		}
	}
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	gen := cflow.InGenerated(pass.Fset, pass.Files)
	ins.WithStack([]ast.Node{(*ast.FuncDecl)(nil), (*ast.FuncLit)(nil), (*ast.GoStmt)(nil)}, func(n ast.Node, push bool, stack []ast.Node) bool {
		if !push || gen(n.Pos()) {
			return true
		}
		switch n := n.(type) {
		case *ast.FuncDecl:
			if n.Body != nil {
				s.function(s.cfgs.FuncDecl(n), n, n.Name.Name == "init" && n.Recv == nil)
			}
		case *ast.FuncLit:
			if !cflow.IsCgoClosure(n) {
				s.function(s.cfgs.FuncLit(n), enclosingDecl(stack), false)
			}
		case *ast.GoStmt:
			s.unbounded(n, stack)
		}
		return true
	})
	return s.r.Result(), nil
}

// hasThreadExit reports whether comment text holds the thread-exit
// directive followed by a reason; without a reason it does not count.
func hasThreadExit(text string) bool {
	_, rest, ok := strings.Cut(text, ThreadExitDirective)
	rest = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "*/"))
	return ok && rest != ""
}

func enclosingDecl(stack []ast.Node) *ast.FuncDecl {
	for i := len(stack) - 1; i >= 0; i-- {
		if d, ok := stack[i].(*ast.FuncDecl); ok {
			return d
		}
	}
	return nil
}

// function checks CG026 and CG027 in one function's CFG.
func (s *state) function(g *cfg.CFG, decl *ast.FuncDecl, isInit bool) {
	if g == nil {
		return
	}
	for _, b := range g.Blocks {
		for i, n := range b.Nodes {
			if call := s.callIn(n, "runtime", "LockOSThread"); call != nil && !isInit {
				s.lockThread(b, i, call, decl)
			}
			for _, name := range []string{"Mutex.Lock", "RWMutex.Lock", "RWMutex.RLock"} {
				if call := s.callIn(n, "sync", name); call != nil {
					s.underLock(b, i, call)
				}
			}
		}
	}
}

// callIn returns the call of pkg.name that node n makes as a statement
// (not deferred), or nil.
func (s *state) callIn(n ast.Node, pkg, name string) *ast.CallExpr {
	es, ok := n.(*ast.ExprStmt)
	if !ok {
		return nil
	}
	call, ok := ast.Unparen(es.X).(*ast.CallExpr)
	if !ok || !cflow.IsFunc(s.info, call, pkg, name) {
		return nil
	}
	return call
}

// calls reports whether n calls pkg.name, now or deferred.
func (s *state) calls(n ast.Node, pkg, name string, recv string) bool {
	found := false
	cflow.Inspect(n, func(m ast.Node) bool {
		if call, ok := m.(*ast.CallExpr); ok && !found && cflow.IsFunc(s.info, call, pkg, name) {
			if recv == "" || receiver(call) == recv {
				found = true
			}
		}
		return !found
	})
	return found
}

func receiver(call *ast.CallExpr) string {
	if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok {
		return types.ExprString(sel.X)
	}
	return ""
}

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
	if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "panic" {
		return true
	}
	fn := cflow.Callee(s.info, call)
	return fn != nil && s.cfgs.NoReturn(fn)
}

// lockThread reports CG026 for the LockOSThread at node i of b.
func (s *state) lockThread(b *cfg.Block, i int, call *ast.CallExpr, decl *ast.FuncDecl) {
	p := s.pass.Fset.Position(call.Pos())
	if lines := s.exitLines[p.Filename]; lines[p.Line] || lines[p.Line-1] {
		return
	}
	if decl != nil && decl.Doc != nil {
		for _, c := range decl.Doc.List {
			if hasThreadExit(c.Text) {
				return
			}
		}
	}
	w := &cflow.Walker{
		Step: func(n ast.Node) cflow.Step {
			if s.calls(n, "runtime", "UnlockOSThread", "") {
				return cflow.Done
			}
			return cflow.Next
		},
		Dead: s.dead,
	}
	if _, bad := w.From(b, i); bad {
		s.r.Report(call, "CG026", "runtime.LockOSThread without runtime.UnlockOSThread on every path; if the goroutine deliberately exits locked, mark it //%s with a reason", ThreadExitDirective)
	}
}

// underLock reports CG027 for C calls reachable from the lock at node i
// of b before the matching unlock.
func (s *state) underLock(b *cfg.Block, i int, lock *ast.CallExpr) {
	recv := receiver(lock)
	unlock := "Mutex.Unlock"
	if cflow.IsFunc(s.info, lock, "sync", "RWMutex.Lock") {
		unlock = "RWMutex.Unlock"
	} else if cflow.IsFunc(s.info, lock, "sync", "RWMutex.RLock") {
		unlock = "RWMutex.RUnlock"
	}
	line := s.pass.Fset.Position(lock.Pos()).Line
	w := &cflow.Walker{
		Step: func(n ast.Node) cflow.Step {
			if _, deferred := n.(*ast.DeferStmt); !deferred && s.calls(n, "sync", unlock, recv) {
				return cflow.Done
			}
			cflow.Inspect(n, func(m ast.Node) bool {
				e, ok := m.(ast.Expr)
				if !ok {
					return true
				}
				c, ok := cflow.CCall(e)
				if !ok {
					return true
				}
				if !cflow.IsHelper(c.Name) && !s.reported[c.Expr.Pos()] {
					s.reported[c.Expr.Pos()] = true
					s.r.Report(c.Expr, "CG027", "C.%s is called while holding %s (locked at line %d): a slow C call stalls every goroutine waiting for the lock", c.Name, recv, line)
				}
				return false
			})
			return cflow.Next
		},
	}
	w.From(b, i)
}

// unbounded reports CG029 for a go statement in an unbounded loop.
func (s *state) unbounded(g *ast.GoStmt, stack []ast.Node) {
	var loop ast.Node
	for i := len(stack) - 2; i >= 0 && loop == nil; i-- {
		switch n := stack[i].(type) {
		case *ast.FuncLit, *ast.FuncDecl:
			return
		case *ast.ForStmt, *ast.RangeStmt:
			loop = n
		}
	}
	if loop == nil || s.bounded(loop) {
		return
	}
	name := s.blockingCall(g)
	if name == "" {
		return
	}
	if s.throttled(loop) {
		return
	}
	s.r.Report(g, "CG029", "goroutine started per iteration of an unbounded loop makes the blocking call C.%s: each blocked call holds an OS thread; bound them with a semaphore or a worker pool", name)
}

// bounded reports whether loop runs a constant number of times, or
// runtime.NumCPU/GOMAXPROCS times: a fixed pool of workers.
func (s *state) bounded(loop ast.Node) bool {
	var bound ast.Expr
	switch l := loop.(type) {
	case *ast.RangeStmt:
		if xt := s.info.TypeOf(l.X); xt == nil {
			return false
		} else if t, ok := xt.Underlying().(*types.Basic); ok && t.Info()&types.IsInteger != 0 {
			bound = l.X
		}
	case *ast.ForStmt:
		if be, ok := ast.Unparen(l.Cond).(*ast.BinaryExpr); ok && (be.Op == token.LSS || be.Op == token.LEQ) {
			bound = be.Y
		}
	}
	if bound == nil {
		return false
	}
	if tv, ok := s.info.Types[bound]; ok && tv.Value != nil && tv.Value.Kind() == constant.Int {
		return true
	}
	if call, ok := ast.Unparen(bound).(*ast.CallExpr); ok {
		return cflow.IsFunc(s.info, call, "runtime", "NumCPU") || cflow.IsFunc(s.info, call, "runtime", "GOMAXPROCS")
	}
	return false
}

// blockingCall returns the name of a C call the goroutine makes (directly,
// or in a function of this package it calls), other than conversions and
// allocation, or "".
func (s *state) blockingCall(g *ast.GoStmt) string {
	var bodies []ast.Node
	if lit, ok := ast.Unparen(g.Call.Fun).(*ast.FuncLit); ok {
		bodies = append(bodies, lit.Body)
	} else if fn := cflow.Callee(s.info, g.Call); fn != nil && s.decls[fn] != nil {
		bodies = append(bodies, s.decls[fn].Body)
	}
	if c, ok := cflow.CCall(g.Call); ok && !cflow.IsHelper(c.Name) {
		return c.Name
	}
	name := ""
	for _, body := range bodies {
		ast.Inspect(body, func(n ast.Node) bool {
			if name != "" {
				return false
			}
			if e, ok := n.(ast.Expr); ok {
				if c, ok := cflow.CCall(e); ok && !cflow.IsHelper(c.Name) {
					name = c.Name
					return false
				}
			}
			return true
		})
	}
	return name
}

// throttled reports whether the loop or the goroutines it starts wait on
// something that bounds them: a channel send or receive, or a call of a
// method named Acquire, TryAcquire, Lock or Wait.
func (s *state) throttled(loop ast.Node) bool {
	var body *ast.BlockStmt
	switch l := loop.(type) {
	case *ast.ForStmt:
		body = l.Body
	case *ast.RangeStmt:
		body = l.Body // ranging over a channel waits per item but bounds nothing
	}
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if found {
			return false
		}
		switch n := n.(type) {
		case *ast.SendStmt:
			found = true
		case *ast.UnaryExpr:
			if n.Op == token.ARROW {
				found = true
			}
		case *ast.CallExpr:
			if sel, ok := ast.Unparen(n.Fun).(*ast.SelectorExpr); ok {
				switch sel.Sel.Name {
				case "Acquire", "TryAcquire", "Lock", "Wait":
					found = true
				}
			}
		}
		return true
	})
	return found
}
