package advisory

import (
	"go/ast"
	"go/token"
	"go/types"
	"regexp"
	"strings"

	"golang.org/x/tools/go/analysis"

	"github.com/cgoguard/cgoguard/analysis/internal/cgoast"
	"github.com/cgoguard/cgoguard/analysis/internal/diag"
)

// Doc is the analyzer's documentation.
const Doc = `advise on costly or risky cgo use (CG011, CG028)

Reports #cgo noescape/nocallback promises that the C function breaks, and
C calls made once per element inside loops.`

// URL is the documentation of the analyzer's rules.
const URL = diag.BaseURL + "README.md#advisory"

// Analyzer advises on costly or risky cgo use.
var Analyzer = &analysis.Analyzer{
	Name:       "advisory",
	Doc:        Doc,
	URL:        URL,
	Run:        run,
	ResultType: diag.ResultType,
}

func run(pass *analysis.Pass) (any, error) {
	r := diag.New(pass)
	files := cgoast.UserFiles(pass.Files)
	promises(pass, r, files)
	for _, f := range files {
		for _, fd := range cgoast.Funcs(f) {
			hotLoops(pass, r, fd)
		}
	}
	return r.Result(), nil
}

// promises checks #cgo noescape and nocallback directives (CG011).
func promises(pass *analysis.Pass, r *diag.Reporter, files []*ast.File) {
	sources := cgoast.CSources(pass)
	var defs []cgoast.CFunc
	for _, src := range sources {
		if tf := src.File(); tf != nil {
			r.AddSource(tf, src.Text)
		}
		defs = append(defs, cgoast.CFuncs(src.Code)...)
	}
	keeps := cgoast.Marked(files, "keeps")
	exported := cgoast.ExportedFuncs(files)
	for _, src := range sources {
		if !src.IsPreamble() {
			continue
		}
		for _, d := range cgoast.Directives(src.Text) {
			off := lineOffset(src.Text, d.Line)
			at := diag.PosRange(src.Pos(off))
			var def *cgoast.CFunc
			for i := range defs {
				if defs[i].Name == d.Func {
					def = &defs[i]
				}
			}
			switch d.Kind {
			case "noescape":
				if why := keepsPointer(def, keeps, d.Func); why != "" {
					r.Report(at, "CG011", "#cgo noescape %s, but %s %s; the Go pointer may be freed or moved while C holds it", d.Func, d.Func, why)
				}
			case "nocallback":
				if why := callsBack(def, exported); why != "" {
					r.Report(at, "CG011", "#cgo nocallback %s, but %s %s; a callback into Go from a nocallback call crashes the program", d.Func, d.Func, why)
				}
			}
		}
	}
}

func lineOffset(text string, line int) int {
	off := 0
	for i := 0; i < line; i++ {
		j := strings.IndexByte(text[off:], '\n')
		if j < 0 {
			return off
		}
		off += j + 1
	}
	return off
}

var identRe = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)

// pointerParams returns the names of the pointer parameters of a C
// parameter list.
func pointerParams(params string) []string {
	var out []string
	for _, p := range strings.Split(params, ",") {
		if !strings.Contains(p, "*") {
			continue
		}
		if strings.Contains(p, "(") { // function pointer
			continue
		}
		ids := identRe.FindAllString(p, -1)
		if len(ids) > 0 {
			out = append(out, ids[len(ids)-1])
		}
	}
	return out
}

// funcPointerParams returns the names of function-pointer parameters:
// "void (*cb)(int)".
func funcPointerParams(params string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`\(\s*\*\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)`).FindAllStringSubmatch(params, -1) {
		out = append(out, m[1])
	}
	return out
}

// keepsPointer says why f keeps a pointer argument, or "".
func keepsPointer(def *cgoast.CFunc, marked map[string]bool, name string) string {
	if marked[name] {
		return "is marked //cgoguard:keeps"
	}
	if def == nil {
		if cgoast.Keeps(marked, name) {
			return "is named like a function that keeps its argument"
		}
		return ""
	}
	for _, p := range pointerParams(def.Params) {
		// X = p; or X = (T *)p; where X is not a fresh local.
		re := regexp.MustCompile(`(^|[;{}])\s*([A-Za-z_][A-Za-z0-9_]*(\s*(->|\.)\s*[A-Za-z_][A-Za-z0-9_]*|\s*\[[^\]]*\])*)\s*=\s*(\([^()]*\)\s*)?` + regexp.QuoteMeta(p) + `\s*;`)
		for _, m := range re.FindAllStringSubmatch(def.Body, -1) {
			lhs := m[2]
			root := identRe.FindString(lhs)
			if strings.Contains(lhs, "->") || !declaredLocally(def.Body, root) {
				return "stores its argument " + p + " in " + strings.Join(strings.Fields(lhs), "")
			}
		}
	}
	return ""
}

