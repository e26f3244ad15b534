package diag

import (
	"fmt"
	"go/ast"
	"go/token"
	"reflect"
	"sort"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ast/astutil"
)

// ResultType is the ResultType every theme analyzer declares: its Run
// returns the *Result of its Reporter.
var ResultType = reflect.TypeOf((*Result)(nil))

// Result is what an analyzer's Reporter saw besides its diagnostics.
type Result struct {
	// Suppressed lists the findings a directive suppressed.
	Suppressed []Suppressed
	// Used lists the (directive, rule) pairs that suppressed something.
	Used []Use
}

// Suppressed is a finding that was not reported because of a directive.
type Suppressed struct {
	// Diagnostic is the finding as it would have been reported.
	Diagnostic analysis.Diagnostic
	// Rule is the rule ID.
	Rule string
	// Justification is the directive's reason.
	Justification string
	// Directive is the position of the directive.
	Directive token.Pos
}

// Use records that the directive at Directive suppressed a finding of Rule.
// File and Line locate the directive in the user's source; they identify it
// across analyzers (a C file is added to the FileSet by each analyzer that
// reads it, so its positions differ between analyzers).
type Use struct {
	Directive token.Pos
	Rule      string
	File      string
	Line      int
}

// Reporter reports findings of one pass, honouring suppressions.
type Reporter struct {
	pass   *analysis.Pass
	files  map[*ast.File]*fileDirectives
	result Result
	used   map[Use]bool
	text   map[*token.File][]Directive
}

// New returns a Reporter for pass.
func New(pass *analysis.Pass) *Reporter {
	return &Reporter{pass: pass, files: map[*ast.File]*fileDirectives{}, used: map[Use]bool{}}
}

// Report reports a finding of rule at rng unless a directive suppresses
// it. The message is formatted with fmt.Sprintf and prefixed with the rule
// ID.
func (r *Reporter) Report(rng analysis.Range, rule, format string, args ...any) {
	r.ReportFix(rng, rule, nil, format, args...)
}

// ReportFix is Report with suggested fixes.
func (r *Reporter) ReportFix(rng analysis.Range, rule string, fixes []analysis.SuggestedFix, format string, args ...any) {
	d := analysis.Diagnostic{
		Pos:            rng.Pos(),
		End:            rng.End(),
		Category:       rule,
		Message:        rule + ": " + fmt.Sprintf(format, args...),
		SuggestedFixes: fixes,
	}
	if d.End < d.Pos {
		d.End = d.Pos
	}
	if dir, ok := r.suppression(d.Pos, d.End, rule); ok {
		u := Use{Directive: dir.Pos, Rule: rule, File: dir.File, Line: dir.Line}
		if !r.used[u] {
			r.used[u] = true
			r.result.Used = append(r.result.Used, u)
		}
		r.result.Suppressed = append(r.result.Suppressed, Suppressed{
			Diagnostic: d, Rule: rule, Justification: dir.Reason, Directive: dir.Pos,
		})
		return
	}
	r.pass.Report(d)
}

// Result returns what the Reporter recorded; return it from Run.
func (r *Reporter) Result() *Result { return &r.result }

// Pass returns the pass the Reporter reports to.
func (r *Reporter) Pass() *analysis.Pass { return r.pass }

// File returns the file of pass that contains pos, or nil.
func File(pass *analysis.Pass, pos token.Pos) *ast.File {
	for _, f := range pass.Files {
		if f.FileStart <= pos && pos <= f.FileEnd {
			return f
		}
	}
	return nil
}

// AddSource makes the Reporter honour directives written as C comments
// in a non-Go file (a .c file the analyzer added to the FileSet and reports
// into): a directive covers its own line and, standing alone, the next.
func (r *Reporter) AddSource(tf *token.File, text string) {
	if r.text == nil {
		r.text = map[*token.File][]Directive{}
	}
	r.text[tf] = TextDirectives(tf, text)
}

// TextDirectives returns the directives in C line comments of text, the
// content of tf.
func TextDirectives(tf *token.File, text string) []Directive {
	var out []Directive
	off := 0
	for i, line := range strings.SplitAfter(text, "\n") {
		if j := strings.Index(line, "//"); j >= 0 && strings.Contains(line, Prefix) {
			if rules, reason, ok := ParseDirective(line[j:]); ok {
				p := tf.Pos(off + j)
				out = append(out, Directive{
					Pos: p, File: tf.Name(), Line: i + 1,
					Trailing: strings.TrimSpace(line[:j]) != "",
					Rules:    rules, Reason: reason,
				})
			}
		}
		off += len(line)
	}
	return out
}

