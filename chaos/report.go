package chaos

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cgoguard/cgoguard/report"
)

// ErrUnknownFormat is returned by WriteReport for a format it does not
// write.
var ErrUnknownFormat = errors.New("cgoguard: unknown chaos report format")

// ReportFormats are the formats WriteReport writes: the red-blue table as
// text, the whole result as JSON, JUnit (one testcase per experiment),
// HTML with an SVG plot per experiment, and the checklist run JSON
// (Result.Checklist) that the checklist tools and the hub read.
var ReportFormats = []string{"text", "json", "junit", "html", "checklist"}

// WriteReport writes res in format.
func WriteReport(w io.Writer, format string, res *Result) error {
	switch format {
	case "text":
		return writeText(w, res)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(res)
	case "junit", "checklist":
		name := format
		if name == "checklist" {
			name = "json"
		}
		f, err := report.Lookup(name)
		if err != nil {
			return err
		}
		return f.Write(w, res.Checklist())
	case "html":
		return writeHTML(w, res)
	}
	return fmt.Errorf("%w %q (known: %s)", ErrUnknownFormat, format, strings.Join(ReportFormats, ", "))
}

// writeText writes the red-blue table: fault type, SLO target, recovery
// SLA, measured recovery, verdict; then why each failing experiment failed.
func writeText(w io.Writer, res *Result) error {
	var b bytes.Buffer
	c := res.Counts()
	fmt.Fprintf(&b, "%s: %d experiment(s): %d held, %d recovered, %d sla_missed, %d aborted", res.Name(), len(res.Experiments), c[Held], c[Recovered], c[SLAMissed], c[Aborted])
	if res.Interrupted {
		b.WriteString(" (interrupted)")
	}
	b.WriteString("\n\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EXPERIMENT\tFAULT TYPE\tSLO TARGET\tRECOVERY SLA\tMEASURED RECOVERY\tVERDICT")
	for _, e := range res.Experiments {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Name, e.FaultType, e.SLOTarget, e.RecoverySLA, fmtDur(e.Recovery), e.Verdict)
	}
	tw.Flush()
	var notes []string
	for _, e := range res.Experiments {
		if e.Verdict.Failed() {
			notes = append(notes, fmt.Sprintf("  %s: %s", e.Name, e.Summary()))
		}
	}
	if len(notes) > 0 {
		b.WriteString("\nFAILED:\n")
		b.WriteString(strings.Join(notes, "\n"))
		b.WriteByte('\n')
	}
	_, err := w.Write(b.Bytes())
	return err
}

//go:embed report.html.tmpl
var htmlTemplate string

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"dur":     fmtDur,
	"value":   func(v *float64) string { return optValue(v) },
	"utc":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"seconds": func(d time.Duration) string { return d.Round(100 * time.Millisecond).String() },
	"plot":    func(e ExperimentResult) template.HTML { return template.HTML(plotSVG(e)) },
	"failed":  func(v Verdict) bool { return v.Failed() },
	"poll":    func(p Poll) string { return p.describe() },
	"offset": func(e ExperimentResult, t time.Time) string {
		base := e.Started
		if e.Injected != nil {
			base = *e.Injected
		}
		return fmt.Sprintf("%+.1fs", t.Sub(base).Seconds())
	},
}).Parse(htmlTemplate))

func optValue(v *float64) string {
	if v == nil {
		return "-"
	}
	return formatValue(*v)
}

func writeHTML(w io.Writer, res *Result) error {
	counts := map[string]int{}
	for v, n := range res.Counts() {
		counts[string(v)] = n
	}
	return reportTmpl.Execute(w, struct {
		*Result
		Counts map[string]int
		Passed bool
	}{res, counts, res.Passed()})
}

