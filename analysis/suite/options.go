package suite

import (
	"fmt"
	"go/ast"
	"go/token"
	"sort"
	"strings"

	"golang.org/x/tools/go/analysis"

	"github.com/cgoguard/cgoguard/analysis/internal/diag"
)

// Defaults of the caps on advisory findings (Options.AdvisoryPerFunction,
// Options.AdvisoryPerPackage): with advisory rules on, each function gets
// at most DefaultAdvisoryPerFunction findings of each advisory rule, and
// each package DefaultAdvisoryPerPackage; the last one shown says how many
// more there were. An advisory rule tends to fire on every instance of a
// code base's habit (per-element accessor calls, a lock around every
// call): one instance, with the count of the others, makes the point. On
// 14 real cgo modules (analysis/realworld) a cap of one per package keeps
// the advisory notes under 10% of the output; three per package would make
// about 17%, no cap 46%.
const (
	DefaultAdvisoryPerFunction = 1
	DefaultAdvisoryPerPackage  = 1
)

// Advisory reports whether the rule is advisory (its metadata says so:
// Rule.Advisory): its findings point at code worth a look (a C call in a
// loop or under a mutex, a C string built from bytes that might hold a
// NUL) rather than at a bug, so the drivers report them only when asked
// to (-advisory, advisory: true in the configuration file, or the rule
// named in -rules).
func Advisory(id string) bool { return diag.IsAdvisory(id) }

// AdvisoryRules returns the IDs of the advisory rules, sorted.
func AdvisoryRules() []string {
	var out []string
	for _, r := range diag.Rules() {
		if r.Advisory && Implemented(r.ID) {
			out = append(out, r.ID)
		}
	}
	return out
}

// Options say which findings the analyzers returned by Configure report.
// The zero value is the default of both drivers: no advisory findings, no
// findings in _test.go files.
type Options struct {
	// Advisory reports the findings of advisory rules (see Advisory).
	Advisory bool
	// Explicit lists rules the user named (cgoguard vet -rules): they are
	// reported even when they are advisory and Advisory is false, and
	// without the caps.
	Explicit []string
	// AdvisoryPerFunction caps the findings of each advisory rule in one
	// function (a function declaration; package-level code counts as one
	// function per file). 0 means DefaultAdvisoryPerFunction; a negative
	// value means no cap.
	AdvisoryPerFunction int
	// AdvisoryPerPackage caps the findings of each advisory rule in one
	// package, after the cap per function; the last one shown says how
	// many more there are. 0 means DefaultAdvisoryPerPackage; a negative
	// value means no cap.
	AdvisoryPerPackage int
	// Tests reports findings in _test.go files.
	Tests bool
	// Disable lists rules whose findings are dropped.
	Disable []string
}

// capOf returns the cap an option stands for: 0 the default, negative no
// cap (-1).
func capOf(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return -1
	}
	return v
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
	maxFn, maxPkg      int
}

func (f *filter) settings() *settings {
	s := &settings{Options: *f.opts, explicit: map[string]bool{}, disabled: map[string]bool{}}
	s.maxFn = capOf(s.AdvisoryPerFunction, DefaultAdvisoryPerFunction)
	s.maxPkg = capOf(s.AdvisoryPerPackage, DefaultAdvisoryPerPackage)
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
	type fnKey struct {
		fn   token.Pos
		file string
		rule string
	}
	var advisory []int
	keep := make([]bool, len(ds))
	for i, d := range ds {
		if !f.Tests && strings.HasSuffix(fset.Position(d.Pos).Filename, "_test.go") {
			continue
		}
		rule := d.Category
		switch {
		case f.disabled[rule]:
		case !Advisory(rule):
			keep[i] = true
		case f.explicit[rule]:
			keep[i] = true // named by the user: every finding, no cap
		case f.Advisory:
			keep[i] = true
			advisory = append(advisory, i)
		}
	}
	sort.SliceStable(advisory, func(a, b int) bool { return ds[advisory[a]].Pos < ds[advisory[b]].Pos })
	// Per function: the first maxFn findings of each rule; the last shown
	// one says how many more the function has.
	hiddenIn := map[int]int{} // shown finding -> hidden in its function
	if f.maxFn >= 0 {
		last := map[fnKey]int{}
		count := map[fnKey]int{}
		for _, i := range advisory {
			k := fnKey{fn: enclosingFunc(files, ds[i].Pos), rule: ds[i].Category}
			if k.fn == token.NoPos {
				k.file = fset.Position(ds[i].Pos).Filename
			}
			count[k]++
			if count[k] <= f.maxFn {
				last[k] = i
				continue
			}
			keep[i] = false
			hiddenIn[last[k]]++
		}
	}
	// Per package: the first maxPkg findings of each rule left; the last
	// one shown also says how many more the package has elsewhere.
	total := map[string]int{}
	for _, i := range advisory {
		total[ds[i].Category]++
	}
	elsewhere := map[int]int{}
	if f.maxPkg >= 0 {
		shown := map[string]int{}
		lastShown := map[string]int{}
		for _, i := range advisory {
			if !keep[i] {
				continue
			}
			r := ds[i].Category
			if shown[r] < f.maxPkg {
				shown[r]++
				lastShown[r] = i
				continue
			}
			keep[i] = false
		}
		for r, i := range lastShown {
			more := total[r] - shown[r]
			for j, n := range hiddenIn {
				if keep[j] && ds[j].Category == r {
					more -= n
				}
			}
			if more > 0 {
				elsewhere[i] = more
			}
		}
	}
	for _, i := range advisory {
		if !keep[i] {
			continue
		}
		r := ds[i].Category
		fn, pkg := hiddenIn[i], elsewhere[i]
		switch {
		case fn > 0 && pkg > 0:
			ds[i].Message += fmt.Sprintf(" (%d more %s in this function and %d elsewhere in this package not shown; -advisory-max=-1 -advisory-package-max=-1 show them)", fn, r, pkg)
		case fn > 0:
			ds[i].Message += fmt.Sprintf(" (%d more %s in this function not shown; -advisory-max=-1 shows them)", fn, r)
		case pkg > 0:
			ds[i].Message += fmt.Sprintf(" (%d more %s in this package not shown; -advisory-package-max=-1 shows them)", pkg, r)
		}
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
