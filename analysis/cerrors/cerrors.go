package cerrors

import (
	"go/ast"
	"go/token"
	"go/types"
	"path"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"

	"github.com/cgoguard/cgoguard/analysis/internal/cflow"
	"github.com/cgoguard/cgoguard/analysis/internal/diag"
)

// URL is the documentation of the rules this analyzer checks; each rule
// has its own page, CG030.md and CG031.md, beside it.
const URL = diag.BaseURL + "CG030.md"

// Analyzer checks the error rules CG030 and CG031.
var Analyzer = &analysis.Analyzer{
	Name:       "cerrors",
	Doc:        Doc,
	URL:        URL,
	Run:        run,
	Requires:   []*analysis.Analyzer{inspect.Analyzer},
	ResultType: diag.ResultType,
}

// DefaultFuncs is the default list of C functions whose integer status
// CG031 requires to be used.
const DefaultFuncs = "close,fclose,fflush,fsync,fdatasync,ftruncate,truncate,write,pwrite,read,pread," +
	"setenv,unsetenv,putenv,chdir,mkdir,rmdir,unlink,rename,remove,chmod,chown,dup2,pipe," +
	"bind,listen,connect,shutdown,setsockopt,setrlimit,prctl,mprotect,munmap,mlock,madvise,posix_memalign," +
	"sigaction,sigprocmask,sigaltstack,pthread_sigmask,pthread_create,pthread_join,pthread_detach," +
	"pthread_mutex_init,pthread_mutex_lock,pthread_mutex_unlock,pthread_mutex_destroy,pthread_cond_wait," +
	"pthread_cond_timedwait,pthread_key_create,pthread_setspecific,pthread_attr_init,pthread_attr_setstacksize," +
	"sqlite3_*," +
	// Name patterns: whatever flushes, closes, writes, syncs, commits or
	// initialises reports failure through its status.
	"*flush*,*close*,*write*,*sync*,*commit*,*_init"

// funcs is the -funcs flag (default DefaultFuncs).
var funcs = DefaultFuncs

func init() {
	Analyzer.Flags.StringVar(&funcs, "funcs", DefaultFuncs,
		"comma-separated C functions whose status must be used; a leading '+' adds to the default list; entries may be glob patterns (lib_*)")
}

// StatusDirective adds C functions to CG031's list from a comment.
const StatusDirective = "cgoguard:status"

// list is a set of C function names and glob patterns (path.Match syntax).
type list struct {
	names    map[string]bool
	patterns []string
}

func (l *list) add(s string) {
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		f = strings.TrimPrefix(f, "C.")
		if strings.ContainsAny(f, "*?[") {
			if _, err := path.Match(f, ""); err == nil {
				l.patterns = append(l.patterns, f)
			}
		} else if f != "" {
			l.names[f] = true
		}
	}
}

func (l *list) has(name string) bool {
	if l.names[name] {
		return true
	}
	for _, p := range l.patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// parseList builds the function list from the flag value.
func parseList(flag string) *list {
	l := &list{names: map[string]bool{}}
	if rest, ok := strings.CutPrefix(flag, "+"); ok {
		l.add(DefaultFuncs)
		flag = rest
	}
	l.add(flag)
	return l
}

func run(pass *analysis.Pass) (any, error) {
	r := diag.New(pass)
	l := parseList(funcs)
	for _, f := range pass.Files {
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				for line := range strings.SplitSeq(c.Text, "\n") {
					if _, rest, ok := strings.Cut(line, StatusDirective); ok {
						rest, _, _ = strings.Cut(rest, "*/")
						l.add(rest)
					}
				}
			}
		}
	}
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	gen := cflow.InGenerated(pass.Fset, pass.Files)
	ins.WithStack([]ast.Node{(*ast.AssignStmt)(nil), (*ast.ExprStmt)(nil)}, func(n ast.Node, push bool, stack []ast.Node) bool {
		if !push || gen(n.Pos()) {
			return true
		}
		switch n := n.(type) {
		case *ast.AssignStmt:
			errnoForm(pass, r, n, stack)
		case *ast.ExprStmt:
			c, ok := cflow.CCall(n.X)
			if !ok || c.Errno || cflow.IsHelper(c.Name) || !l.has(c.Name) || !isInteger(pass.TypesInfo.TypeOf(c.Expr)) {
				return true
			}
			r.Report(c.Expr, "CG031", "status returned by C.%s is ignored; check it, or assign it to _ if it truly does not matter", c.Name)
		}
		return true
	})
	return r.Result(), nil
}

