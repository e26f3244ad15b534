package hub

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"sort"
	"time"

	"go.yaml.in/yaml/v3"
)

// Card colours.
const (
	Green  = "green"
	Yellow = "yellow"
	Red    = "red"
)

// Threshold turns a measure into a colour: at or above Red the rule makes
// the card red, at or above Yellow yellow. A zero level is off.
type Threshold struct {
	Yellow float64 `yaml:"yellow" json:"yellow"`
	Red    float64 `yaml:"red" json:"red"`
}

// CardRules are the rules of the value cards. Each measure has a
// threshold; the card takes the worst colour of its rules and names the
// rule that made it red (or yellow). Load a file of them with
// LoadCardRules; what the file leaves out keeps DefaultCardRules.
type CardRules struct {
	// MinRuns is the fewest runs in the window for the run measures
	// (failure, flaky and skip rates, duration) to count. Default 5.
	MinRuns int `yaml:"min_runs" json:"min_runs"`
	// FailureRate is failures per run. Default yellow 0.3, red 0.6: a
	// check that fails that often is ignored, or broken.
	FailureRate Threshold `yaml:"failure_rate" json:"failure_rate"`
	// FlakyRate is passes after a retry per run. Default yellow 0.05,
	// red 0.15.
	FlakyRate Threshold `yaml:"flaky_rate" json:"flaky_rate"`
	// SkipRate is skips per run. Default yellow 0.3, red 0.7: a check
	// that mostly skips protects nothing.
	SkipRate Threshold `yaml:"skip_rate" json:"skip_rate"`
	// MeanSeconds is the mean duration of the runs that did not skip.
	// Default yellow 120, red 600.
	MeanSeconds Threshold `yaml:"mean_seconds" json:"mean_seconds"`
	// DaysSinceCatch is the days since the check last failed (or, if it
	// never did, since it first ran). Default yellow 90, red 180: a check
	// that has caught nothing for half a year costs time for nothing.
	DaysSinceCatch Threshold `yaml:"days_since_catch" json:"days_since_catch"`
	// NoisyVotes is the people who voted noisy minus those who voted
	// useful (each person's latest vote counts). Default yellow 1, red 3.
	NoisyVotes Threshold `yaml:"noisy_votes" json:"noisy_votes"`
}

// DefaultCardRules returns the documented defaults.
func DefaultCardRules() CardRules {
	return CardRules{
		MinRuns:        5,
		FailureRate:    Threshold{Yellow: 0.3, Red: 0.6},
		FlakyRate:      Threshold{Yellow: 0.05, Red: 0.15},
		SkipRate:       Threshold{Yellow: 0.3, Red: 0.7},
		MeanSeconds:    Threshold{Yellow: 120, Red: 600},
		DaysSinceCatch: Threshold{Yellow: 90, Red: 180},
		NoisyVotes:     Threshold{Yellow: 1, Red: 3},
	}
}

// LoadCardRules reads rules from a YAML (or JSON) file over the defaults.
// Unknown keys and a red level below its yellow level are errors.
func LoadCardRules(path string) (CardRules, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return CardRules{}, fmt.Errorf("cgoguard: card rules: %w", err)
	}
	return ParseCardRules(path, data)
}

// ParseCardRules parses rules from data over the defaults; name is used in
// messages.
func ParseCardRules(name string, data []byte) (CardRules, error) {
	r := DefaultCardRules()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&r); err != nil && err.Error() != "EOF" {
		return CardRules{}, fmt.Errorf("cgoguard: card rules %s: %v", name, err)
	}
	inv := &InvalidError{What: "card rules " + name}
	if r.MinRuns < 0 {
		inv.add("min_runs must not be negative")
	}
	for _, t := range r.thresholds() {
		if t.t.Yellow < 0 || t.t.Red < 0 || math.IsNaN(t.t.Yellow) || math.IsNaN(t.t.Red) {
			inv.add("%s: levels must not be negative", t.name)
		}
		if t.t.Yellow > 0 && t.t.Red > 0 && t.t.Red < t.t.Yellow {
			inv.add("%s: red %g is below yellow %g", t.name, t.t.Red, t.t.Yellow)
		}
	}
	return r, inv.orNil()
}

