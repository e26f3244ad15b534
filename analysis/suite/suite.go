package suite

import (
	"fmt"
	"sort"
	"strings"

	"golang.org/x/tools/go/analysis"

	"github.com/cgoguard/cgoguard/analysis/advisory"
	"github.com/cgoguard/cgoguard/analysis/cerrors"
	"github.com/cgoguard/cgoguard/analysis/cstrings"
	"github.com/cgoguard/cgoguard/analysis/handles"
	"github.com/cgoguard/cgoguard/analysis/internal/cgoast"
	"github.com/cgoguard/cgoguard/analysis/internal/diag"
	"github.com/cgoguard/cgoguard/analysis/lifetimes"
	"github.com/cgoguard/cgoguard/analysis/memory"
	"github.com/cgoguard/cgoguard/analysis/pointers"
	"github.com/cgoguard/cgoguard/analysis/signals"
	"github.com/cgoguard/cgoguard/analysis/threads"
)

// Analyzers are the theme analyzers, each reporting the rules of one
// theme through diag.Reporter and returning a *diag.Result.
var Analyzers = []*analysis.Analyzer{
	pointers.Analyzer,  // CG001-CG008
	handles.Analyzer,   // CG009, CG010, CG024
	signals.Analyzer,   // CG032
	advisory.Analyzer,  // CG011, CG028
	memory.Analyzer,    // CG012-CG018
	cstrings.Analyzer,  // CG019, CG020
	lifetimes.Analyzer, // CG021-CG023
	threads.Analyzer,   // CG026, CG027, CG029
	cerrors.Analyzer,   // CG030, CG031
}

// themeOf maps a theme (diag.Rule.Theme) to its analyzer.
var themeOf = func() map[string]*analysis.Analyzer {
	m := map[string]*analysis.Analyzer{}
	for _, a := range Analyzers {
		m[a.Name] = a
	}
	return m
}()

// Suppressions checks the //cgoguard:ignore directives of a package
// (CG000). Its flag -rules (comma-separated IDs, default all) limits the
// "suppresses nothing" report to the rules that were checked.
var Suppressions = &analysis.Analyzer{
	Name:       "suppressions",
	Doc:        "check //cgoguard:ignore directives (CG000): reason given, rule known, something suppressed",
	URL:        diag.BaseURL + "CG000.md",
	Requires:   Analyzers,
	Run:        runSuppressions,
	ResultType: diag.ResultType,
}

var onlyRules string

func init() {
	Suppressions.Flags.StringVar(&onlyRules, "rules", "", "comma-separated rule IDs whose unused suppressions are reported (default: all)")
}

// All returns the theme analyzers followed by Suppressions.
func All() []*analysis.Analyzer {
	return append(append([]*analysis.Analyzer(nil), Analyzers...), Suppressions)
}

// Rules returns the metadata of the implemented rules (those whose theme
// analyzer is in Analyzers) plus CG000, ordered by ID.
func Rules() []Rule {
	var out []Rule
	for _, r := range diag.Rules() {
		if Implemented(r.ID) {
			out = append(out, r)
		}
	}
	return out
}

// Implemented reports whether the rule ID is checked by the suite.
func Implemented(id string) bool {
	r, ok := diag.Lookup(id)
	if !ok {
		return false
	}
	if r.ID == diag.SuppressionRule {
		return true
	}
	_, ok = themeOf[r.Theme]
	return ok
}

// AnalyzerFor returns the analyzer that implements the rule, nil if none.
func AnalyzerFor(id string) *analysis.Analyzer {
	r, ok := diag.Lookup(id)
	if !ok {
		return nil
	}
	if r.ID == diag.SuppressionRule {
		return Suppressions
	}
	return themeOf[r.Theme]
}

// ParseRules parses a comma-separated list of rule IDs ("CG013,cg014"),
// rejecting unknown IDs.
func ParseRules(list string) ([]string, error) {
	var out []string
	for _, id := range strings.Split(list, ",") {
		id = strings.ToUpper(strings.TrimSpace(id))
		if id == "" {
			continue
		}
		if _, ok := diag.Lookup(id); !ok {
			return nil, fmt.Errorf("cgoguard: unknown rule %q", id)
		}
		out = append(out, id)
	}
	sort.Strings(out)
	return out, nil
}

type dirKey struct {
	file string
	line int
	rule string
}

func runSuppressions(pass *analysis.Pass) (any, error) {
	r := diag.New(pass)
	used := map[dirKey]bool{}
	// The theme analyzers are the requirements: Analyzers themselves, or
	// the copies Configure made of them.
	for _, a := range pass.Analyzer.Requires {
		res, _ := pass.ResultOf[a].(*diag.Result)
		if res == nil {
			continue
		}
		for _, u := range res.Used {
			used[dirKey{u.File, u.Line, u.Rule}] = true
		}
	}
	var only map[string]bool
	if onlyRules != "" {
		only = map[string]bool{}
		ids, err := ParseRules(onlyRules)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			only[id] = true
		}
	}
	var dirs []diag.Directive
	for _, f := range cgoast.UserFiles(pass.Files) {
		dirs = append(dirs, diag.Directives(pass.Fset, f)...)
	}
	for _, name := range pass.OtherFiles {
		if !strings.HasSuffix(name, ".c") && !strings.HasSuffix(name, ".h") {
			continue
		}
		content, err := pass.ReadFile(name)
		if err != nil || !strings.Contains(string(content), diag.Prefix) {
			continue
		}
		tf := pass.Fset.AddFile(name, -1, len(content))
		tf.SetLinesForContent(content)
		dirs = append(dirs, diag.TextDirectives(tf, string(content))...)
	}
	for _, d := range dirs {
		at := diag.PosRange(d.Pos)
		if len(d.Rules) == 0 {
			r.Report(at, diag.SuppressionRule, "//cgoguard:ignore names no rule; write //cgoguard:ignore CGxxx reason")
			continue
		}
		if d.Reason == "" {
			r.Report(at, diag.SuppressionRule, "//cgoguard:ignore %s has no reason; a suppression must say why (it suppresses nothing until it does)", strings.Join(d.Rules, ","))
			continue
		}
		for _, id := range d.Rules {
			switch {
			case id == diag.SuppressionRule:
			case !known(id):
				r.Report(at, diag.SuppressionRule, "//cgoguard:ignore names unknown rule %s", id)
			case !Implemented(id):
				r.Report(at, diag.SuppressionRule, "//cgoguard:ignore names %s, which this build does not check", id)
			case only != nil && !only[id]:
			case !used[dirKey{d.File, d.Line, id}]:
				r.Report(at, diag.SuppressionRule, "//cgoguard:ignore %s suppresses no finding; remove it", id)
			}
		}
	}
	return r.Result(), nil
}

func known(id string) bool {
	_, ok := diag.Lookup(id)
	return ok
}

// Rule is the metadata of one rule: ID, name, summary, default severity,
// theme, and URL of its documentation page.
type Rule = diag.Rule

// Result is what each analyzer of the suite returns: the findings that
// //cgoguard:ignore directives suppressed, and the directives used.
type Result = diag.Result

// SuppressionRule is the ID of the suppression check, "CG000".
const SuppressionRule = diag.SuppressionRule

// Lookup returns the metadata of a rule, implemented or not.
func Lookup(id string) (Rule, bool) { return diag.Lookup(id) }
