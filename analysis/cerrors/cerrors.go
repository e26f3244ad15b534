package cerrors

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path"
	"regexp"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"

	"github.com/cgoguard/cgoguard/analysis/internal/cflow"
	"github.com/cgoguard/cgoguard/analysis/internal/cgoast"
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
	"sqlite3_close,sqlite3_close_v2,sqlite3_exec,sqlite3_step,sqlite3_wal_checkpoint,sqlite3_wal_checkpoint_v2," +
	"sqlite3_backup_step,sqlite3_backup_finish,sqlite3_blob_write,sqlite3_blob_close," +
	// Name patterns: whatever flushes, closes, writes, syncs, commits or
	// initialises reports failure through its status (option-struct
	// initialisers are in DefaultNoStatus).
	"*flush*,*close*,*write*,*sync*,*commit*,*_init"

// DefaultNoStatus lists C functions whose integer result carries no
// status worth checking: option-struct initialisers that fail only on a
// version mismatch the header's own constant rules out, zmq_msg_init
// (always 0), sqlite3_finalize and sqlite3_reset (they repeat the error of
// the last step, which was checked there). Entries may be glob patterns.
const DefaultNoStatus = "*_options_init,*_init_options,*_opts_init,zmq_msg_init,sqlite3_finalize,sqlite3_reset"

// DefaultErrnoFuncs lists C functions whose errno is meaningful without
// looking at the result first: strtol and its kin (cgo clears errno before
// the call, and their result cannot signal failure), getpriority and
// readdir (every result value is also a success value), and functions that
// return only when they fail (zmq_proxy). Entries may be glob patterns.
const DefaultErrnoFuncs = "strto*,wcsto*,getpriority,readdir,readdir64,sysconf,zmq_proxy,zmq_proxy_steerable"

// Flags: -funcs (default DefaultFuncs), -nostatus (default
// DefaultNoStatus), -errno (default DefaultErrnoFuncs).
var (
	funcs    = DefaultFuncs
	noStatus = DefaultNoStatus
	errnoFns = DefaultErrnoFuncs
)

func init() {
	Analyzer.Flags.Var(listFlag{&funcs}, "funcs",
		"comma-separated C functions whose status must be used; a leading '+' adds to the default list; entries may be glob patterns (lib_*)")
	Analyzer.Flags.Var(listFlag{&noStatus}, "nostatus",
		"comma-separated C functions whose result is no status worth checking (CG031 never reports them); a leading '+' adds to the default list")
	Analyzer.Flags.Var(listFlag{&errnoFns}, "errno",
		"comma-separated C functions whose errno may be read without testing the result first (CG030); a leading '+' adds to the default list")
}

// listFlag is a flag holding a list of C function names and glob
// patterns; a malformed pattern is refused when the flag is set rather
// than never matching.
type listFlag struct{ p *string }

func (f listFlag) String() string {
	if f.p == nil {
		return ""
	}
	return *f.p
}

func (f listFlag) Set(s string) error {
	for _, e := range listEntries(strings.TrimPrefix(s, "+")) {
		if _, err := path.Match(e, ""); err != nil {
			return fmt.Errorf("bad pattern %q: %v", e, err)
		}
	}
	*f.p = s
	return nil
}

// Directives of the package's comments (the cgo preamble included) that
// configure the rules: "//cgoguard:status f g" adds to CG031's list,
// "//cgoguard:nostatus f g" says f and g return no status worth
// checking, "//cgoguard:errno f g" says f and g document errno as their
// failure signal.
const (
	StatusDirective   = "cgoguard:status"
	NoStatusDirective = "cgoguard:nostatus"
	ErrnoDirective    = "cgoguard:errno"
)

// list is a set of C function names and glob patterns (path.Match syntax).
type list struct {
	names    map[string]bool
	patterns []string
}

// listEntries splits a list of names and patterns at commas and blanks.
func listEntries(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
}