// suppression finds a valid directive that covers [pos, end) for rule.
func (r *Reporter) suppression(pos, end token.Pos, rule string) (Directive, bool) {
	f := File(r.pass, pos)
	if f == nil {
		tf := r.pass.Fset.File(pos)
		if tf == nil {
			return Directive{}, false
		}
		line := tf.Line(pos)
		for _, d := range r.text[tf] {
			if d.Reason == "" || !d.names(rule) {
				continue
			}
			if (d.Trailing && d.Line == line) || (!d.Trailing && (d.Line == line || d.Line+1 == line)) {
				return d, true
			}
		}
		return Directive{}, false
	}
	fd := r.directivesOf(f)
	if len(fd.dirs) == 0 {
		return Directive{}, false
	}
	fset := r.pass.Fset
	type key struct {
		file string
		line int
	}
	cand := map[key]bool{}
	add := func(p token.Pos) {
		if !p.IsValid() {
			return
		}
		ps := fset.Position(p)
		cand[key{ps.Filename, ps.Line}] = true
	}
	add(pos)
	var funcs []*ast.FuncDecl
	path, _ := astutil.PathEnclosingInterval(f, pos, end)
	for _, n := range path {
		switch n := n.(type) {
		case ast.Stmt, ast.Spec, *ast.GenDecl, *ast.FuncLit:
			add(n.Pos())
		case *ast.FuncDecl:
			add(n.Pos())
			funcs = append(funcs, n)
		}
	}
	for _, d := range fd.dirs {
		if d.Reason == "" || !d.names(rule) {
			continue
		}
		k := key{d.File, d.Line}
		if d.Trailing && cand[k] {
			return d, true
		}
		if !d.Trailing && cand[key{d.File, d.Line + 1}] {
			return d, true
		}
		for _, fn := range funcs {
			if fn.Doc != nil && fn.Doc.Pos() <= d.Pos && d.Pos < fn.Doc.End() {
				return d, true
			}
		}
	}
	return Directive{}, false
}

func (r *Reporter) directivesOf(f *ast.File) *fileDirectives {
	fd, ok := r.files[f]
	if !ok {
		fd = &fileDirectives{dirs: Directives(r.pass.Fset, f)}
		r.files[f] = fd
	}
	return fd
}

type fileDirectives struct {
	dirs []Directive
}

// Directive is one //cgoguard:ignore directive.
type Directive struct {
	// Pos is the position of the directive text.
	Pos token.Pos
	// File and Line are where the directive is in the user's source (after
	// //line mapping).
	File string
	Line int
	// Trailing reports that the directive follows code on its line (it
	// covers that line) rather than standing alone (it covers the next).
	Trailing bool
	// Rules are the rule IDs named, upper-case.
	Rules []string
	// Reason is the justification; "" when missing.
	Reason string
}

func (d Directive) names(rule string) bool {
	for _, r := range d.Rules {
		if r == rule {
			return true
		}
	}
	return false
}

// Prefix is the directive marker.
const Prefix = "cgoguard:ignore"

// ParseDirective parses the text of a comment line ("//cgoguard:ignore
// CG013,CG014 reason", the comment markers optional) and reports whether it
// is a directive.
func ParseDirective(text string) (rules []string, reason string, ok bool) {
	t := strings.TrimSpace(text)
	t = strings.TrimPrefix(t, "//")
	t = strings.TrimPrefix(t, "/*")
	t = strings.TrimSuffix(t, "*/")
	t = strings.TrimSpace(t)
	if !strings.HasPrefix(t, Prefix) {
		return nil, "", false
	}
	t = t[len(Prefix):]
	if t != "" && t[0] != ' ' && t[0] != '\t' {
		return nil, "", false // e.g. cgoguard:ignored
	}
	t = strings.TrimSpace(t)
	ids, rest, _ := strings.Cut(t, " ")
	if i := strings.IndexByte(ids, '\t'); i >= 0 {
		ids, rest = ids[:i], ids[i+1:]+" "+rest
	}
	for _, id := range strings.Split(ids, ",") {
		if id = strings.TrimSpace(id); id != "" {
			rules = append(rules, strings.ToUpper(id))
		}
	}
	// A further comment on the line ends the reason:
	// //cgoguard:ignore CG013 reason // other note
	if i := strings.Index(rest, "//"); i >= 0 {
		rest = rest[:i]
	}
	return rules, strings.TrimSpace(rest), true
}

