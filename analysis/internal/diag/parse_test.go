package diag_test

import (
	"reflect"
	"testing"

	"github.com/cgoguard/cgoguard/analysis/internal/diag"
)

func TestParseDirective(t *testing.T) {
	for _, tc := range []struct {
		text   string
		rules  []string
		reason string
		ok     bool
	}{
		{"//cgoguard:ignore CG013 ownership passes to C", []string{"CG013"}, "ownership passes to C", true},
		{"// cgoguard:ignore cg013,CG014  two rules ", []string{"CG013", "CG014"}, "two rules", true},
		{"//cgoguard:ignore CG013", []string{"CG013"}, "", true},
		{"//cgoguard:ignore CG013 // a note", []string{"CG013"}, "", true},
		{"//cgoguard:ignore CG013 why // a note", []string{"CG013"}, "why", true},
		{"//cgoguard:ignore\tCG013\tbecause", []string{"CG013"}, "because", true},
		{"//cgoguard:ignored CG013 x", nil, "", false},
		{"// just a comment", nil, "", false},
	} {
		rules, reason, ok := diag.ParseDirective(tc.text)
		if !reflect.DeepEqual(rules, tc.rules) || reason != tc.reason || ok != tc.ok {
			t.Errorf("ParseDirective(%q) = %q, %q, %v; want %q, %q, %v", tc.text, rules, reason, ok, tc.rules, tc.reason, tc.ok)
		}
	}
}

func TestRules(t *testing.T) {
	rs := diag.Rules()
	if len(rs) != 32 {
		t.Fatalf("%d rules, want 31 plus CG000", len(rs))
	}
	seen := map[string]bool{}
	for _, r := range rs {
		if seen[r.ID] || r.Name == "" || r.Summary == "" || r.Severity == "" {
			t.Errorf("bad rule entry %+v", r)
		}
		seen[r.ID] = true
		if got, ok := diag.Lookup(r.ID); !ok || got != r {
			t.Errorf("Lookup(%s) = %+v, %v", r.ID, got, ok)
		}
	}
	if _, ok := diag.Lookup("CG025"); ok {
		t.Error("CG025 is not a rule")
	}
	if r, _ := diag.Lookup("cg013"); r.URL() != diag.BaseURL+"CG013.md" {
		t.Errorf("URL = %s", r.URL())
	}
	if n := len(diag.Theme("pointers")); n != 8 {
		t.Errorf("pointers has %d rules, want 8", n)
	}
}