// declaredLocally reports whether name is declared in body ("T name",
// "T *name").
func declaredLocally(body, name string) bool {
	re := regexp.MustCompile(`\b[A-Za-z_][A-Za-z0-9_]*\s*\**\s*\b` + regexp.QuoteMeta(name) + `\s*[;=\[,]`)
	for _, m := range re.FindAllString(body, -1) {
		first := identRe.FindString(m)
		if first != "return" && first != name {
			return true
		}
	}
	return false
}

// callsBack says why f calls back into Go, or "".
func callsBack(def *cgoast.CFunc, exported map[string]bool) string {
	if def == nil {
		return ""
	}
	for _, m := range identRe.FindAllStringIndex(def.Body, -1) {
		name := def.Body[m[0]:m[1]]
		rest := strings.TrimLeft(def.Body[m[1]:], " \t\n")
		if !strings.HasPrefix(rest, "(") {
			continue
		}
		if exported[name] {
			return "calls the exported Go function " + name
		}
	}
	for _, p := range funcPointerParams(def.Params) {
		if regexp.MustCompile(`\b` + regexp.QuoteMeta(p) + `\s*\(|\(\s*\*\s*` + regexp.QuoteMeta(p) + `\s*\)\s*\(`).MatchString(def.Body) {
			return "calls the function pointer " + p + " it is given"
		}
	}
	return ""
}

// hotLoops reports C calls made once per element of a loop (CG028).
func hotLoops(pass *analysis.Pass, r *diag.Reporter, fd *ast.FuncDecl) {
	info := pass.TypesInfo
	reported := map[ast.Node]bool{}
	var visit func(n ast.Node, loops []loop)
	visit = func(n ast.Node, loops []loop) {
		ast.Inspect(n, func(m ast.Node) bool {
			switch x := m.(type) {
			case *ast.FuncLit:
				if m != n {
					return false // another function: its own loops
				}
			case *ast.ForStmt, *ast.RangeStmt:
				if m == n {
					return true
				}
				l, ok := newLoop(info, x)
				inner := loops
				if ok {
					inner = append(append([]loop(nil), loops...), l)
				}
				visit(x, inner)
				return false
			case *ast.CallExpr:
				call, ok := cgoast.AsCall(x)
				if !ok || len(loops) == 0 {
					return true
				}
				if isCheap(call.Name) {
					return !call.Checked
				}
				l := loops[len(loops)-1]
				if !reported[x] && l.uses(info, call) {
					reported[x] = true
					r.Report(call, "CG028", "C.%s is called once per iteration of the loop over %s; each cgo call pays the Go-to-C transition: pass the whole batch to C in one call", call.Name, l.what)
				}
				return !call.Checked
			}
			return true
		})
	}
	visit(fd.Body, nil)
}

// isCheap reports cgo helpers that do not cross into C.
func isCheap(name string) bool {
	switch name {
	case "GoString", "GoStringN", "GoBytes":
		return true
	}
	return false
}

// loop is a loop with iteration variables.
type loop struct {
	vars map[*types.Var]bool
	what string
}

func newLoop(info *types.Info, n ast.Node) (loop, bool) {
	l := loop{vars: map[*types.Var]bool{}}
	switch x := n.(type) {
	case *ast.RangeStmt:
		for _, e := range []ast.Expr{x.Key, x.Value} {
			if id, ok := e.(*ast.Ident); ok && id.Name != "_" {
				if v, ok := info.Defs[id].(*types.Var); ok {
					l.vars[v] = true
				} else if v, ok := info.Uses[id].(*types.Var); ok {
					l.vars[v] = true
				}
			}
		}
		if _, isChan := cgoast.Under(info.TypeOf(x.X)).(*types.Chan); isChan {
			return l, false // a consumer loop, paced by its channel
		}
		l.what = cgoast.Format(token.NewFileSet(), x.X)
	case *ast.ForStmt:
		if x.Cond == nil {
			return l, false // for { ... }: an event loop
		}
		if as, ok := x.Init.(*ast.AssignStmt); ok {
			for _, e := range as.Lhs {
				if id, ok := e.(*ast.Ident); ok {
					if v, ok := info.Defs[id].(*types.Var); ok {
						l.vars[v] = true
						l.what = id.Name
					}
				}
			}
		}
	}
	return l, len(l.vars) > 0
}

// uses reports whether an argument of the call mentions an iteration
// variable of the loop.
func (l loop) uses(info *types.Info, call *cgoast.Call) bool {
	found := false
	for _, a := range call.Args {
		ast.Inspect(a, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok {
				if v, ok := info.Uses[id].(*types.Var); ok && l.vars[v] {
					found = true
				}
				if cgoast.IsTemp(id.Name) {
					// &s[i] via _cgoIndexN: the index holds the variable.
					return true
				}
			}
			return !found
		})
	}
	return found
}
