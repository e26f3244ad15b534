package suite_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/cgoguard/cgoguard/analysis/internal/diag"
	"github.com/cgoguard/cgoguard/analysis/suite"
)

func TestSuppressions(t *testing.T) {
	for _, pkg := range []string{"ignores", "cignores"} {
		t.Run(pkg, func(t *testing.T) {
			analysistest.Run(t, analysistest.TestData(), suite.Suppressions, pkg)
		})
	}
}

func TestSuppressedFindingsRecorded(t *testing.T) {
	res := analysistest.Run(t, analysistest.TestData(), suite.Suppressions, "ignores")
	if len(res) != 1 {
		t.Fatalf("%d results", len(res))
	}
	// The handles analyzer ran as a requirement; its result lists the
	// findings the directives with reasons suppressed (Used and Partly).
	var handles *analysis.Analyzer
	for _, a := range suite.Analyzers {
		if a.Name == "handles" {
			handles = a
		}
	}
	got := res[0].Pass.ResultOf[handles].(*diag.Result)
	if len(got.Suppressed) != 2 {
		t.Fatalf("handles suppressed %d findings, want 2: %+v", len(got.Suppressed), got.Suppressed)
	}
	if got.Suppressed[0].Justification != "the C side deletes it through on_done" {
		t.Errorf("justification %q", got.Suppressed[0].Justification)
	}
}

func TestRegistry(t *testing.T) {
	if err := analysis.Validate(suite.All()); err != nil {
		t.Fatal(err)
	}
	implemented := 0
	for _, r := range diag.Rules() {
		if r.ID == diag.SuppressionRule {
			continue
		}
		if suite.Implemented(r.ID) {
			implemented++
			if suite.AnalyzerFor(r.ID) == nil {
				t.Errorf("%s: no analyzer", r.ID)
			}
		}
		// Every rule has a page, implemented or not (then it says why).
		page := filepath.Join("..", "..", "docs", "rules", r.ID+".md")
		if _, err := os.Stat(page); err != nil {
			t.Errorf("%s: %v", r.ID, err)
		}
	}
	index, err := os.ReadFile(filepath.Join("..", "..", "docs", "rules", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range diag.Rules() {
		if !strings.Contains(string(index), "["+r.ID+"]("+r.ID+".md)") {
			t.Errorf("docs/rules/README.md does not list %s", r.ID)
		}
	}
	if implemented < 26 {
		t.Errorf("%d rules implemented, want at least 26", implemented)
	}
	if len(suite.Rules()) != implemented+1 {
		t.Errorf("Rules() has %d entries, want %d", len(suite.Rules()), implemented+1)
	}
}

func TestParseRules(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		err  bool
	}{
		{"CG013,cg014", 2, false},
		{" CG013 , ", 1, false},
		{"", 0, false},
		{"CG013,CG025", 0, true},
		{"nope", 0, true},
	} {
		got, err := suite.ParseRules(tc.in)
		if (err != nil) != tc.err || len(got) != tc.want {
			t.Errorf("ParseRules(%q) = %v, %v", tc.in, got, err)
		}
	}
}
