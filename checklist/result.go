package checklist

import (
	"encoding/json"
	"time"
)

// Outcome is how a check ended.
type Outcome string

// Outcomes of a check.
const (
	Pass    Outcome = "pass"
	Fail    Outcome = "fail"
	Timeout Outcome = "timeout"
	Skip    Outcome = "skip"
	Error   Outcome = "error"
	Waived  Outcome = "waived"
)

// Outcomes lists every outcome in report order.
var Outcomes = []Outcome{Pass, Fail, Timeout, Error, Skip, Waived}

// Failed reports whether o makes the run fail.
func (o Outcome) Failed() bool { return o == Fail || o == Timeout || o == Error }

// Evidence is what a check left behind: the command it ran, its exit code
// and its bounded, redacted output.
type Evidence struct {
	Command  string `json:"command,omitempty"`
	ExitCode int    `json:"exit_code"`
	Stdout   string `json:"stdout,omitempty"`
	Stderr   string `json:"stderr,omitempty"`
}

// Finding is one analyzer finding reported by a vet check.
type Finding struct {
	Rule          string `json:"rule"`
	Severity      string `json:"severity,omitempty"`
	Message       string `json:"message"`
	File          string `json:"file,omitempty"`
	Line          int    `json:"line,omitempty"`
	Column        int    `json:"column,omitempty"`
	EndLine       int    `json:"end_line,omitempty"`
	EndColumn     int    `json:"end_column,omitempty"`
	Suppressed    bool   `json:"suppressed,omitempty"`
	Justification string `json:"justification,omitempty"`
}

// TestResult is one Go test's result in a gotest or leak check.
type TestResult struct {
	Package string  `json:"package"`
	Test    string  `json:"test"`
	Outcome string  `json:"outcome"` // pass, fail or skip
	Elapsed float64 `json:"elapsed_seconds"`
	// Output is the test's bounded output, kept for failures.
	Output string `json:"output,omitempty"`
}

// Observation is what a kind reports for one attempt of a check.
type Observation struct {
	// Passed says the check's condition held.
	Passed bool
	// Message says in a line what was seen, above all why it failed.
	Message  string
	Evidence Evidence
	Findings []Finding
	Tests    []TestResult
	// Err is set when the check could not be carried out at all (bad
	// parameters at run time, a missing tool): the outcome is error.
	Err error
}

// CheckResult is the outcome of one check in a run.
type CheckResult struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Severity Severity `json:"severity"`
	Kind     string   `json:"kind"`
	Prevents string   `json:"prevents,omitempty"`
	Fix      string   `json:"fix,omitempty"`
	File     string   `json:"file,omitempty"`
	Line     int      `json:"line,omitempty"`

	Outcome  Outcome       `json:"outcome"`
	Message  string        `json:"message,omitempty"`
	Attempts int           `json:"attempts"`
	Duration time.Duration `json:"-"`
	Evidence Evidence      `json:"evidence"`
	Findings []Finding     `json:"findings,omitempty"`
	Tests    []TestResult  `json:"tests,omitempty"`
	Waiver   *Waiver       `json:"waiver,omitempty"`
}

// MarshalJSON writes Duration as seconds.
func (r CheckResult) MarshalJSON() ([]byte, error) {
	type plain CheckResult
	return json.Marshal(struct {
		plain
		Seconds float64 `json:"duration_seconds"`
	}{plain(r), r.Duration.Seconds()})
}

// Result is the outcome of a whole checklist run.
type Result struct {
	Checklist string        `json:"checklist"`
	Files     []string      `json:"files,omitempty"`
	Env       string        `json:"env,omitempty"`
	Packages  []string      `json:"packages,omitempty"`
	Started   time.Time     `json:"started"`
	Duration  time.Duration `json:"-"`
	// Interrupted is set when the run was cancelled before it finished.
	Interrupted bool          `json:"interrupted,omitempty"`
	Checks      []CheckResult `json:"checks"`
	// Source says where the checklist came from when it was not a local
	// file (cgoguard check --from-hub); nil otherwise.
	Source *Source `json:"source,omitempty"`
}

// MarshalJSON writes Duration as seconds and adds the counts.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	return json.Marshal(struct {
		plain
		Seconds float64         `json:"duration_seconds"`
		Counts  map[Outcome]int `json:"counts"`
		Passed  bool            `json:"passed"`
	}{plain(r), r.Duration.Seconds(), r.Counts(), r.Passed()})
}

// Counts returns the number of checks per outcome.
func (r *Result) Counts() map[Outcome]int {
	m := map[Outcome]int{}
	for _, o := range Outcomes {
		m[o] = 0
	}
	for _, c := range r.Checks {
		m[c.Outcome]++
	}
	return m
}

// Passed reports whether no check failed, timed out or errored and the
// run was not interrupted.
func (r *Result) Passed() bool {
	if r.Interrupted {
		return false
	}
	for _, c := range r.Checks {
		if c.Outcome.Failed() {
			return false
		}
	}
	return true
}
