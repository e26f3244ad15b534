package checklist

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// Checklist is one checklist file: a named, versioned list of checks.
// The zero value is an empty, valid checklist.
type Checklist struct {
	// Name identifies the checklist (the `checklist:` key).
	Name string `yaml:"checklist" json:"checklist"`
	// Version is the checklist's own version number; informative.
	Version int `yaml:"version,omitempty" json:"version,omitempty"`
	// Description is free text shown in reports.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Vars maps an environment name to the variables used as ${VAR} in
	// the checks' `with` parameters. The environment "default", when
	// declared, applies under every environment and is overridden by it.
	Vars map[string]map[string]string `yaml:"vars,omitempty" json:"vars,omitempty"`
	// Source, set by whoever fetched the checklist from a hub, is copied
	// into the run's Result.
	Source *Source `yaml:"-" json:"source,omitempty"`
	// Redact lists extra regular expressions whose matches are replaced in
	// captured evidence, beside the built-in secret patterns.
	Redact []string `yaml:"redact,omitempty" json:"redact,omitempty"`
	// Checks are the items of the checklist.
	Checks []Check `yaml:"checks" json:"checks"`

	// File is the file the checklist was loaded from; set by the loader.
	File string `yaml:"-" json:"file,omitempty"`

	used map[string]bool // variables the checks refer to; set by the loader
}

// Check is one executable checklist item.
type Check struct {
	// ID is unique in the checklist, e.g. "CG-MEM-01".
	ID string `yaml:"id" json:"id"`
	// Title says in a line what the check verifies.
	Title string `yaml:"title" json:"title"`
	// Severity is info, low, medium, high or critical; empty means medium.
	Severity Severity `yaml:"severity,omitempty" json:"severity,omitempty"`
	// Kind names how the check runs: command, vet, gotest, leak, http,
	// metric or file.
	Kind string `yaml:"kind" json:"kind"`
	// With holds the kind's own parameters.
	With map[string]any `yaml:"with,omitempty" json:"with,omitempty"`
	// Prevents says what failure in production the check prevents.
	Prevents string `yaml:"prevents,omitempty" json:"prevents,omitempty"`
	// Fix says how to fix a failure of the check.
	Fix string `yaml:"fix,omitempty" json:"fix,omitempty"`
	// TimeoutSeconds bounds one attempt; 0 means DefaultTimeout.
	TimeoutSeconds float64 `yaml:"timeout_seconds,omitempty" json:"timeout_seconds,omitempty"`
	// Retry, when set, runs a failed or timed-out check again.
	Retry *Retry `yaml:"retry_on_failure,omitempty" json:"retry_on_failure,omitempty"`
	// DependsOn lists checks that must pass (or be waived) first; a check
	// whose dependency did not is skipped.
	DependsOn []string `yaml:"depends_on,omitempty" json:"depends_on,omitempty"`
	// Evidence is "optional" (the default) or "required": a required
	// check that captured no output at all is an error.
	Evidence string `yaml:"evidence,omitempty" json:"evidence,omitempty"`
	// Waiver accepts a failure until it expires; an expired waiver fails.
	Waiver *Waiver `yaml:"waiver,omitempty" json:"waiver,omitempty"`

	// Line is the line of the check in its file; set by the loader.
	Line int `yaml:"-" json:"line,omitempty"`
	// File is the file the check came from; set by Merge.
	File string `yaml:"-" json:"file,omitempty"`
}

// Retry says how often a check that failed or timed out is tried.
type Retry struct {
	// Attempts is the total number of attempts, at least 1.
	Attempts int `yaml:"attempts" json:"attempts"`
	// DelaySeconds is the pause between attempts.
	DelaySeconds float64 `yaml:"delay_seconds,omitempty" json:"delay_seconds,omitempty"`
}

// Waiver accepts a known failure for a reason, until a date.
type Waiver struct {
	// Reason is required: why the failure is accepted for now.
	Reason string `yaml:"reason" json:"reason"`
	// Expires is the last day (YYYY-MM-DD, UTC) on which the waiver holds.
	Expires Date `yaml:"expires" json:"expires"`
}

// Severity ranks a check.
type Severity string

// Severities, lowest first.
const (
	SeverityInfo     Severity = "info"
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// Valid reports whether s is a known severity or empty.
func (s Severity) Valid() bool {
	switch s {
	case "", SeverityInfo, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical:
		return true
	}
	return false
}

// Or returns s, or SeverityMedium when s is empty.
func (s Severity) Or() Severity {
	if s == "" {
		return SeverityMedium
	}
	return s
}

// Date is a calendar day, written YYYY-MM-DD.
type Date struct{ time.Time }

// UnmarshalText parses YYYY-MM-DD.
func (d *Date) UnmarshalText(b []byte) error {
	t, err := time.Parse(time.DateOnly, string(b))
	if err != nil {
		return fmt.Errorf("date %q is not YYYY-MM-DD", b)
	}
	d.Time = t
	return nil
}

// UnmarshalYAML parses YYYY-MM-DD, naming the line on error. The error is
// a *yaml.TypeError so that decoding goes on and reports the other
// problems of the file.
func (d *Date) UnmarshalYAML(n *yaml.Node) error {
	if err := d.UnmarshalText([]byte(n.Value)); err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	return nil
}

// MarshalText writes YYYY-MM-DD.
func (d Date) MarshalText() ([]byte, error) {
	if d.IsZero() {
		return []byte{}, nil
	}
	return []byte(d.Format(time.DateOnly)), nil
}

// String returns YYYY-MM-DD.
func (d Date) String() string { return d.Format(time.DateOnly) }

// Expired reports whether the waiver no longer holds at now: it holds
// through the whole of its Expires day (UTC).
func (w *Waiver) Expired(now time.Time) bool {
	return !now.UTC().Before(w.Expires.AddDate(0, 0, 1))
}

// Timeout returns the per-attempt timeout of c.
func (c *Check) Timeout() time.Duration {
	if c.TimeoutSeconds <= 0 {
		return DefaultTimeout
	}
	return time.Duration(c.TimeoutSeconds * float64(time.Second))
}

// Attempts returns how many attempts c gets (at least 1).
func (c *Check) Attempts() int {
	if c.Retry == nil || c.Retry.Attempts < 1 {
		return 1
	}
	return c.Retry.Attempts
}

// DefaultTimeout bounds an attempt of a check that sets no timeout_seconds.
const DefaultTimeout = 5 * time.Minute

// Kinds lists the check kinds a checklist may name.
var Kinds = []string{"command", "vet", "gotest", "leak", "http", "metric", "file"}
