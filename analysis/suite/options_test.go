package suite_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/tools/go/packages"

	"github.com/cgoguard/cgoguard/analysis/internal/vettest"
	"github.com/cgoguard/cgoguard/analysis/suite"
)

// TestConfigure runs the configured analyzers over testdata/src/options
// (loaded with its test file) and counts the findings per rule.
func TestConfigure(t *testing.T) {
	loaded := loadTests(t, "options")
	for _, tc := range []struct {
		name string
		opts suite.Options
		want string // rule:count, sorted
		more int    // findings that say how many more were not shown
	}{
		{"default", suite.Options{}, "CG026:1", 0},
		{"tests", suite.Options{Tests: true}, "CG026:2", 0},
		{"advisory", suite.Options{Advisory: true}, "CG026:1 CG027:1 CG028:1", 1},
		{"function cap 2", suite.Options{Advisory: true, AdvisoryPerFunction: 2, AdvisoryPerPackage: -1}, "CG026:1 CG027:1 CG028:3", 1},
		{"advisory all", suite.Options{Advisory: true, AdvisoryPerFunction: -1, AdvisoryPerPackage: -1}, "CG026:1 CG027:1 CG028:4", 0},
		{"package cap", suite.Options{Advisory: true, AdvisoryPerFunction: -1, AdvisoryPerPackage: 2}, "CG026:1 CG027:1 CG028:2", 1},
		{"default package cap", suite.Options{Advisory: true, AdvisoryPerFunction: -1}, "CG026:1 CG027:1 CG028:1", 1},
		{"explicit", suite.Options{Explicit: []string{"CG027"}}, "CG026:1 CG027:1", 0},
		{"explicit is not capped", suite.Options{Advisory: true, Explicit: []string{"CG028"}}, "CG026:1 CG027:1 CG028:4", 0},
		{"disable", suite.Options{Advisory: true, Disable: []string{"cg028", "CG026"}}, "CG027:1", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			count := map[string]int{}
			more := 0
			for _, o := range suite.Analyze(loaded, suite.Configure(&opts)) {
				if o.Err != nil {
					t.Fatal(o.Err)
				}
				for _, ds := range o.Diagnostics {
					for _, d := range ds {
						count[d.Category]++
						if strings.Contains(d.Message, "more "+d.Category+" ") {
							more++
						}
					}
				}
			}
			var got []string
			for r, n := range count {
				got = append(got, fmt.Sprintf("%s:%d", r, n))
			}
			sort.Strings(got)
			if strings.Join(got, " ") != tc.want || more != tc.more {
				t.Errorf("got %v (%d with a cap note), want %s (%d)", got, more, tc.want, tc.more)
			}
		})
	}
}

// TestConfigureSuppressions checks that a suppressed advisory finding
// counts as used when the advisory rules are off: no CG000 for it.
func TestConfigureSuppressions(t *testing.T) {
	loaded, err := vettest.Load("testdata", "options")
	if err != nil {
		t.Fatal(err)
	}
	opts := suite.Options{}
	for _, o := range suite.Analyze(loaded, suite.Configure(&opts)) {
		for _, ds := range o.Diagnostics {
			for _, d := range ds {
				if d.Category == suite.SuppressionRule {
					t.Errorf("unexpected %s", d.Message)
				}
			}
		}
	}
}

func TestAdvisory(t *testing.T) {
	for id, want := range map[string]bool{"CG028": true, "cg027": true, "CG020": true, "CG013": false, "CG024": false} {
		if got := suite.Advisory(id); got != want {
			t.Errorf("Advisory(%s) = %v", id, got)
		}
	}
	for _, id := range suite.AdvisoryRules() {
		if !suite.Implemented(id) {
			t.Errorf("advisory rule %s is not implemented", id)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	for _, tc := range []struct {
		name, text, err string
		check           func(*suite.Config) bool
	}{
		{"empty", "", "", func(c *suite.Config) bool { return c.Advisory == nil && c.Tests == nil }},
		{"other sections", "check:\n  x: 1\n", "", func(c *suite.Config) bool { return c.Advisory == nil }},
		{"all", "vet:\n  advisory: true\n  advisory-max: 3\n  tests: false\n  disable: [CG031]\n  flags:\n    memory.owns: take\n", "",
			func(c *suite.Config) bool {
				return *c.Advisory && *c.AdvisoryMax == 3 && !*c.Tests && c.Disable[0] == "CG031" && c.Flags["memory.owns"] == "take"
			}},
		{"unknown key", "# settings\nvet:\n  advisory: true\n  testz: true\n", `.cgoguard.yaml:4: vet: unknown key "testz"`, nil},
		{"bad package max", "vet:\n  advisory-package-max: -2\n", "vet.advisory-package-max: -2 is out of range", nil},
		{"bad bool", "vet:\n  advisory: maybe\n", "line 2: cannot unmarshal !!str `maybe` into bool", nil},
		{"bad max", "vet:\n  advisory-max: 0\n", "vet.advisory-max: 0 is out of range", nil},
		{"bad rule", "vet:\n  disable: [CG999]\n", `vet.disable: cgoguard: unknown rule "CG999"`, nil},
		{"bad flag", "vet:\n  flags:\n    memory.own: x\n", `unknown analyzer flag "memory.own"`, nil},
		{"not a mapping", "vet: [1]\n", ".cgoguard.yaml:1: vet: want a mapping", nil},
		{"bad yaml", "vet:\n  advisory: [\n", "yaml:", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			name := filepath.Join(dir, suite.ConfigName)
			if err := os.WriteFile(name, []byte(tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := suite.LoadConfig(name)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Errorf("config %+v", c)
			}
		})
	}
}

// TestFindConfig looks up from a package directory and stops at go.mod.
func TestFindConfig(t *testing.T) {
	root := t.TempDir()
	mod := filepath.Join(root, "mod")
	pkg := filepath.Join(mod, "a", "b")
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) {
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, suite.ConfigName), "vet:\n  tests: true\n")
	write(filepath.Join(mod, "go.mod"), "module m\n")
	c, err := suite.FindConfig(pkg)
	if err != nil || c.Path != "" {
		t.Fatalf("above go.mod: %+v, %v", c, err)
	}
	write(filepath.Join(mod, suite.ConfigName), "vet:\n  advisory: true\n")
	c, err = suite.FindConfig(pkg)
	if err != nil || c.Path != filepath.Join(mod, suite.ConfigName) || c.Advisory == nil || !*c.Advisory {
		t.Fatalf("module root: %+v, %v", c, err)
	}
}

// loadTests loads a testdata package with its test files (its test
// variant, which holds the package's files too).
func loadTests(t *testing.T, pkg string) []*packages.Package {
	t.Helper()
	abs, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	cfg := &packages.Config{
		Mode:  packages.LoadAllSyntax,
		Dir:   filepath.Join(abs, "src"),
		Env:   append(os.Environ(), "GOPATH="+abs, "GO111MODULE=off", "GOFLAGS=", "CGO_ENABLED=1"),
		Tests: true,
	}
	loaded, err := packages.Load(cfg, pkg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range loaded {
		if p.ID == pkg+" ["+pkg+".test]" {
			if len(p.Errors) > 0 {
				t.Fatal(p.Errors)
			}
			return []*packages.Package{p}
		}
	}
	t.Fatalf("no test variant of %s", pkg)
	return nil
}
