package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/cgoguard/cgoguard/checklist"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Props     *junitProps `xml:"properties,omitempty"`
	Cases     []junitCase `xml:"testcase"`
}

type junitProps struct {
	Items []junitProperty `xml:"property"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkip    `xml:"skipped,omitempty"`
	SystemOut *junitText    `xml:"system-out,omitempty"`
}

// junitText is written as CDATA so evidence keeps its line breaks.
type junitText struct {
	Text string `xml:",cdata"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// xmlSafe replaces characters XML 1.0 forbids (terminal escapes, NULs) so
// the report stays parseable.
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return r
		case r < 0x20, r == 0xFFFE, r == 0xFFFF, r >= 0xD800 && r <= 0xDFFF:
			return '\uFFFD'
		}
		return r
	}, s)
}

type junitSkip struct {
	Message string `xml:"message,attr"`
}

func secs(d interface{ Seconds() float64 }) string { return fmt.Sprintf("%.3f", d.Seconds()) }

func writeJUnit(w io.Writer, r *checklist.Result) error {
	s := junitSuite{Name: r.Checklist, Time: secs(r.Duration), Timestamp: r.Started.UTC().Format("2006-01-02T15:04:05")}
	var props []junitProperty
	if len(r.Packages) > 0 {
		props = append(props, junitProperty{Name: "packages", Value: strings.Join(r.Packages, " ")})
	}
	if r.Env != "" {
		props = append(props, junitProperty{Name: "env", Value: r.Env})
	}
	if len(props) > 0 {
		s.Props = &junitProps{Items: props}
	}
	for _, c := range r.Checks {
		tc := junitCase{
			Name: c.ID + ": " + c.Title, Classname: r.Checklist, Time: secs(c.Duration),
			File: c.File, Line: c.Line, SystemOut: &junitText{Text: xmlSafe(evidenceText(c))},
		}
		msg := xmlSafe(fmt.Sprintf("%s: %s", c.Outcome, oneLine(c.Message)))
		detail := strings.TrimSpace(strings.Join([]string{prefixed("prevents: ", c.Prevents), prefixed("fix: ", c.Fix)}, "\n"))
		switch c.Outcome {
		case checklist.Fail, checklist.Timeout:
			tc.Failure = &junitProblem{Message: msg, Type: string(c.Outcome), Text: detail}
			s.Failures++
		case checklist.Error:
			tc.Error = &junitProblem{Message: msg, Type: "error", Text: detail}
			s.Errors++
		case checklist.Skip, checklist.Waived:
			tc.Skipped = &junitSkip{Message: msg}
			s.Skipped++
		}
		s.Cases = append(s.Cases, tc)
		s.Tests++
	}
	out := junitSuites{Name: r.Checklist, Tests: s.Tests, Failures: s.Failures, Errors: s.Errors, Skipped: s.Skipped,
		Time: s.Time, Suites: []junitSuite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

// evidenceText renders a check's evidence as plain text.
func evidenceText(c checklist.CheckResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "outcome: %s\nattempts: %d\nduration: %s\n", c.Outcome, c.Attempts, secs(c.Duration)+"s")
	if c.Message != "" {
		fmt.Fprintf(&b, "message: %s\n", c.Message)
	}
	if c.Evidence.Command != "" {
		fmt.Fprintf(&b, "command: %s\nexit code: %d\n", c.Evidence.Command, c.Evidence.ExitCode)
	}
	if s := strings.TrimSpace(c.Evidence.Stdout); s != "" {
		fmt.Fprintf(&b, "--- stdout\n%s\n", s)
	}
	if s := strings.TrimSpace(c.Evidence.Stderr); s != "" {
		fmt.Fprintf(&b, "--- stderr\n%s\n", s)
	}
	return b.String()
}
