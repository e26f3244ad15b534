package suite

import (
	"fmt"
	"go/ast"
	"go/token"
	"sort"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// DefaultAdvisoryPerFunction is the default of Options.AdvisoryPerFunction:
// with advisory rules on, each function gets at most this many findings of
// each advisory rule; the last one says how many more there were.
const DefaultAdvisoryPerFunction = 1

// advisoryRules are the rules whose findings are advice rather than bugs
// or hazards: a cgo call in a loop (CG028), a C call under a mutex (CG027),
// a C string built from bytes that might hold a NUL (CG020). They are off
// by default in both drivers. A rule's metadata may also mark it advisory
// (see Advisory).
var advisoryRules = map[string]bool{
	"CG020": true,
	"CG027": true,
	"CG028": true,
}

// Advisory reports whether the rule is advisory: its findings point at
// code worth a look (performance, robustness) rather than at a bug, so the
// drivers report them only when asked to (-advisory, or advisory: true in
// the configuration file).
func Advisory(id string) bool {
	return advisoryRules[strings.ToUpper(id)]
}

// AdvisoryRules returns the IDs of the advisory rules, sorted.
func AdvisoryRules() []string {
	out := make([]string, 0, len(advisoryRules))
	for id := range advisoryRules {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Options say which findings the analyzers returned by Configure report.
// The zero value is the default of both drivers: no advisory findings, no
// findings in _test.go files.
type Options struct {
	// Advisory reports the findings of advisory rules (see Advisory).
	Advisory bool
	// Explicit lists rules the user named (cgoguard vet -rules): they are
	// reported even when they are advisory and Advisory is false.
	Explicit []string
	// AdvisoryPerFunction caps the findings of each advisory rule in one
	// function (a function declaration; package-level code counts as one
	// function per file). 0 means DefaultAdvisoryPerFunction; a negative
	// value means no cap.
	AdvisoryPerFunction int
	// Tests reports findings in _test.go files.
	Tests bool
	// Disable lists rules whose findings are dropped.
	Disable []string
}

func (o Options) perFunction() int {
	switch {
	case o.AdvisoryPerFunction == 0:
		return DefaultAdvisoryPerFunction
	case o.AdvisoryPerFunction < 0:
		return -1
	}
	return o.AdvisoryPerFunction
}

// Configure returns copies of the analyzers of All (same names, flags and
// order; the last is the suppression check) whose diagnostics are filtered
// by *o: advisory findings dropped unless asked for and capped per
// function, findings in test files and of disabled rules dropped. *o is
// read when each package's analysis starts, so command-line flags bound to
// its fields may be parsed after Configure returns; it must not change
// while analysis runs. The copies share their flags with the originals.
// Suppressions are counted before filtering, so a //cgoguard:ignore of an
// advisory rule is "used" whether or not the advisory rules are on.
func Configure(o *Options) []*analysis.Analyzer {
	f := &filter{opts: o}
	out := make([]*analysis.Analyzer, 0, len(Analyzers)+1)
	for _, a := range Analyzers {
		c := *a
		c.Run = f.wrap(a.Run)
		out = append(out, &c)
	}
	s := *Suppressions
	s.Requires = append([]*analysis.Analyzer(nil), out...)
	s.Run = f.wrap(runSuppressions)
	return append(out, &s)
}

type filter struct {
	opts *Options
}

// settings is one reading of the options.
type settings struct {
	Options
	explicit, disabled map[string]bool
	max                int
}

func (f *filter) settings() *settings {
	s := &settings{Options: *f.opts, explicit: map[string]bool{}, disabled: map[string]bool{}}
	s.max = s.perFunction()
	for _, id := range s.Explicit {
		s.explicit[strings.ToUpper(id)] = true
	}
	for _, id := range s.Disable {
		s.disabled[strings.ToUpper(id)] = true
	}
	return s
}

func (f *filter) wrap(run func(*analysis.Pass) (any, error)) func(*analysis.Pass) (any, error) {
	return func(pass *analysis.Pass) (any, error) {
		var held []analysis.Diagnostic
		inner := *pass
		inner.Report = func(d analysis.Diagnostic) { held = append(held, d) }
		res, err := run(&inner)
		for _, d := range f.settings().apply(pass.Fset, pass.Files, held) {
			pass.Report(d)
		}
		return res, err
	}
}

// apply filters the diagnostics of one analyzer on one package.
func (f *settings) apply(fset *token.FileSet, files []*ast.File, ds []analysis.Diagnostic) []analysis.Diagnostic {
	type key struct {
		fn   token.Pos
		file string
		rule string
	}
	groups := map[key][]int{}
	var order []key
	keep := make([]bool, len(ds))
	for i, d := range ds {
		if !f.Tests && strings.HasSuffix(fset.Position(d.Pos).Filename, "_test.go") {
			continue
		}
		rule := d.Category
		if f.disabled[rule] {
			continue
		}
		if !Advisory(rule) {
			keep[i] = true
			continue
		}
		if !f.Advisory && !f.explicit[rule] {
			continue
		}
		keep[i] = true
		if f.max < 0 {
			continue
		}
		k := key{fn: enclosingFunc(files, d.Pos), rule: rule}
		if k.fn == token.NoPos {
			k.file = fset.Position(d.Pos).Filename
		}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	for _, k := range order {
		idx := groups[k]
		if len(idx) <= f.max {
			continue
		}
		sort.Slice(idx, func(a, b int) bool { return ds[idx[a]].Pos < ds[idx[b]].Pos })
		for _, i := range idx[f.max:] {
			keep[i] = false
		}
		if f.max == 0 {
			continue
		}
		last := idx[f.max-1]
		ds[last].Message += fmt.Sprintf(" (%d more %s in this function not shown; -advisory-max=-1 shows all)", len(idx)-f.max, k.rule)
	}
	out := ds[:0:0]
	for i, d := range ds {
		if keep[i] {
			out = append(out, d)
		}
	}
	return out
}

// enclosingFunc returns the position of the function declaration holding
// pos, or NoPos.
func enclosingFunc(files []*ast.File, pos token.Pos) token.Pos {
	for _, f := range files {
		if pos < f.FileStart || pos > f.FileEnd {
			continue
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Pos() <= pos && pos <= fd.End() {
				return fd.Pos()
			}
		}
		return token.NoPos
	}
	return token.NoPos
}
