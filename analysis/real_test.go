package analysis_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"golang.org/x/tools/go/packages"

	"github.com/cgoguard/cgoguard/analysis/internal/diag"
	"github.com/cgoguard/cgoguard/analysis/suite"
)

// Thresholds the corpus must meet.
const (
	minRecall         = 0.90
	maxFixedFindings  = 0
	realTestdata      = "testdata/real"
	markerDescription = `a trailing "// bug: CGxxx" comment`
)

// marker matches the expectation comment on a buggy line.
var marker = regexp.MustCompile(`//\s*bug:\s*((?:CG\d{3}[,\s]*)+)`)

// expectation is one marked line of a buggy version.
type expectation struct {
	bug  string // directory under testdata/real/src
	file string // base name
	line int
	rule string
}

func (e expectation) String() string {
	return fmt.Sprintf("%s/buggy/%s:%d %s", e.bug, e.file, e.line, e.rule)
}

// finding is one default-output finding of the suite.
type finding struct {
	bug, version, file string
	line               int
	rule, message      string
}

func (f finding) String() string {
	return fmt.Sprintf("%s/%s/%s:%d %s", f.bug, f.version, f.file, f.line, f.message)
}

// TestRealBugs runs the suite over every bug of testdata/real, buggy and
// fixed versions, with the default rule set (advisory rules off), and
// measures recall on the marked lines of the buggy versions and the
// findings on the fixed versions.
func TestRealBugs(t *testing.T) {
	bugs, err := bugDirs()
	if err != nil {
		t.Fatal(err)
	}
	if len(bugs) < 12 {
		t.Fatalf("%d bugs in %s, want at least 12", len(bugs), realTestdata)
	}
	var want []expectation
	var patterns []string
	for _, b := range bugs {
		for _, v := range []string{"buggy", "fixed"} {
			if _, err := os.Stat(filepath.Join(realTestdata, "src", b, v)); err != nil {
				t.Fatalf("bug %s has no %s version: %v", b, v, err)
			}
			patterns = append(patterns, b+"/"+v)
		}
		for _, f := range []string{"SOURCE.md", "LICENSE"} {
			if _, err := os.Stat(filepath.Join(realTestdata, "src", b, f)); err != nil {
				t.Errorf("bug %s: %v (each bug keeps its source link and the project's license)", b, err)
			}
		}
		exp, err := expectations(b)
		if err != nil {
			t.Fatal(err)
		}
		if len(exp) == 0 {
			t.Errorf("bug %s: no line of buggy/ is marked with %s", b, markerDescription)
		}
		want = append(want, exp...)
	}

	pkgs, err := load(patterns)
	if err != nil {
		t.Fatal(err)
	}
	var got []finding
	for _, o := range suite.Analyze(pkgs, suite.All()) {
		if o.Err != nil {
			t.Fatalf("%s: %v", o.Package.PkgPath, o.Err)
		}
		bug, version, _ := strings.Cut(o.Package.PkgPath, "/")
		for _, ds := range o.Diagnostics {
			for _, d := range ds {
				if diag.IsAdvisory(d.Category) {
					continue // not in the default output
				}
				p := o.Package.Fset.Position(d.Pos)
				got = append(got, finding{bug, version, filepath.Base(p.Filename), p.Line, d.Category, d.Message})
			}
		}
	}
	sort.Slice(got, func(i, j int) bool { return got[i].String() < got[j].String() })

	type key struct {
		bug, file string
		line      int
		rule      string
	}
	seen := map[key]bool{}
	for _, f := range got {
		if f.version == "buggy" {
			seen[key{f.bug, f.file, f.line, f.rule}] = true
		}
	}
	marked := map[key]bool{}
	found := 0
	for _, e := range want {
		marked[key{e.bug, e.file, e.line, e.rule}] = true
		if seen[key{e.bug, e.file, e.line, e.rule}] {
			found++
			continue
		}
		t.Logf("missed: %s", e)
	}
	var fixedFindings []finding
	for _, f := range got {
		switch {
		case f.version == "fixed":
			fixedFindings = append(fixedFindings, f)
			t.Logf("finding on a fixed version: %s", f)
		case !marked[key{f.bug, f.file, f.line, f.rule}]:
			t.Logf("unmarked finding on a buggy version: %s", f)
		}
	}
	recall := float64(found) / float64(len(want))
	t.Logf("real bugs: %d, marked lines: %d, found: %d, recall %.1f%%; findings on fixed versions: %d",
		len(bugs), len(want), found, 100*recall, len(fixedFindings))
	if recall < minRecall {
		t.Errorf("recall %.1f%% is below %.0f%%", 100*recall, 100*minRecall)
	}
	if len(fixedFindings) > maxFixedFindings {
		t.Errorf("%d findings on fixed versions, want at most %d", len(fixedFindings), maxFixedFindings)
	}
}

// bugDirs lists the bug directories of testdata/real/src.
func bugDirs() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(realTestdata, "src"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// expectations reads the marked lines of a bug's buggy version.
func expectations(bug string) ([]expectation, error) {
	dir := filepath.Join(realTestdata, "src", bug, "buggy")
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	var out []expectation
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		for n := 1; sc.Scan(); n++ {
			m := marker.FindStringSubmatch(sc.Text())
			if m == nil {
				continue
			}
			for _, r := range strings.FieldsFunc(m[1], func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
				if _, ok := diag.Lookup(r); !ok {
					f.Close()
					return nil, fmt.Errorf("%s:%d: unknown rule %s", name, n, r)
				}
				out = append(out, expectation{bug, filepath.Base(name), n, r})
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// load loads the packages of the testdata GOPATH tree with syntax and
// types; dependencies come from export data, as under cgoguard vet.
func load(patterns []string) ([]*packages.Package, error) {
	abs, err := filepath.Abs(realTestdata)
	if err != nil {
		return nil, err
	}
	cfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedCompiledGoFiles |
			packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo | packages.NeedTypesSizes |
			packages.NeedImports,
		Dir: filepath.Join(abs, "src"),
		Env: append(os.Environ(), "GOPATH="+abs, "GO111MODULE=off", "GOFLAGS=", "CGO_ENABLED=1"),
	}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		return nil, err
	}
	var errs []string
	for _, p := range pkgs {
		for _, e := range p.Errors {
			errs = append(errs, e.Error())
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("loading %s: %s", realTestdata, strings.Join(errs, "; "))
	}
	return pkgs, nil
}
