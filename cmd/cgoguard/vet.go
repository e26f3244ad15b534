package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/packages"

	"github.com/cgoguard/cgoguard/analysis/suite"
	"github.com/cgoguard/cgoguard/internal/sarif"
)

func init() {
	register(&command{
		name:    "vet",
		summary: "check Go packages for cgo hazards (rules CG001-CG032)",
		run:     runVet,
	})
}

const vetUsage = `usage: cgoguard vet [-format text|json|sarif] [-rules CG013,CG014] [-disable CG028] [packages]

Checks the packages (default ./...) for cgo hazards. Exit status: 0 no
findings, 1 findings, 2 errors (bad flags, packages that do not load).
Findings suppressed with //cgoguard:ignore are listed in json and sarif
output, marked as suppressed.

Flags:
`

// vetFinding is one finding in the JSON output. The JSON shape is a
// contract with the checklist runner: change it only by adding fields.
type vetFinding struct {
	Rule          string `json:"rule"`
	Severity      string `json:"severity"`
	Message       string `json:"message"`
	File          string `json:"file"`
	Line          int    `json:"line"`
	Column        int    `json:"column"`
	EndLine       int    `json:"end_line"`
	EndColumn     int    `json:"end_column"`
	Suppressed    bool   `json:"suppressed"`
	Justification string `json:"justification"`
}

// vetReport is the JSON output.
type vetReport struct {
	Findings []vetFinding `json:"findings"`
	Errors   []string     `json:"errors"`
}

func runVet(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "text", "output format: text, json or sarif")
	rulesFlag := fs.String("rules", "", "comma-separated rule IDs to check (default: all)")
	disableFlag := fs.String("disable", "", "comma-separated rule IDs not to check")
	fs.Usage = func() {
		fmt.Fprint(stderr, vetUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch *format {
	case "text", "json", "sarif":
	default:
		fmt.Fprintf(stderr, "cgoguard vet: unknown -format %q (want text, json or sarif)\n", *format)
		return 2
	}
	selected, err := selectRules(*rulesFlag, *disableFlag)
	if err != nil {
		fmt.Fprintf(stderr, "cgoguard vet: %v\n", err)
		return 2
	}
	patterns := fs.Args()
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	rep := vetPackages(patterns, selected)
	switch *format {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "cgoguard vet: %v\n", err)
			return 2
		}
	case "sarif":
		if err := vetSARIF(rep, selected).Write(stdout); err != nil {
			fmt.Fprintf(stderr, "cgoguard vet: %v\n", err)
			return 2
		}
		for _, e := range rep.Errors {
			fmt.Fprintf(stderr, "cgoguard vet: %s\n", e)
		}
	default:
		suppressed := 0
		for _, f := range rep.Findings {
			if f.Suppressed {
				suppressed++
				continue
			}
			fmt.Fprintf(stdout, "%s:%d:%d: %s\n", f.File, f.Line, f.Column, f.Message)
		}
		if suppressed > 0 {
			fmt.Fprintf(stdout, "(%d suppressed by //cgoguard:ignore)\n", suppressed)
		}
		for _, e := range rep.Errors {
			fmt.Fprintf(stderr, "cgoguard vet: %s\n", e)
		}
	}
	if len(rep.Errors) > 0 {
		return 2
	}
	for _, f := range rep.Findings {
		if !f.Suppressed {
			return 1
		}
	}
	return 0
}

// selectRules returns the rule IDs to report: -rules (default every
// implemented rule) minus -disable.
func selectRules(only, disable string) (map[string]bool, error) {
	sel := map[string]bool{}
	if strings.TrimSpace(only) == "" {
		for _, r := range suite.Rules() {
			sel[r.ID] = true
		}
	} else {
		ids, err := suite.ParseRules(only)
		if err != nil {
			return nil, fmt.Errorf("-rules: %w", err)
		}
		for _, id := range ids {
			if !suite.Implemented(id) {
				return nil, fmt.Errorf("-rules: rule %s is not implemented (see docs/rules/%s.md)", id, id)
			}
			sel[id] = true
		}
	}
	ids, err := suite.ParseRules(disable)
	if err != nil {
		return nil, fmt.Errorf("-disable: %w", err)
	}
	for _, id := range ids {
		delete(sel, id)
	}
	if len(sel) == 0 {
		return nil, errors.New("no rules left to check")
	}
	return sel, nil
}

