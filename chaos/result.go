package chaos

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/cgoguard/cgoguard/checklist"
)

// Verdict is how an experiment ended.
type Verdict string

// The verdicts.
const (
	// Held: the SLO was never breached.
	Held Verdict = "held"
	// Recovered: the SLO was breached and held again within the recovery
	// SLA; Recovery is the measured time.
	Recovered Verdict = "recovered"
	// SLAMissed: the SLO did not hold again within the recovery SLA.
	SLAMissed Verdict = "sla_missed"
	// Aborted: the steady state did not hold, the fault could not be
	// injected or removed, or the run was interrupted.
	Aborted Verdict = "aborted"
)

// Verdicts lists the verdicts in report order.
var Verdicts = []Verdict{Held, Recovered, SLAMissed, Aborted}

// Failed reports whether v fails the run.
func (v Verdict) Failed() bool { return v == SLAMissed || v == Aborted }

// Phases of a poll.
const (
	PhaseSteady   = "steady"
	PhaseFault    = "fault"
	PhaseRecovery = "recovery"
)

// Poll is one evaluation of a condition.
type Poll struct {
	T     time.Time `json:"t"`
	Phase string    `json:"phase"`
	// Value is nil when there was no data (or the evaluation failed: Err).
	Value *float64 `json:"value,omitempty"`
	OK    bool     `json:"ok"`
	Err   string   `json:"error,omitempty"`
}

// ExperimentResult is one row of the red-blue table, with what was seen.
type ExperimentResult struct {
	Name      string `json:"name"`
	File      string `json:"file,omitempty"`
	Line      int    `json:"line,omitempty"`
	FaultType string `json:"fault_type"`
	// Fault is the failpoint spec, or the inject command.
	Fault       string   `json:"fault"`
	FaultID     string   `json:"fault_id,omitempty"`
	SLOTarget   string   `json:"slo_target"`
	SteadyState string   `json:"steady_state"`
	Op          string   `json:"op"`
	Threshold   float64  `json:"threshold"`
	RecoverySLA Duration `json:"recovery_sla_seconds"`
	Interval    Duration `json:"interval_seconds"`
	// ConsecutiveOK healthy polls in a row closed the fault.
	ConsecutiveOK int `json:"consecutive_ok"`

	Verdict Verdict `json:"verdict"`
	Reason  string  `json:"reason,omitempty"`
	// Recovery is the measured recovery time: from the fault's removal to
	// the first poll of the healthy run that closed it (recovered and
	// sla_missed only). Closed is when that run completed.
	Recovery *Duration `json:"recovery_seconds,omitempty"`
	Closed   *Duration `json:"closed_seconds,omitempty"`
	Breached bool      `json:"breached"`
	// Worst is the value furthest past the threshold seen.
	Worst *float64 `json:"worst,omitempty"`

	Started    time.Time  `json:"started"`
	Injected   *time.Time `json:"injected,omitempty"`
	Removed    *time.Time `json:"removed,omitempty"`
	RecoveredT *time.Time `json:"recovered,omitempty"`
	Ended      time.Time  `json:"ended"`

	// Fired is how many calls the failpoint acted on (failpoint faults).
	Fired *uint64 `json:"fired,omitempty"`
	// Remediation says what ran after the fault was removed.
	Remediation string `json:"remediation"`
	Remediated  bool   `json:"remediated"`
	// Log holds notable events and command output.
	Log []string `json:"log,omitempty"`

	Polls []Poll `json:"polls"`
	// Series is the SLO expression over the experiment at a finer
	// resolution than the polls (from Prometheus or the scrape history),
	// for the plots.
	Series []Point `json:"series,omitempty"`
}

func (r *ExperimentResult) logf(format string, args ...any) {
	r.Log = append(r.Log, time.Now().UTC().Format("15:04:05.000")+" "+fmt.Sprintf(format, args...))
}

// Result is the outcome of one `cgoguard chaos run`.
type Result struct {
	Files       []string           `json:"files"`
	Started     time.Time          `json:"started"`
	Duration    time.Duration      `json:"-"`
	Interrupted bool               `json:"interrupted,omitempty"`
	Experiments []ExperimentResult `json:"experiments"`
}