func isInteger(t types.Type) bool {
	if t == nil {
		return false
	}
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Info()&types.IsInteger != 0
}

// errnoForm checks one r, err := C.f() statement (CG030).
func errnoForm(pass *analysis.Pass, r *diag.Reporter, a *ast.AssignStmt, stack []ast.Node) {
	if len(a.Lhs) != 2 || len(a.Rhs) != 1 {
		return
	}
	c, ok := cflow.CCall(a.Rhs[0])
	if !ok || !c.Errno {
		return
	}
	info := pass.TypesInfo
	if tup, ok := info.TypeOf(c.Expr).(*types.Tuple); ok && tup.Len() == 2 && isVoid(tup.At(0).Type()) {
		return
	}
	errVar := lhsVar(info, a.Lhs[1])
	if errVar == nil {
		return
	}
	var body *ast.BlockStmt
	for i := len(stack) - 1; i >= 0 && body == nil; i-- {
		switch f := stack[i].(type) {
		case *ast.FuncDecl:
			body = f.Body
		case *ast.FuncLit:
			if !cflow.IsCgoClosure(f) {
				body = f.Body
			}
		}
	}
	if body == nil {
		return
	}
	resVar := lhsVar(info, a.Lhs[0])
	errUse := firstUse(info, body, errVar, a.End())
	if errUse == nil {
		return
	}
	if resVar == nil {
		r.Report(a, "CG030", "errno from C.%s is read but the result is discarded: errno may be left set on success, so check the result for failure first", c.Name)
		return
	}
	resUse := firstUse(info, body, resVar, a.End())
	if resUse != nil && resUse.Pos() <= errUse.Pos() {
		return
	}
	// Reading err inside a condition that also tests r is fine: r == -1 && err == EINTR.
	if cond := condOf(stack, body, errUse); cond != nil && cflow.Mentions(info, cond, resVar) {
		return
	}
	r.Report(errUse, "CG030", "err from C.%s is read before %s: C functions may leave errno set on success, so test %s for failure first", c.Name, resVar.Name(), resVar.Name())
}

// isVoid reports whether t is cgo's C void type.
func isVoid(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Name() == "_Ctype_void"
}

// lhsVar returns the variable an assignment target names, or nil for _.
func lhsVar(info *types.Info, e ast.Expr) *types.Var {
	id, ok := ast.Unparen(e).(*ast.Ident)
	if !ok || id.Name == "_" {
		return nil
	}
	v, _ := info.ObjectOf(id).(*types.Var)
	return v
}

// firstUse returns the first reference to v in body after pos.
func firstUse(info *types.Info, body *ast.BlockStmt, v *types.Var, after token.Pos) *ast.Ident {
	var first *ast.Ident
	ast.Inspect(body, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && id.Pos() > after && info.Uses[id] == v {
			if first == nil || id.Pos() < first.Pos() {
				first = id
			}
		}
		return true
	})
	return first
}

// condOf returns the condition of the if statement in body whose
// condition contains id, or nil.
func condOf(_ []ast.Node, body *ast.BlockStmt, id *ast.Ident) ast.Expr {
	var cond ast.Expr
	ast.Inspect(body, func(n ast.Node) bool {
		if s, ok := n.(*ast.IfStmt); ok && s.Cond != nil && s.Cond.Pos() <= id.Pos() && id.End() <= s.Cond.End() {
			cond = s.Cond
		}
		return cond == nil
	})
	return cond
}