func (l *list) add(s string) {
	for _, f := range listEntries(s) {
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

// parseList builds a function list from a flag value and its default.
func parseList(flag, dflt string) *list {
	l := &list{names: map[string]bool{}}
	if rest, ok := strings.CutPrefix(flag, "+"); ok {
		l.add(dflt)
		flag = rest
	}
	l.add(flag)
	return l
}

// lists are the configured function lists of one pass.
type lists struct {
	status, noStatus, errno *list
}

func readLists(pass *analysis.Pass) *lists {
	ls := &lists{
		status:   parseList(funcs, DefaultFuncs),
		noStatus: parseList(noStatus, DefaultNoStatus),
		errno:    parseList(errnoFns, DefaultErrnoFuncs),
	}
	for _, f := range pass.Files {
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				for line := range strings.SplitSeq(c.Text, "\n") {
					for dir, l := range map[string]*list{NoStatusDirective: ls.noStatus, ErrnoDirective: ls.errno, StatusDirective: ls.status} {
						// cgoguard:nostatus contains cgoguard:status
						// only after "no": match the directive as a word.
						i := strings.Index(line, dir)
						if i < 0 || (dir == StatusDirective && i >= 2 && line[i-2:i] == "no") {
							continue
						}
						rest := line[i+len(dir):]
						rest, _, _ = strings.Cut(rest, "*/")
						l.add(rest)
					}
				}
			}
		}
	}
	return ls
}

func run(pass *analysis.Pass) (any, error) {
	r := diag.New(pass)
	ls := readLists(pass)
	defs := map[string]cgoast.CFunc{}
	for _, src := range cgoast.CSources(pass) {
		for _, f := range cgoast.CFuncs(src.Code) {
			defs[f.Name] = f
		}
	}
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	gen := cflow.InGenerated(pass.Fset, pass.Files)
	goFuncs := map[*types.Func]bool{} // functions the package runs as goroutines
	ins.Preorder([]ast.Node{(*ast.GoStmt)(nil)}, func(n ast.Node) {
		if fn := cflow.Callee(pass.TypesInfo, n.(*ast.GoStmt).Call); fn != nil {
			goFuncs[fn] = true
		}
	})
	ins.WithStack([]ast.Node{(*ast.AssignStmt)(nil), (*ast.ExprStmt)(nil)}, func(n ast.Node, push bool, stack []ast.Node) bool {
		if !push || gen(n.Pos()) {
			return true
		}
		switch n := n.(type) {
		case *ast.AssignStmt:
			errnoForm(pass, r, n, stack, ls, defs)
		case *ast.ExprStmt:
			c, ok := cflow.CCall(n.X)
			if !ok || c.Errno || cflow.IsHelper(c.Name) || !ls.status.has(c.Name) || ls.noStatus.has(c.Name) || !isInteger(pass.TypesInfo.TypeOf(c.Expr)) {
				return true
			}
			if excused(pass.TypesInfo, n, c, stack, goFuncs) {
				return true
			}
			if strings.Contains(strings.ToLower(c.Name), "close") && readOnlyStream(pass.TypesInfo, outerBody(stack), c) {
				return true
			}
			r.Report(c.Expr, "CG031", "status returned by C.%s is ignored; check it, or assign it to _ if it truly does not matter", c.Name)
		}
		return true
	})
	return r.Result(), nil
}

