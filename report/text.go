package report

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/internal/textesc"
)

// Text is the human format. The zero value writes without colour.
//
// Everything that comes from a check (ids, titles, messages, commands,
// evidence) is written with its control characters escaped (textesc), so a
// check cannot retitle or clear the terminal the report is read on; the
// machine formats keep the text exact.
type Text struct {
	// Color adds ANSI colours to outcomes; set it only for a terminal.
	Color bool
	// EvidenceLines bounds the evidence lines shown per failure (default 12).
	EvidenceLines int
	// Outputs are the other outputs written from the same run; the report
	// points to them for evidence it does not show.
	Outputs []Output
}

const (
	ansiReset  = "\x1b[0m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiBlue   = "\x1b[34m"
	ansiBold   = "\x1b[1m"
)

func paint(on bool, color, s string) string {
	if !on {
		return s
	}
	return color + s + ansiReset
}

func outcomeColor(o checklist.Outcome) string {
	switch o {
	case checklist.Pass:
		return ansiGreen
	case checklist.Fail, checklist.Timeout, checklist.Error:
		return ansiRed
	case checklist.Waived:
		return ansiBlue
	}
	return ansiYellow
}

// label pads the outcome before colouring so columns stay aligned.
func label(color bool, o checklist.Outcome) string {
	return paint(color, outcomeColor(o), fmt.Sprintf("%-7s", strings.ToUpper(string(o))))
}

// Round durations for display.
func dur(d time.Duration) string {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Millisecond).String()
}

// Write writes the summary table and the failures.
func (t Text) Write(w io.Writer, r *checklist.Result) error {
	ew := &errWriter{w: w}
	pkgs := strings.Join(r.Packages, " ")
	if len(r.Packages) > 3 {
		pkgs = fmt.Sprintf("%s and %d more packages", strings.Join(r.Packages[:3], " "), len(r.Packages)-3)
	}
	fmt.Fprintf(ew, "%s: %d checks in %s on %s\n\n", paint(t.Color, ansiBold, textesc.Line(r.Checklist)), len(r.Checks), dur(r.Duration), textesc.Line(pkgs))
	writeSource(ew, r)
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tOUTCOME\tSEVERITY\tTIME\tTITLE")
	for _, c := range r.Checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", textesc.Line(c.ID), label(t.Color, c.Outcome), textesc.Line(string(c.Severity)), dur(c.Duration), textesc.Line(c.Title))
	}
	tw.Flush()

	lines := t.EvidenceLines
	if lines <= 0 {
		lines = 12
	}
	first := true
	for _, c := range r.Checks {
		if c.Outcome == checklist.Pass && c.Attempts <= 1 {
			continue
		}
		if first {
			fmt.Fprintf(ew, "\n%s\n", paint(t.Color, ansiBold, "Details"))
			first = false
		}
		fmt.Fprintf(ew, "\n%s %s  %s\n", label(t.Color, c.Outcome), textesc.Line(c.ID), textesc.Line(c.Title))
		if c.Message != "" {
			fmt.Fprintf(ew, "  why:       %s\n", oneLine(c.Message))
		}
		if c.Outcome == checklist.Skip || c.Outcome == checklist.Pass {
			continue // a skip has no evidence; a flaky pass shows its attempts above
		}
		if c.Prevents != "" {
			fmt.Fprintf(ew, "  prevents:  %s\n", oneLine(c.Prevents))
		}
		if c.Fix != "" {
			fmt.Fprintf(ew, "  fix:       %s\n", oneLine(c.Fix))
		}
		if c.Evidence.Command != "" {
			fmt.Fprintf(ew, "  command:   %s (exit %d, %d attempt(s))\n", oneLine(c.Evidence.Command), c.Evidence.ExitCode, c.Attempts)
		}
		ev := strings.TrimSpace(c.Evidence.Stdout)
		if ev == "" {
			ev = strings.TrimSpace(c.Evidence.Stderr)
		}
		if ev != "" {
			fmt.Fprintf(ew, "  evidence:\n")
			all := strings.Split(ev, "\n")
			for i, l := range all {
				if i == lines {
					fmt.Fprintf(ew, "    ... %d more line(s)%s\n", len(all)-lines, t.whereEvidence())
					break
				}
				// One evidence line: its tabs (go test's columns) are kept;
				// every other control character is escaped.
				fmt.Fprintf(ew, "    %s\n", textesc.String(l))
			}
		}
	}
	counts := r.Counts()
	var parts []string
	for _, o := range checklist.Outcomes {
		parts = append(parts, fmt.Sprintf("%d %s", counts[o], o))
	}
	verdict := paint(t.Color, ansiGreen, "PASSED")
	if !r.Passed() {
		verdict = paint(t.Color, ansiRed, "FAILED")
	}
	if r.Interrupted {
		verdict = paint(t.Color, ansiRed, "INTERRUPTED")
	}
	fmt.Fprintf(ew, "\n%s: %s\n", verdict, strings.Join(parts, ", "))
	return ew.err
}

// oneLine joins the lines of s with " | " and escapes what a terminal would
// act on.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return textesc.Line(strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " | ")), " "))
}

// whereEvidence says where the evidence the report cuts short is kept.
func (t Text) whereEvidence() string {
	for _, format := range []string{"json", "junit"} {
		for _, o := range t.Outputs {
			if o.Format != format {
				continue
			}
			if o.Path == "-" {
				return " in the " + format + " output"
			}
			return " in " + textesc.Line(o.Path)
		}
	}
	return "; -o json=FILE keeps all of it"
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return len(p), nil
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// Progress writes one line per started and finished check while a run
// goes on. Use its Event method as the runner's progress function.
type Progress struct {
	mu    sync.Mutex
	w     io.Writer
	color bool
}

// NewProgress returns a progress writer; color adds ANSI colours.
func NewProgress(w io.Writer, color bool) *Progress { return &Progress{w: w, color: color} }

// Event writes a line for a finished check.
func (p *Progress) Event(ev checklist.Event) {
	if ev.Type != checklist.CheckFinished {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	width := len(fmt.Sprint(ev.Total))
	fmt.Fprintf(p.w, "[%*d/%d] %s %-12s %s (%s)\n", width, ev.Done, ev.Total, label(p.color, ev.Result.Outcome),
		textesc.Line(ev.Check.ID), textesc.Line(ev.Check.Title), dur(ev.Result.Duration))
}