// MarshalJSON adds the duration in seconds, the counts and the pass flag.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // conditions are full of < and >
	err := enc.Encode(struct {
		plain
		Seconds float64         `json:"duration_seconds"`
		Counts  map[Verdict]int `json:"counts"`
		Passed  bool            `json:"passed"`
	}{plain(r), r.Duration.Seconds(), r.Counts(), r.Passed()})
	return bytes.TrimSpace(b.Bytes()), err
}

// Counts returns the number of experiments per verdict.
func (r *Result) Counts() map[Verdict]int {
	m := map[Verdict]int{}
	for _, v := range Verdicts {
		m[v] = 0
	}
	for _, e := range r.Experiments {
		m[e.Verdict]++
	}
	return m
}

// Passed reports whether every experiment held or recovered and the run
// was not interrupted.
func (r *Result) Passed() bool {
	if r.Interrupted {
		return false
	}
	for _, e := range r.Experiments {
		if e.Verdict.Failed() {
			return false
		}
	}
	return true
}

// Name is the run's name in reports: the experiment files.
func (r *Result) Name() string {
	return "chaos: " + strings.Join(r.Files, ", ")
}

// Checklist converts the run into a checklist run (one check per
// experiment, kind "chaos"), the form the checklist reports and the hub
// take: held and recovered pass, sla_missed fails, aborted is an error.
func (r *Result) Checklist() *checklist.Result {
	cr := &checklist.Result{Checklist: r.Name(), Files: r.Files, Started: r.Started, Duration: r.Duration, Interrupted: r.Interrupted}
	for _, e := range r.Experiments {
		c := checklist.CheckResult{
			ID:       e.Name,
			Title:    fmt.Sprintf("%s fault keeps %s or recovers within %v", e.FaultType, e.SLOTarget, e.RecoverySLA),
			Severity: checklist.SeverityHigh,
			Kind:     "chaos",
			File:     e.File,
			Line:     e.Line,
			Attempts: 1,
			Duration: e.Ended.Sub(e.Started),
			Message:  e.Summary(),
		}
		switch e.Verdict {
		case Held, Recovered:
			c.Outcome = checklist.Pass
		case SLAMissed:
			c.Outcome = checklist.Fail
			c.Fix = "make the service recover within the SLA: a breaker, a timeout, a restartable module, or a remediation"
		default:
			c.Outcome = checklist.Error
		}
		c.Evidence.Command = e.Fault
		var b strings.Builder
		for _, p := range e.Polls {
			fmt.Fprintf(&b, "%s %-8s %s\n", p.T.UTC().Format("15:04:05.000"), p.Phase, p.describe())
		}
		for _, l := range e.Log {
			b.WriteString(l)
			b.WriteByte('\n')
		}
		c.Evidence.Stdout = b.String()
		cr.Checks = append(cr.Checks, c)
	}
	return cr
}

// Summary says the verdict in a line.
func (e *ExperimentResult) Summary() string {
	switch e.Verdict {
	case Held:
		return fmt.Sprintf("held: %s never breached", e.SLOTarget)
	case Recovered:
		return fmt.Sprintf("recovered in %s (SLA %s)", fmtDur(e.Recovery), e.RecoverySLA)
	case SLAMissed:
		if e.Recovery != nil {
			return fmt.Sprintf("sla_missed: recovered only after %s (SLA %s)", fmtDur(e.Recovery), e.RecoverySLA)
		}
		return fmt.Sprintf("sla_missed: %s did not hold again within %s", e.SLOTarget, e.RecoverySLA)
	}
	return "aborted: " + e.Reason
}

func (p Poll) describe() string {
	s := "no data"
	if p.Value != nil {
		s = formatValue(*p.Value)
	}
	if p.OK {
		s += " ok"
	} else {
		s += " BREACH"
	}
	if p.Err != "" {
		s += " (" + p.Err + ")"
	}
	return s
}

func fmtDur(d *Duration) string {
	if d == nil {
		return "-"
	}
	return d.D().Round(100 * time.Millisecond).String()
}

// formatValue writes a metric value compactly.
func formatValue(v float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.4f", v), "0"), ".")
}