// excused reports an ignored status that is no bug: a best-effort cleanup
// on a path that already returns an error or panics, a status that the
// next statements check by other means (ferror, a library's last-error
// call), or a periodic flush in a goroutine's loop, which the next round
// retries.
func excused(info *types.Info, es *ast.ExprStmt, c *cflow.Call, stack []ast.Node, goFuncs map[*types.Func]bool) bool {
	// Look at what follows the call in its block and in each enclosing
	// block of the function: if db != nil { C.close(db) }; return nil, err.
	// The call must sit in a branch (an error path), not at the top level
	// of the function.
	nested := false
	for i := len(stack) - 2; i >= 0; i-- {
		switch n := stack[i].(type) {
		case *ast.IfStmt, *ast.CaseClause, *ast.CommClause:
			nested = true
		case *ast.FuncLit:
			if !cflow.IsCgoClosure(n) {
				i = -1
			}
		case *ast.FuncDecl:
			i = -1
		}
	}
	// The status checked by other means in the statements that follow.
	if len(stack) >= 2 {
		var list []ast.Stmt
		switch b := stack[len(stack)-2].(type) {
		case *ast.BlockStmt:
			list = b.List
		case *ast.CaseClause:
			list = b.Body
		case *ast.CommClause:
			list = b.Body
		}
		after := false
		for _, st := range list {
			if st == es {
				after = true
			} else if after && checksByOtherMeans(st) {
				return true
			}
		}
	}
	var inner ast.Node = es
	if !nested {
		inner = nil // no error path: skip to the periodic flush check
	}
	for i := len(stack) - 2; i >= 0 && inner != nil; i-- {
		var list []ast.Stmt
		switch b := stack[i].(type) {
		case *ast.BlockStmt:
			list = b.List
		case *ast.CaseClause:
			list = b.Body
		case *ast.CommClause:
			list = b.Body
		case *ast.FuncDecl, *ast.FuncLit:
			if lit, ok := b.(*ast.FuncLit); ok && cflow.IsCgoClosure(lit) {
				inner = b
				continue
			}
			i = -1
			continue
		default:
			inner = b
			continue
		}
		after := false
		for _, st := range list {
			if st == inner {
				after = true
				continue
			}
			if !after {
				continue
			}
			switch st := st.(type) {
			case *ast.ReturnStmt:
				for _, res := range st.Results {
					if isErrorValue(info, res) {
						return true
					}
				}
			case *ast.ExprStmt:
				if call, ok := ast.Unparen(st.X).(*ast.CallExpr); ok {
					if id, ok := ast.Unparen(call.Fun).(*ast.Ident); ok && id.Name == "panic" {
						return true
					}
				}
			}
		}
		inner = stack[i]
	}
	if strings.Contains(strings.ToLower(c.Name), "flush") {
		inLoop := false
		for i := len(stack) - 1; i >= 0; i-- {
			switch n := stack[i].(type) {
			case *ast.ForStmt, *ast.RangeStmt:
				inLoop = true
			case *ast.FuncLit:
				if inLoop && i > 0 {
					if call, ok := stack[i-1].(*ast.CallExpr); ok && i > 1 {
						if _, isGo := stack[i-2].(*ast.GoStmt); isGo && call.Fun == n {
							return true
						}
					}
				}
				return false
			case *ast.FuncDecl:
				fn, _ := info.Defs[n.Name].(*types.Func)
				return inLoop && goFuncs[fn]
			}
		}
	}
	return false
}

// isErrorValue reports an expression of type error that is not nil.
func isErrorValue(info *types.Info, e ast.Expr) bool {
	tv, ok := info.Types[e]
	if !ok || tv.IsNil() {
		return false
	}
	return types.Identical(tv.Type, types.Universe.Lookup("error").Type())
}

// checksByOtherMeans reports a statement that calls a C function asking
// for the error state: ferror, a library's *_error/*_errcode/*_errmsg
// call, or errno.
func checksByOtherMeans(st ast.Stmt) bool {
	found := false
	ast.Inspect(st, func(n ast.Node) bool {
		if e, ok := n.(ast.Expr); ok && !found {
			if c, ok := cflow.CCall(e); ok {
				l := strings.ToLower(c.Name)
				if strings.Contains(l, "error") || strings.Contains(l, "errcode") || strings.Contains(l, "errmsg") || strings.Contains(l, "errno") {
					found = true
				}
			}
		}
		return !found
	})
	return found
}