// Rule names, as cards and the configuration call them.
const (
	RuleFailureRate    = "failure_rate"
	RuleFlakyRate      = "flaky_rate"
	RuleSkipRate       = "skip_rate"
	RuleMeanSeconds    = "mean_seconds"
	RuleDaysSinceCatch = "days_since_catch"
	RuleNoisyVotes     = "noisy_votes"
)

type namedThreshold struct {
	name string
	t    Threshold
}

func (r CardRules) thresholds() []namedThreshold {
	return []namedThreshold{
		{RuleFailureRate, r.FailureRate}, {RuleFlakyRate, r.FlakyRate}, {RuleSkipRate, r.SkipRate},
		{RuleMeanSeconds, r.MeanSeconds}, {RuleDaysSinceCatch, r.DaysSinceCatch}, {RuleNoisyVotes, r.NoisyVotes},
	}
}

// Votes counts the latest vote of each person on a check.
type Votes struct {
	Useful int `json:"useful"`
	Noisy  int `json:"noisy"`
}

// Vote values.
const (
	VoteUseful = "useful"
	VoteNoisy  = "noisy"
)

// Vote is one person's vote on a check.
type Vote struct {
	Checklist string    `json:"checklist"`
	Check     string    `json:"check"`
	Voter     string    `json:"voter"`
	Role      Role      `json:"role,omitempty"`
	Vote      string    `json:"vote"`
	Comment   string    `json:"comment,omitempty"`
	Time      time.Time `json:"time"`
}

// ValidVote checks a vote and returns its problems.
func ValidVote(v Vote) error {
	inv := &InvalidError{What: "vote"}
	if v.Vote != VoteUseful && v.Vote != VoteNoisy {
		inv.add("vote %q must be useful or noisy", clip(v.Vote))
	}
	if v.Checklist == "" || v.Check == "" {
		inv.add("checklist and check are required")
	}
	if len(v.Comment) > maxContextLen {
		inv.add("comment is longer than %d bytes", maxContextLen)
	}
	return inv.orNil()
}

// CardInput is what a card is computed from.
type CardInput struct {
	// Stats are the check's statistics over the card window.
	Stats CheckStats
	// LastCatch is the newest failure ever stored (zero: never);
	// FirstSeen the oldest result.
	LastCatch time.Time
	FirstSeen time.Time
	Votes     Votes
	Now       time.Time
}

// Reason is one rule's verdict on a card.
type Reason struct {
	Rule  string  `json:"rule"`
	Color string  `json:"color"`
	Value float64 `json:"value"`
	// Limit is the threshold that was reached.
	Limit float64 `json:"limit"`
	Text  string  `json:"text"`
}

// Card is a check's value card.
type Card struct {
	Color string `json:"color"`
	// Rule names the rule that made the card red or yellow (the worst
	// one); empty for a green card.
	Rule string `json:"rule,omitempty"`
	// Reasons lists every rule at yellow or red, worst first.
	Reasons []Reason `json:"reasons,omitempty"`
	// Score orders red cards, worst first: the sum over the rules that
	// fired of value divided by the red limit.
	Score          float64 `json:"score"`
	DaysSinceCatch int     `json:"days_since_catch"`
	// NeverCaught is true when the check never failed: DaysSinceCatch
	// counts from its first run.
	NeverCaught bool  `json:"never_caught,omitempty"`
	Votes       Votes `json:"votes"`
	// Note explains a green card that had too few runs to judge.
	Note string `json:"note,omitempty"`
}

