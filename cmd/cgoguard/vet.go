package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/packages"

	"github.com/cgoguard/cgoguard/analysis/suite"
	"github.com/cgoguard/cgoguard/internal/sarif"
	"github.com/cgoguard/cgoguard/report"
)

func init() {
	register(&command{
		name:    "vet",
		summary: "check Go packages for cgo hazards (rules CG001-CG032)",
		run:     runVet,
	})
}

const vetUsage = `usage: cgoguard vet [-format text|json|sarif] [-rules CG013,CG014] [-disable CG031]
                    [-advisory] [-advisory-max N] [-advisory-package-max N]
                    [-tests] [-config FILE] [-ANALYZER.FLAG VALUE ...] [packages]

Checks the packages (default ./...) for cgo hazards. Advisory rules (%s)
are reported only with -advisory (at most -advisory-max findings per
function and -advisory-package-max per package, for each rule) or when
-rules names them (then all of them). Test files are analysed only with
-tests. Settings also come from the "vet" section of .cgoguard.yaml in the
current directory or a parent up to go.mod; flags override it. The
analyzers' own flags are spelt as cgoguard-vet spells them and as the
file's vet.flags keys are, e.g. -cerrors.nostatus +mylib_reset.

Exit status: 0 no findings, 1 findings, 2 usage errors (bad flags or
configuration, no package matched), 3 some packages could not be analysed
(their C code does not compile, or their Go code does not type-check);
the other packages were analysed and their findings printed. Findings
suppressed with //cgoguard:ignore are listed in json and sarif output,
marked as suppressed.

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
	// NotAnalysed lists the packages that could not be analysed; each
	// also has an entry in Errors.
	NotAnalysed []notAnalysed `json:"not_analysed"`
	// usage is set for errors that stopped the run before any package was
	// analysed (exit 2).
	usage bool
}

// notAnalysed is a package vet could not analyse, and why.
type notAnalysed struct {
	Package string `json:"package"`
	// Reason is "c-compile" (cgo could not compile the package's C side: a
	// missing header, a pkg-config package not found...), "go" (the Go
	// code does not type-check) or "analyzer" (an analyzer failed).
	Reason string `json:"reason"`
	// Message is the C compiler's or the type checker's own message.
	Message string `json:"message"`
	// Command is the C compiler and flags cgo ran, for "c-compile".
	Command string `json:"command,omitempty"`
}

// vetFormats are the formats of cgoguard vet's -format; "txt" is
// accepted for "text" (report.CanonicalFormat).
var vetFormats = []string{"text", "json", "sarif"}

// Exit codes of cgoguard vet.
const (
	vetExitClean       = 0
	vetExitFindings    = 1
	vetExitUsage       = 2
	vetExitNotAnalysed = 3
)

// vetOptions are the settings of one run, from flags and the
// configuration file.
type vetOptions struct {
	sel      map[string]bool
	analysis suite.Options
}

func runVet(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "text", "output format: "+report.FormatList(vetFormats))
	rulesFlag := fs.String("rules", "", "comma-separated rule IDs to check (default: all but the advisory rules); advisory rules named here are reported")
	disableFlag := fs.String("disable", "", "comma-separated rule IDs not to check")
	advisory := fs.Bool("advisory", false, "also report the advisory rules ("+strings.Join(suite.AdvisoryRules(), ", ")+")")
	advisoryMax := fs.Int("advisory-max", suite.DefaultAdvisoryPerFunction, "with -advisory, at most this many findings of each advisory rule per function (-1: all)")
	advisoryPkgMax := fs.Int("advisory-package-max", suite.DefaultAdvisoryPerPackage, "with -advisory, at most this many findings of each advisory rule per package (-1: all)")
	tests := fs.Bool("tests", false, "also analyse _test.go files (the test variants of the packages, as go vet does)")
	configFile := fs.String("config", "", "configuration file (default: "+suite.ConfigName+" in the current directory or a parent up to go.mod)")
	analyzerFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, vetUsage, strings.Join(suite.AdvisoryRules(), ", "))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return vetExitClean
		}
		return vetExitUsage
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	*format = report.CanonicalFormat(*format)
	if !slices.Contains(vetFormats, *format) {
		fmt.Fprintf(stderr, "cgoguard vet: unknown -format %q (accepted: %s)\n", *format, report.FormatList(vetFormats))
		return vetExitUsage
	}
	for name, v := range map[string]int{"advisory-max": *advisoryMax, "advisory-package-max": *advisoryPkgMax} {
		if v < -1 || v == 0 {
			fmt.Fprintf(stderr, "cgoguard vet: -%s %d is out of range (-1 for all, or 1 or more; leave out -advisory to report none)\n", name, v)
			return vetExitUsage
		}
	}
	var cfg *suite.Config
	var err error
	if *configFile != "" {
		cfg, err = suite.LoadConfig(*configFile)
	} else {
		cfg, err = suite.FindConfig(".")
	}
	if err == nil {
		for k := range cfg.Flags {
			if set[k] {
				delete(cfg.Flags, k) // the command line overrides the file
			}
		}
		err = cfg.ApplyFlags()
	}
	if err != nil {
		fmt.Fprintf(stderr, "cgoguard vet: %v\n", err)
		return vetExitUsage
	}
	opts := vetOptions{analysis: suite.Options{
		Advisory:            *advisory,
		AdvisoryPerFunction: *advisoryMax,
		AdvisoryPerPackage:  *advisoryPkgMax,
		Tests:               *tests,
	}}
	if !set["advisory"] && cfg.Advisory != nil {
		opts.analysis.Advisory = *cfg.Advisory
	}
	if !set["advisory-max"] && cfg.AdvisoryMax != nil {
		opts.analysis.AdvisoryPerFunction = *cfg.AdvisoryMax
	}
	if !set["advisory-package-max"] && cfg.AdvisoryPackageMax != nil {
		opts.analysis.AdvisoryPerPackage = *cfg.AdvisoryPackageMax
	}
	if !set["tests"] && cfg.Tests != nil {
		opts.analysis.Tests = *cfg.Tests
	}
	disable := *disableFlag
	if len(cfg.Disable) > 0 {
		disable = strings.Join(append([]string{disable}, cfg.Disable...), ",")
	}
	opts.sel, err = selectRules(*rulesFlag, disable)
	if err != nil {
		fmt.Fprintf(stderr, "cgoguard vet: %v\n", err)
		return vetExitUsage
	}
	if strings.TrimSpace(*rulesFlag) != "" {
		for id := range opts.sel {
			opts.analysis.Explicit = append(opts.analysis.Explicit, id)
		}
	}
	patterns := fs.Args()
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	rep := vetPackages(patterns, opts)
	switch *format {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "cgoguard vet: %v\n", err)
			return vetExitUsage
		}
	case "sarif":
		if err := vetSARIF(rep, opts.sel).Write(stdout); err != nil {
			fmt.Fprintf(stderr, "cgoguard vet: %v\n", err)
			return vetExitUsage
		}
		printVetErrors(stderr, rep)
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
		printVetErrors(stderr, rep)
	}
	switch {
	case rep.usage:
		return vetExitUsage
	case len(rep.NotAnalysed) > 0 || len(rep.Errors) > 0:
		return vetExitNotAnalysed
	}
	for _, f := range rep.Findings {
		if !f.Suppressed {
			return vetExitFindings
		}
	}
	return vetExitClean
}

// printVetErrors writes the errors, multi-line ones indented, and a count
// of the packages not analysed.
func printVetErrors(w io.Writer, rep *vetReport) {
	for _, e := range rep.Errors {
		fmt.Fprintf(w, "cgoguard vet: %s\n", strings.ReplaceAll(e, "\n", "\n\t"))
	}
	if n := len(rep.NotAnalysed); n > 0 && !rep.usage {
		fmt.Fprintf(w, "cgoguard vet: %d package(s) not analysed (exit status 3); the others were analysed\n", n)
	}
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

// analyzersFor returns the analyzers, configured by o, needed for the
// selected rules. The suppression check needs all of them.
func analyzersFor(sel map[string]bool, o suite.Options) []*analysis.Analyzer {
	all := suite.Configure(&o)
	if sel[suite.SuppressionRule] {
		return all
	}
	byName := map[string]*analysis.Analyzer{}
	for _, a := range all {
		byName[a.Name] = a
	}
	seen := map[*analysis.Analyzer]bool{}
	var out []*analysis.Analyzer
	for id := range sel {
		if orig := suite.AnalyzerFor(id); orig != nil {
			if a := byName[orig.Name]; a != nil && !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// vetPackages loads the packages and runs the analyzers.
func vetPackages(patterns []string, opts vetOptions) *vetReport {
	sel := opts.sel
	rep := &vetReport{Findings: []vetFinding{}, Errors: []string{}, NotAnalysed: []notAnalysed{}}
	ids := make([]string, 0, len(sel))
	for id := range sel {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if err := suite.Suppressions.Flags.Set("rules", strings.Join(ids, ",")); err != nil {
		rep.Errors = append(rep.Errors, err.Error())
		rep.usage = true
		return rep
	}
	cfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedCompiledGoFiles |
			packages.NeedImports | packages.NeedTypes | packages.NeedTypesSizes |
			packages.NeedSyntax | packages.NeedTypesInfo | packages.NeedModule,
		Tests: opts.analysis.Tests,
	}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		rep.Errors = append(rep.Errors, err.Error())
		rep.usage = true
		return rep
	}
	pkgs = testVariants(pkgs)
	var ok, cfail []*packages.Package
	for _, p := range pkgs {
		if len(p.Errors) == 0 {
			ok = append(ok, p)
			continue
		}
		if msg, isC := cCompileError(p); isC {
			cfail = append(cfail, p)
			rep.NotAnalysed = append(rep.NotAnalysed, notAnalysed{Package: p.PkgPath, Reason: "c-compile", Message: msg})
			continue
		}
		if patternError(p) {
			for _, e := range p.Errors {
				rep.Errors = append(rep.Errors, relPos(e.Error()))
			}
			rep.usage = true
			continue
		}
		// A package that does not type-check is also reported by go list
		// when it builds export data; keep the type errors.
		typeErrs := false
		for _, e := range p.Errors {
			typeErrs = typeErrs || e.Kind == packages.TypeError
		}
		var msgs []string
		for _, e := range p.Errors {
			if typeErrs && e.Kind != packages.TypeError {
				continue
			}
			rep.Errors = append(rep.Errors, relPos(e.Error()))
			msgs = append(msgs, relPos(e.Error()))
		}
		rep.NotAnalysed = append(rep.NotAnalysed, notAnalysed{Package: p.PkgPath, Reason: "go", Message: strings.Join(msgs, "\n")})
	}
	if len(cfail) > 0 {
		cmds := cCompilerCommands(cfail)
		for i := range rep.NotAnalysed {
			na := &rep.NotAnalysed[i]
			if na.Reason != "c-compile" {
				continue
			}
			na.Command = cmds[na.Package]
			e := fmt.Sprintf("%s: not analysed: cgo could not compile its C code:\n%s", na.Package, na.Message)
			if na.Command != "" {
				e += "\nC compiler: " + na.Command
			}
			e += "\n(`go build -x " + na.Package + "` shows the exact commands)"
			rep.Errors = append(rep.Errors, e)
		}
	}
	if len(pkgs) == 0 {
		rep.Errors = append(rep.Errors, fmt.Sprintf("no packages match %s", strings.Join(patterns, " ")))
		rep.usage = true
	}
	if len(ok) == 0 {
		if len(rep.NotAnalysed) == 0 {
			rep.usage = true
		}
		return rep
	}
	outcomes := suite.Analyze(ok, analyzersFor(sel, opts.analysis))
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
		if !opts.analysis.Tests && strings.HasSuffix(start.Filename, "_test.go") {
			return
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
			rep.NotAnalysed = append(rep.NotAnalysed, notAnalysed{Package: o.Package.PkgPath, Reason: "analyzer", Message: o.Err.Error()})
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

// testVariants drops, when test files are loaded, each package that also
// has a test variant (which holds its files plus the in-package tests),
// unless the variant does not load, and the generated test mains, as go
// vet does.
func testVariants(pkgs []*packages.Package) []*packages.Package {
	byID := map[string]*packages.Package{}
	for _, p := range pkgs {
		byID[p.ID] = p
	}
	out := pkgs[:0:0]
	for _, p := range pkgs {
		if p.Name == "main" && strings.HasSuffix(p.PkgPath, ".test") && strings.HasSuffix(p.ID, ".test") {
			continue
		}
		if v := byID[p.ID+" ["+p.PkgPath+".test]"]; v != nil && len(v.Errors) == 0 {
			continue
		}
		out = append(out, p)
	}
	return out
}

// patternError reports a package that stands for a pattern that matched
// nothing loadable (a directory that does not exist).
func patternError(p *packages.Package) bool {
	return len(p.GoFiles) == 0 && len(p.CompiledGoFiles) == 0 && p.Types == nil ||
		len(p.GoFiles) == 0 && len(p.Errors) > 0 && p.Errors[0].Kind == packages.ListError && !strings.HasPrefix(p.Errors[0].Msg, "# ")
}

// cCompileError returns the C compiler's message when cgo failed on the
// package: the type checker cannot import "C", and go list reports the
// failure as "# importpath" followed by the compiler's (or pkg-config's)
// output.
func cCompileError(p *packages.Package) (string, bool) {
	noC := false
	for _, e := range p.Errors {
		noC = noC || e.Kind == packages.TypeError && strings.HasPrefix(e.Msg, "could not import C ")
	}
	if !noC {
		return "", false
	}
	for _, e := range p.Errors {
		if e.Kind != packages.ListError {
			continue
		}
		head, rest, _ := strings.Cut(e.Msg, "\n")
		if head != "# "+p.PkgPath && head != "# "+p.ID {
			continue
		}
		return relPos(strings.TrimRight(rest, "\n")), true
	}
	return "", false
}

// cCompilerCommands returns, for each package, the C compiler and flags
// cgo ran on its preamble: $(go env CC), the package's #cgo CPPFLAGS and
// CFLAGS (pkg-config packages shown as $(pkg-config --cflags ...)) and
// CGO_CPPFLAGS/CGO_CFLAGS.
func cCompilerCommands(pkgs []*packages.Package) map[string]string {
	out := map[string]string{}
	env, err := exec.Command("go", "env", "CC", "CGO_CPPFLAGS", "CGO_CFLAGS").Output()
	if err != nil {
		return out
	}
	ev := strings.Split(strings.TrimRight(string(env), "\n"), "\n")
	for len(ev) < 3 {
		ev = append(ev, "")
	}
	args := []string{"list", "-e", "-json=ImportPath,Dir,CgoFiles,CgoCPPFLAGS,CgoCFLAGS,CgoPkgConfig"}
	for _, p := range pkgs {
		args = append(args, p.PkgPath)
	}
	listed, err := exec.Command("go", args...).Output()
	if err != nil {
		return out
	}
	dec := json.NewDecoder(strings.NewReader(string(listed)))
	wd, _ := os.Getwd()
	for {
		var lp struct {
			ImportPath, Dir                      string
			CgoFiles                             []string
			CgoCPPFLAGS, CgoCFLAGS, CgoPkgConfig []string
		}
		if err := dec.Decode(&lp); err != nil {
			break
		}
		cmd := []string{ev[0], "-I", relPath(wd, lp.Dir)}
		cmd = append(cmd, lp.CgoCPPFLAGS...)
		cmd = append(cmd, strings.Fields(ev[1])...)
		cmd = append(cmd, lp.CgoCFLAGS...)
		cmd = append(cmd, strings.Fields(ev[2])...)
		if len(lp.CgoPkgConfig) > 0 {
			cmd = append(cmd, "$(pkg-config --cflags "+strings.Join(lp.CgoPkgConfig, " ")+")")
		}
		files := make([]string, len(lp.CgoFiles))
		for i, f := range lp.CgoFiles {
			files[i] = relPath(wd, filepath.Join(lp.Dir, f))
		}
		out[lp.ImportPath] = strings.Join(cmd, " ") + " (run by cgo on the preamble of " + strings.Join(files, ", ") + ")"
	}
	return out
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

// analyzerFlags defines "-analyzer.flag" on fs for every flag of the theme
// analyzers (the same flag.Value, so a value is checked as it is parsed),
// each first reset to its default: the analyzers' flags are process-wide,
// and a run in the same process starts from the defaults.
func analyzerFlags(fs *flag.FlagSet) {
	for _, a := range suite.Analyzers {
		a.Flags.VisitAll(func(f *flag.Flag) {
			_ = f.Value.Set(f.DefValue) // the value it was defined with
			fs.Var(f.Value, a.Name+"."+f.Name, f.Usage+" (analyzer "+a.Name+")")
		})
	}
}