// readOnlyStream reports a deferred close of a stream this function
// opened for reading only (fopen(path, "r") or "rb"): nothing buffered can
// be lost.
func readOnlyStream(info *types.Info, body *ast.BlockStmt, c *cflow.Call) bool {
	if len(c.Args) != 1 || body == nil {
		return false
	}
	v := cflow.Var(info, c.Args[0])
	if v == nil {
		return false
	}
	if strings.HasPrefix(v.Name(), "_cgo") {
		// A temporary of cmd/cgo's closure: _cgo0 := f.
		ast.Inspect(body, func(n ast.Node) bool {
			if a, ok := n.(*ast.AssignStmt); ok && len(a.Lhs) == 1 && len(a.Rhs) == 1 && cflow.Var(info, a.Lhs[0]) == v {
				if w := cflow.Var(info, a.Rhs[0]); w != nil {
					v = w
				}
				return false
			}
			return true
		})
	}
	modes := map[*types.Var]string{}
	ro := false
	ast.Inspect(body, func(n ast.Node) bool {
		a, ok := n.(*ast.AssignStmt)
		if !ok {
			return true
		}
		// f, err := openHelper(path, "rb"): a Go helper given a mode.
		if len(a.Rhs) == 1 && len(a.Lhs) >= 1 && cflow.Var(info, a.Lhs[0]) == v {
			if call, ok := ast.Unparen(a.Rhs[0]).(*ast.CallExpr); ok {
				if _, isC := cflow.CCall(call); !isC {
					for _, arg := range call.Args {
						if tv, ok := info.Types[arg]; ok && tv.Value != nil {
							if m := strings.Trim(tv.Value.ExactString(), `"`); modeRe.MatchString(m) {
								ro = strings.HasPrefix(m, "r") && !strings.Contains(m, "+")
							}
						}
					}
				}
			}
		}
		if len(a.Lhs) != len(a.Rhs) {
			return true
		}
		for i, l := range a.Lhs {
			w := cflow.Var(info, l)
			if w == nil {
				continue
			}
			if oc, ok := cflow.CCall(cflow.Strip(info, a.Rhs[i])); ok {
				if oc.Name == "CString" && len(oc.Args) == 1 {
					if tv, ok := info.Types[oc.Args[0]]; ok && tv.Value != nil {
						modes[w] = strings.Trim(tv.Value.ExactString(), `"`)
					}
				}
				if w == v && (oc.Name == "fopen" || oc.Name == "fdopen" || oc.Name == "freopen" || oc.Name == "popen") && len(oc.Args) >= 2 {
					mode := ""
					if mc, ok := cflow.CCall(cflow.Strip(info, oc.Args[1])); ok && mc.Name == "CString" && len(mc.Args) == 1 {
						if tv, ok := info.Types[mc.Args[0]]; ok && tv.Value != nil {
							mode = strings.Trim(tv.Value.ExactString(), `"`)
						}
					} else if mv := cflow.Var(info, oc.Args[1]); mv != nil {
						mode = modes[mv]
					}
					ro = strings.HasPrefix(mode, "r") && !strings.Contains(mode, "+")
				}
			}
		}
		return true
	})
	return ro
}

// outerBody returns the body of the function declaration on stack, which
// holds the function literals (deferred closures) inside it.
func outerBody(stack []ast.Node) *ast.BlockStmt {
	for i := len(stack) - 1; i >= 0; i-- {
		if f, ok := stack[i].(*ast.FuncDecl); ok {
			return f.Body
		}
	}
	return nil
}

func isInteger(t types.Type) bool {
	if t == nil {
		return false
	}
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Info()&types.IsInteger != 0
}