// Card computes a check's card under the rules.
func (r CardRules) Card(in CardInput) Card {
	c := Card{Color: Green, Votes: in.Votes, NeverCaught: in.LastCatch.IsZero()}
	since := in.LastCatch
	if since.IsZero() {
		since = in.FirstSeen
	}
	if !since.IsZero() && in.Now.After(since) {
		c.DaysSinceCatch = int(in.Now.Sub(since) / (24 * time.Hour))
	}
	st := in.Stats
	enough := st.Runs >= r.MinRuns && st.Runs > 0
	flaky := 0.0
	if st.Runs > 0 {
		flaky = float64(st.Flaky) / float64(st.Runs)
	}
	catchText := "last caught a failure %.0f days ago"
	if in.LastCatch.IsZero() {
		catchText = "has caught nothing in the %.0f days since it first ran"
	}
	measures := []struct {
		rule  string
		on    bool
		value float64
		t     Threshold
		text  string
	}{
		{RuleFailureRate, enough, st.FailureRate, r.FailureRate, "fails in %.0f%% of runs"},
		{RuleFlakyRate, enough, flaky, r.FlakyRate, "passes only on retry in %.0f%% of runs"},
		{RuleSkipRate, enough, st.SkipRate, r.SkipRate, "skips in %.0f%% of runs"},
		{RuleMeanSeconds, enough, st.MeanSeconds, r.MeanSeconds, "takes %.0f s on average"},
		{RuleDaysSinceCatch, !since.IsZero(), float64(c.DaysSinceCatch), r.DaysSinceCatch, catchText},
		{RuleNoisyVotes, true, float64(in.Votes.Noisy - in.Votes.Useful), r.NoisyVotes, "noisy votes outnumber useful ones by %.0f"},
	}
	for _, m := range measures {
		if !m.on {
			continue
		}
		shown := m.value
		if m.rule == RuleFailureRate || m.rule == RuleFlakyRate || m.rule == RuleSkipRate {
			shown *= 100
		}
		var color string
		var limit float64
		switch {
		case m.t.Red > 0 && m.value >= m.t.Red:
			color, limit = Red, m.t.Red
		case m.t.Yellow > 0 && m.value >= m.t.Yellow:
			color, limit = Yellow, m.t.Yellow
		default:
			continue
		}
		c.Reasons = append(c.Reasons, Reason{Rule: m.rule, Color: color, Value: m.value, Limit: limit,
			Text: fmt.Sprintf(m.text, shown) + fmt.Sprintf(" (%s at %s)", color, fmtLimit(m.rule, limit))})
		ref := m.t.Red
		if ref == 0 {
			ref = m.t.Yellow
		}
		c.Score += m.value / ref
	}
	sort.SliceStable(c.Reasons, func(i, j int) bool {
		ri, rj := c.Reasons[i], c.Reasons[j]
		if (ri.Color == Red) != (rj.Color == Red) {
			return ri.Color == Red
		}
		return ri.Value/ri.Limit > rj.Value/rj.Limit
	})
	if len(c.Reasons) > 0 {
		c.Color, c.Rule = c.Reasons[0].Color, c.Reasons[0].Rule
	}
	if !enough && c.Color == Green {
		c.Note = fmt.Sprintf("%d run(s) in the window; the run measures count from %d", st.Runs, max(r.MinRuns, 1))
	}
	return c
}

func fmtLimit(rule string, v float64) string {
	switch rule {
	case RuleFailureRate, RuleFlakyRate, RuleSkipRate:
		return fmt.Sprintf("%g%%", v*100)
	case RuleMeanSeconds:
		return fmt.Sprintf("%g s", v)
	case RuleDaysSinceCatch:
		return fmt.Sprintf("%g days", v)
	}
	return fmt.Sprintf("%g", v)
}

// CheckValue is a check's statistics with its value card, as
// GET /api/v1/checks lists them.
type CheckValue struct {
	CheckStats
	Card Card `json:"card"`
}
