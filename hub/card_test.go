package hub

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCardRules(t *testing.T) {
	now := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	r := DefaultCardRules()
	tests := []struct {
		name  string
		in    CardInput
		color string
		rule  string
	}{
		{"healthy", CardInput{Stats: CheckStats{Runs: 20, FailureRate: 0.1, MeanSeconds: 3}, LastCatch: now.Add(-10 * day)}, Green, ""},
		{"too few runs", CardInput{Stats: CheckStats{Runs: 2, FailureRate: 1}, LastCatch: now.Add(-day)}, Green, ""},
		{"fails too often", CardInput{Stats: CheckStats{Runs: 10, FailureRate: 0.7}, LastCatch: now}, Red, RuleFailureRate},
		{"flaky", CardInput{Stats: CheckStats{Runs: 10, Flaky: 1}, LastCatch: now}, Yellow, RuleFlakyRate},
		{"very flaky", CardInput{Stats: CheckStats{Runs: 10, Flaky: 2}, LastCatch: now}, Red, RuleFlakyRate},
		{"mostly skipped", CardInput{Stats: CheckStats{Runs: 10, SkipRate: 0.8}, LastCatch: now}, Red, RuleSkipRate},
		{"slow", CardInput{Stats: CheckStats{Runs: 10, MeanSeconds: 200}, LastCatch: now}, Yellow, RuleMeanSeconds},
		{"caught nothing for long", CardInput{Stats: CheckStats{Runs: 50}, FirstSeen: now.Add(-200 * day)}, Red, RuleDaysSinceCatch},
		{"last catch 100 days ago", CardInput{Stats: CheckStats{Runs: 50}, LastCatch: now.Add(-100 * day), FirstSeen: now.Add(-300 * day)}, Yellow, RuleDaysSinceCatch},
		{"voted noisy", CardInput{Stats: CheckStats{Runs: 50}, LastCatch: now, Votes: Votes{Noisy: 3}}, Red, RuleNoisyVotes},
		{"votes balance", CardInput{Stats: CheckStats{Runs: 50}, LastCatch: now, Votes: Votes{Noisy: 3, Useful: 3}}, Green, ""},
		{"worst rule named", CardInput{Stats: CheckStats{Runs: 10, MeanSeconds: 700, SkipRate: 0.75}, LastCatch: now}, Red, RuleMeanSeconds},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Now = now
			c := r.Card(tt.in)
			if c.Color != tt.color || c.Rule != tt.rule {
				t.Fatalf("card %s/%q, want %s/%q: %+v", c.Color, c.Rule, tt.color, tt.rule, c)
			}
			if c.Color != Green && !strings.Contains(c.Reasons[0].Text, "("+c.Color+" at ") {
				t.Errorf("reason does not name its threshold: %q", c.Reasons[0].Text)
			}
		})
	}
}

func TestParseCardRules(t *testing.T) {
	r, err := ParseCardRules("rules.yaml", []byte("min_runs: 2\nfailure_rate: {yellow: 0.1, red: 0.2}\nnoisy_votes: {yellow: 0, red: 0}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if r.MinRuns != 2 || r.FailureRate.Red != 0.2 || r.FlakyRate != DefaultCardRules().FlakyRate {
		t.Fatalf("rules: %+v", r)
	}
	if c := r.Card(CardInput{Stats: CheckStats{Runs: 2}, LastCatch: time.Now(), Votes: Votes{Noisy: 9}, Now: time.Now()}); c.Color != Green {
		t.Errorf("a rule set to 0 still fires: %+v", c)
	}
	for _, bad := range []string{"failure_rate: {yellow: 0.5, red: 0.1}", "unknown: 1", "min_runs: -1", "skip_rate: {red: -1}"} {
		if _, err := ParseCardRules("r.yaml", []byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		} else if !errors.Is(err, ErrInvalid) && !strings.Contains(err.Error(), "r.yaml") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestParseCommand(t *testing.T) {
	tests := []struct {
		in     string
		checks []string
		found  bool
		err    bool
	}{
		{"/checklist run all", nil, true, false},
		{"LGTM\n\n  /checklist run CG-MEM-01 CG-THR-02 CG-MEM-01\r\nthanks", []string{"CG-MEM-01", "CG-THR-02"}, true, false},
		{"/checklist run", nil, true, true},
		{"/checklist run $(rm -rf /)", nil, true, true},
		{"please /checklist run all", nil, false, false},
		{"nothing here", nil, false, false},
	}
	for _, tt := range tests {
		checks, found, err := ParseCommand(tt.in)
		if strings.Join(checks, ",") != strings.Join(tt.checks, ",") || found != tt.found || (err != nil) != tt.err {
			t.Errorf("ParseCommand(%q) = %v, %v, %v", tt.in, checks, found, err)
		}
	}
}