// Directives returns the //cgoguard:ignore directives of f: Go line
// comments, and C line comments ("// cgoguard:ignore ...") inside block
// comments such as a C preamble.
func Directives(fset *token.FileSet, f *ast.File) []Directive {
	var out []Directive
	var lineStarts map[int]token.Pos // lazily: first token start per raw line
	tf := fset.File(f.FileStart)
	for _, cg := range f.Comments {
		for _, c := range cg.List {
			if !strings.Contains(c.Text, Prefix) {
				continue
			}
			if strings.HasPrefix(c.Text, "//") {
				rules, reason, ok := ParseDirective(c.Text)
				if !ok {
					continue
				}
				if lineStarts == nil {
					lineStarts = firstTokens(tf, f)
				}
				p := fset.Position(c.Pos())
				first, has := lineStarts[tf.PositionFor(c.Pos(), false).Line]
				out = append(out, Directive{
					Pos: c.Pos(), File: p.Filename, Line: p.Line,
					Trailing: has && first < c.Pos(),
					Rules:    rules, Reason: reason,
				})
				continue
			}
			// Block comment: look at each line for a C line comment.
			raw := tf.PositionFor(c.Pos(), false).Line
			for i, line := range strings.Split(c.Text, "\n") {
				j := strings.Index(line, "//")
				if j < 0 {
					continue
				}
				rules, reason, ok := ParseDirective(line[j:])
				if !ok {
					continue
				}
				var p token.Pos
				if i == 0 {
					p = c.Pos() + token.Pos(j)
				} else if raw+i <= tf.LineCount() {
					p = tf.LineStart(raw+i) + token.Pos(j)
				} else {
					continue
				}
				ps := fset.Position(p)
				out = append(out, Directive{
					Pos: p, File: ps.Filename, Line: ps.Line,
					Trailing: strings.TrimSpace(line[:j]) != "",
					Rules:    rules, Reason: reason,
				})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pos < out[j].Pos })
	return out
}

// firstTokens maps each raw (unadjusted) line of f to the position of the
// first syntax node starting on it.
func firstTokens(tf *token.File, f *ast.File) map[int]token.Pos {
	m := map[int]token.Pos{}
	ast.Inspect(f, func(n ast.Node) bool {
		if n == nil {
			return true
		}
		switch n.(type) {
		case *ast.Comment, *ast.CommentGroup:
			return false
		}
		for _, p := range []token.Pos{n.Pos(), n.End() - 1} {
			if !p.IsValid() {
				continue
			}
			l := tf.PositionFor(p, false).Line
			if old, ok := m[l]; !ok || p < old {
				m[l] = p
			}
		}
		return true
	})
	return m
}

// CanFix reports whether a suggested fix may edit the file holding pos.
// Files that import "C" reach analyzers rewritten by cmd/cgo (marked as
// generated), and drivers refuse edits to generated files, so fixes are
// only offered in the package's other files.
func CanFix(pass *analysis.Pass, pos token.Pos) bool {
	f := File(pass, pos)
	return f != nil && !ast.IsGenerated(f)
}

// InsertLineAfter returns an edit that inserts line as a new line after the
// line on which stmt ends (after any trailing comment), indented like
// stmt with tabs.
func InsertLineAfter(pass *analysis.Pass, stmt ast.Node, line string) analysis.TextEdit {
	tf := pass.Fset.File(stmt.Pos())
	indent := tf.PositionFor(stmt.Pos(), false).Column - 1
	endLine := tf.PositionFor(stmt.End(), false).Line
	at := token.Pos(tf.Base() + tf.Size())
	if endLine < tf.LineCount() {
		at = tf.LineStart(endLine+1) - 1 // the newline ending stmt's line
	}
	return analysis.TextEdit{Pos: at, End: at, NewText: []byte("\n" + strings.Repeat("\t", indent) + line)}
}

// PosRange is an analysis.Range of a single position, for findings that
// have no syntax node (C text).
type PosRange token.Pos

// Pos returns the position.
func (p PosRange) Pos() token.Pos { return token.Pos(p) }

// End returns the position.
func (p PosRange) End() token.Pos { return token.Pos(p) }