// plotSVG draws the SLO over the experiment: the series (or the polls),
// the threshold, the fault window shaded, the polls as dots (red when
// breached) and the recovery marked.
func plotSVG(e ExperimentResult) string {
	const W, H, left, right, top, bottom = 720.0, 220.0, 64.0, 16.0, 14.0, 34.0
	type pt struct {
		t time.Time
		v float64
	}
	var series []pt
	for _, p := range e.Series {
		series = append(series, pt{p.T, p.V})
	}
	if len(series) == 0 {
		for _, p := range e.Polls {
			if p.Value != nil {
				series = append(series, pt{p.T, *p.Value})
			}
		}
	}
	t0, t1 := e.Started, e.Ended
	for _, p := range series {
		if p.t.Before(t0) {
			t0 = p.t
		}
		if p.t.After(t1) {
			t1 = p.t
		}
	}
	if !t1.After(t0) {
		t1 = t0.Add(time.Second)
	}
	lo, hi := e.Threshold, e.Threshold
	for _, p := range series {
		lo, hi = math.Min(lo, p.v), math.Max(hi, p.v)
	}
	for _, p := range e.Polls {
		if p.Value != nil {
			lo, hi = math.Min(lo, *p.Value), math.Max(hi, *p.Value)
		}
	}
	if lo > 0 && lo < hi/3 || lo == hi {
		lo = math.Min(0, lo)
	}
	if hi == lo {
		hi = lo + 1
	}
	pad := (hi - lo) * 0.08
	hi += pad
	if lo != 0 {
		lo -= pad
	}
	pw, ph := W-left-right, H-top-bottom
	x := func(t time.Time) float64 { return left + pw*t.Sub(t0).Seconds()/t1.Sub(t0).Seconds() }
	y := func(v float64) float64 { return top + ph*(1-(v-lo)/(hi-lo)) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="%s">`, W, H, W, H, html.EscapeString("SLO of "+e.Name))
	fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#fff" stroke="#ccc"/>`, left, top, pw, ph)
	if e.Injected != nil {
		end := t1
		if e.Removed != nil {
			end = *e.Removed
		}
		fmt.Fprintf(&b, `<rect class="fault" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#d62728" fill-opacity="0.12"><title>fault in place</title></rect>`, x(*e.Injected), top, math.Max(x(end)-x(*e.Injected), 1), ph)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" fill="#a00">fault</text>`, x(*e.Injected)+3, top+11)
	}
	if e.Removed != nil {
		dl := e.Removed.Add(e.RecoverySLA.D())
		if dl.Before(t1) {
			fmt.Fprintf(&b, `<line class="sla" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#999" stroke-dasharray="2,3"><title>recovery SLA %s</title></line>`, x(dl), x(dl), top, top+ph, e.RecoverySLA)
		}
	}
	fmt.Fprintf(&b, `<line class="threshold" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#ff7f0e" stroke-dasharray="6,4"><title>threshold %s %s</title></line>`, left, left+pw, y(e.Threshold), y(e.Threshold), html.EscapeString(e.Op), formatValue(e.Threshold))
	if len(series) > 0 {
		sort.Slice(series, func(i, j int) bool { return series[i].t.Before(series[j].t) })
		b.WriteString(`<polyline class="series" fill="none" stroke="#1f77b4" stroke-width="1.5" points="`)
		for i, p := range series {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%.1f,%.1f", x(p.t), y(p.v))
		}
		b.WriteString(`"/>`)
	}
	for _, p := range e.Polls {
		if p.Value == nil {
			fmt.Fprintf(&b, `<text class="poll nodata" x="%.1f" y="%.1f" font-size="10" fill="#d62728" text-anchor="middle">?<title>%s</title></text>`, x(p.T), top+ph-3, html.EscapeString(p.Phase+": "+p.describe()))
			continue
		}
		color := "#2ca02c"
		if !p.OK {
			color = "#d62728"
		}
		fmt.Fprintf(&b, `<circle class="poll" cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s</title></circle>`, x(p.T), y(*p.Value), color, html.EscapeString(p.Phase+": "+p.describe()))
	}
	if e.RecoveredT != nil && e.Recovery != nil {
		rx := x(*e.RecoveredT)
		fmt.Fprintf(&b, `<line class="recovered" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#2ca02c" stroke-width="2"/>`, rx, rx, top, top+ph)
		anchor, tx := "start", rx+4
		if rx > left+pw*0.7 {
			anchor, tx = "end", rx-4
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" fill="#2ca02c" text-anchor="%s">recovered after %s</text>`, tx, top+24, anchor, html.EscapeString(fmtDur(e.Recovery)))
	}
	// Axes: the value range and time offsets from the injection.
	// Value labels: the range's ends, unless they would overlap the
	// threshold's.
	ty := y(e.Threshold)
	if math.Abs(top+8-ty) > 12 {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="end">%s</text>`, left-4, top+8, formatValue(hi))
	}
	if math.Abs(top+ph-ty) > 12 {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="end">%s</text>`, left-4, top+ph, formatValue(lo))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="end" fill="#ff7f0e">%s</text>`, left-4, ty+3, formatValue(e.Threshold))
	base := t0
	if e.Injected != nil {
		base = *e.Injected
	}
	span := t1.Sub(t0)
	step := niceStep(span / 8)
	for t := base.Add(-time.Duration(math.Floor(base.Sub(t0).Seconds()/step.Seconds())) * step); !t.After(t1); t = t.Add(step) {
		if t.Before(t0) {
			continue
		}
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#ccc"/>`, x(t), x(t), top+ph, top+ph+4)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="middle">%s</text>`, x(t), top+ph+15, html.EscapeString(fmt.Sprintf("%+gs", math.Round(t.Sub(base).Seconds()*10)/10)))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="middle" fill="#555">seconds from injection</text>`, left+pw/2, H-3)
	b.WriteString(`</svg>`)
	return b.String()
}

// niceStep rounds d up to 1, 2 or 5 times a power of ten seconds (at
// least 100ms).
func niceStep(d time.Duration) time.Duration {
	s := d.Seconds()
	if s <= 0.1 {
		return 100 * time.Millisecond
	}
	p := math.Pow(10, math.Floor(math.Log10(s)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= s {
			return time.Duration(m * p * float64(time.Second))
		}
	}
	return time.Duration(10 * p * float64(time.Second))
}