// analyzersFor returns the analyzers needed for the selected rules. The
// suppression check needs all of them.
func analyzersFor(sel map[string]bool) []*analysis.Analyzer {
	if sel[suite.SuppressionRule] {
		return suite.All()
	}
	seen := map[*analysis.Analyzer]bool{}
	var out []*analysis.Analyzer
	for id := range sel {
		if a := suite.AnalyzerFor(id); a != nil && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// vetPackages loads the packages and runs the analyzers.
func vetPackages(patterns []string, sel map[string]bool) *vetReport {
	rep := &vetReport{Findings: []vetFinding{}, Errors: []string{}}
	ids := make([]string, 0, len(sel))
	for id := range sel {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if err := suite.Suppressions.Flags.Set("rules", strings.Join(ids, ",")); err != nil {
		rep.Errors = append(rep.Errors, err.Error())
		return rep
	}
	cfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedCompiledGoFiles |
			packages.NeedImports | packages.NeedTypes | packages.NeedTypesSizes |
			packages.NeedSyntax | packages.NeedTypesInfo | packages.NeedModule,
	}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		rep.Errors = append(rep.Errors, err.Error())
		return rep
	}
	var ok []*packages.Package
	for _, p := range pkgs {
		if len(p.Errors) > 0 {
			// A package that does not type-check is also reported by
			// go list when it builds export data; keep the type errors.
			typeErrs := false
			for _, e := range p.Errors {
				typeErrs = typeErrs || e.Kind == packages.TypeError
			}
			for _, e := range p.Errors {
				if typeErrs && e.Kind != packages.TypeError {
					continue
				}
				rep.Errors = append(rep.Errors, relPos(e.Error()))
			}
			continue
		}
		ok = append(ok, p)
	}
	if len(pkgs) == 0 {
		rep.Errors = append(rep.Errors, fmt.Sprintf("no packages match %s", strings.Join(patterns, " ")))
	}
	if len(ok) == 0 {
		return rep
	}
	outcomes := suite.Analyze(ok, analyzersFor(sel))
	fset := ok[0].Fset
	wd, _ := os.Getwd()
	seen := map[string]bool{}
	add := func(d analysis.Diagnostic, suppressed bool, why string) {
		rule := d.Category
		if !sel[rule] {
			return
		}
		start, end := fset.Position(d.Pos), fset.Position(d.End)
		if !end.IsValid() {
			end = start
		}
		f := vetFinding{
			Rule: rule, Severity: severity(rule), Message: d.Message,
			File: relPath(wd, start.Filename), Line: start.Line, Column: start.Column,
			EndLine: end.Line, EndColumn: end.Column,
			Suppressed: suppressed, Justification: why,
		}
		key := fmt.Sprintf("%s:%d:%d:%s:%v", f.File, f.Line, f.Column, f.Message, f.Suppressed)
		if seen[key] {
			return
		}
		seen[key] = true
		rep.Findings = append(rep.Findings, f)
	}
	for _, o := range outcomes {
		if o.Err != nil {
			rep.Errors = append(rep.Errors, o.Err.Error())
		}
		for _, ds := range o.Diagnostics {
			for _, d := range ds {
				add(d, false, "")
			}
		}
		for _, r := range o.Results {
			if res, ok := r.(*suite.Result); ok {
				for _, s := range res.Suppressed {
					add(s.Diagnostic, true, s.Justification)
				}
			}
		}
	}
	sort.SliceStable(rep.Findings, func(i, j int) bool {
		a, b := rep.Findings[i], rep.Findings[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return a.Rule < b.Rule
	})
	return rep
}

func severity(rule string) string {
	if r, ok := suite.Lookup(rule); ok {
		return string(r.Severity)
	}
	return "warning"
}

// relPath makes name relative to dir when it lies below it.
func relPath(dir, name string) string {
	if dir == "" || !filepath.IsAbs(name) {
		return name
	}
	rel, err := filepath.Rel(dir, name)
	if err != nil || strings.HasPrefix(rel, "..") {
		return name
	}
	return filepath.ToSlash(rel)
}

// relPos shortens an absolute "file:line:col: msg" error position and
// drops the "-: " go/packages puts before errors without a position.
func relPos(msg string) string {
	msg = strings.TrimPrefix(msg, "-: ")
	wd, err := os.Getwd()
	if err != nil {
		return msg
	}
	return strings.ReplaceAll(msg, wd+string(filepath.Separator), "")
}

// vetSARIF converts the report to SARIF 2.1.0.
func vetSARIF(rep *vetReport, sel map[string]bool) *sarif.Log {
	log := sarif.New()
	run := sarif.Run{
		Tool: sarif.Tool{Driver: sarif.Driver{
			Name:           "cgoguard vet",
			InformationURI: "https://github.com/cgoguard/cgoguard",
		}},
		Results:     []sarif.Result{},
		Invocations: []sarif.Invocation{{ExecutionSuccessful: len(rep.Errors) == 0}},
	}
	index := map[string]int{}
	for _, r := range suite.Rules() {
		if !sel[r.ID] {
			continue
		}
		index[r.ID] = len(run.Tool.Driver.Rules)
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarif.Rule{
			ID:                   r.ID,
			Name:                 r.Name,
			ShortDescription:     &sarif.Message{Text: r.Summary},
			HelpURI:              r.URL(),
			DefaultConfiguration: &sarif.Configuration{Level: string(r.Severity)},
			Properties:           map[string]any{"theme": r.Theme},
		})
	}
	for _, f := range rep.Findings {
		res := sarif.Result{
			RuleID:    f.Rule,
			RuleIndex: index[f.Rule],
			Level:     f.Severity,
			Message:   sarif.Message{Text: f.Message},
			Locations: []sarif.Location{{PhysicalLocation: sarif.PhysicalLocation{
				ArtifactLocation: sarif.ArtifactLocation{URI: f.File},
				Region: &sarif.Region{
					StartLine: f.Line, StartColumn: f.Column,
					EndLine: f.EndLine, EndColumn: f.EndColumn,
				},
			}}},
		}
		if !filepath.IsAbs(f.File) {
			res.Locations[0].PhysicalLocation.ArtifactLocation.URIBaseID = "%SRCROOT%"
		}
		if f.Suppressed {
			res.Suppressions = []sarif.Suppression{{Kind: "inSource", Justification: f.Justification}}
		}
		run.Results = append(run.Results, res)
	}
	log.Runs = []sarif.Run{run}
	return log
}