// errnoForm checks one r, err := C.f() statement (CG030).
func errnoForm(pass *analysis.Pass, r *diag.Reporter, a *ast.AssignStmt, stack []ast.Node, ls *lists, defs map[string]cgoast.CFunc) {
	if len(a.Lhs) != 2 || len(a.Rhs) != 1 {
		return
	}
	c, ok := cflow.CCall(a.Rhs[0])
	if !ok || !c.Errno || ls.errno.has(c.Name) || wrapsErrnoFunc(defs, ls, c.Name) {
		return
	}
	info := pass.TypesInfo
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
	errUse := firstUse(info, body, errVar, a.End())
	if errUse == nil {
		return
	}
	if tup, ok := info.TypeOf(c.Expr).(*types.Tuple); ok && tup.Len() == 2 && isVoid(tup.At(0).Type()) {
		if d, ok := defs[c.Name]; ok && setsErrno.MatchString(d.Body) {
			return // the package's own C code sets errno deliberately
		}
		r.Report(a, "CG030", "C.%s returns void, so errno after it says nothing about failure (C functions may leave errno set when they succeed); call it without the errno form", c.Name)
		return
	}
	res := a.Lhs[0]
	if id, ok := ast.Unparen(res).(*ast.Ident); ok && id.Name == "_" {
		r.Report(a, "CG030", "errno from C.%s is read but the result is discarded: errno may be left set on success, so check the result for failure first", c.Name)
		return
	}
	resUse := firstRef(info, body, res, a.End())
	if resUse != nil && resUse.Pos() <= errUse.Pos() {
		return
	}
	// Reading err inside a condition that also tests r is fine: r == -1 && err == EINTR.
	if cond := condOf(stack, body, errUse); cond != nil && mentionsRef(info, cond, res) {
		return
	}
	name := types.ExprString(res)
	r.Report(errUse, "CG030", "err from C.%s is read before %s: C functions may leave errno set on success, so test %s for failure first", c.Name, name, name)
}

// modeRe matches an fopen mode string.
var modeRe = regexp.MustCompile(`^[rwa]\+?[bt]?\+?$`)

// wrapsErrnoFunc reports a C function of the package whose body calls a
// function documenting errno (static int wrap(...) { return zmq_proxy(...); }).
func wrapsErrnoFunc(defs map[string]cgoast.CFunc, ls *lists, name string) bool {
	d, ok := defs[name]
	if !ok {
		return false
	}
	for _, m := range cCallName.FindAllStringSubmatch(d.Body, -1) {
		if ls.errno.has(m[1]) {
			return true
		}
	}
	return false
}

var cCallName = regexp.MustCompile(`\b([A-Za-z_][A-Za-z0-9_]*)\s*\(`)

// setsErrno matches C code that assigns errno.
var setsErrno = regexp.MustCompile(`\berrno\s*=[^=]`)

// sameRef reports whether a and b name the same variable or field path
// (x, x.f, x.f.g, *p).
func sameRef(info *types.Info, a, b ast.Expr) bool {
	a, b = ast.Unparen(a), ast.Unparen(b)
	switch x := a.(type) {
	case *ast.Ident:
		y, ok := b.(*ast.Ident)
		return ok && info.ObjectOf(x) != nil && info.ObjectOf(x) == info.ObjectOf(y)
	case *ast.SelectorExpr:
		y, ok := b.(*ast.SelectorExpr)
		return ok && info.ObjectOf(x.Sel) == info.ObjectOf(y.Sel) && sameRef(info, x.X, y.X)
	case *ast.StarExpr:
		y, ok := b.(*ast.StarExpr)
		return ok && sameRef(info, x.X, y.X)
	}
	return false
}

// firstRef returns the first expression in body after pos that refers to
// the same variable or field path as ref.
func firstRef(info *types.Info, body *ast.BlockStmt, ref ast.Expr, after token.Pos) ast.Node {
	var first ast.Node
	ast.Inspect(body, func(n ast.Node) bool {
		e, ok := n.(ast.Expr)
		if !ok || n.Pos() <= after {
			return true
		}
		if sameRef(info, e, ref) {
			if first == nil || e.Pos() < first.Pos() {
				first = e
			}
			return false
		}
		return true
	})
	return first
}

// mentionsRef reports whether n contains a reference to ref.
func mentionsRef(info *types.Info, n ast.Node, ref ast.Expr) bool {
	found := false
	ast.Inspect(n, func(m ast.Node) bool {
		if e, ok := m.(ast.Expr); ok && !found && sameRef(info, e, ref) {
			found = true
		}
		return !found
	})
	return found
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
