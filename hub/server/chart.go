package server

import (
	"math"
	"strconv"
	"strings"

	"github.com/cgoguard/cgoguard/hub"
)

// The trend charts are SVG drawn by the server: no script, no chart
// library to ship, and every label goes through html/template's escaping.
// A series is a polyline per run of non-empty buckets, with a dot (and a
// tooltip) per bucket.

type chart struct {
	Title  string
	ID     string
	Width  int
	Height int
	Left   float64
	Right  float64
	Top    float64
	Bottom float64
	Grid   []tick
	XTicks []tick
	Series []series
	Empty  bool
}

type tick struct {
	Pos   float64
	Label string
}

type series struct {
	Name  string
	Class string
	Lines []string
	Dots  []dot
}

type dot struct {
	X, Y  float64
	Label string
}

const (
	chartW = 720
	chartH = 200
	padL   = 56.0
	padR   = 12.0
	padT   = 12.0
	padB   = 30.0
)

// trendCharts draws failure rate, duration (mean and p95) and skip rate.
func trendCharts(t *hub.Trend) []chart {
	pick := func(f func(b *hub.TrendBucket) *float64) []*float64 {
		out := make([]*float64, len(t.Buckets))
		for i := range t.Buckets {
			out[i] = f(&t.Buckets[i])
		}
		return out
	}
	fail := pick(func(b *hub.TrendBucket) *float64 { return b.FailureRate })
	skip := pick(func(b *hub.TrendBucket) *float64 { return b.SkipRate })
	mean := pick(func(b *hub.TrendBucket) *float64 { return b.MeanSeconds })
	p95 := pick(func(b *hub.TrendBucket) *float64 { return b.P95Seconds })
	pctLabel := func(v float64) string { return strconv.FormatFloat(100*v, 'f', 0, 64) + "%" }
	top := 0.0
	for _, v := range p95 {
		if v != nil && *v > top {
			top = *v
		}
	}
	top = niceCeil(top)
	return []chart{
		newChart(t, "failure-rate", "Failure rate", 1, pctLabel, []namedValues{{"failure rate", "s-fail", fail}}),
		newChart(t, "duration", "Duration (mean and p95)", top, fmtSeconds, []namedValues{{"mean", "s-mean", mean}, {"p95", "s-p95", p95}}),
		newChart(t, "skip-rate", "Skip rate", 1, pctLabel, []namedValues{{"skip rate", "s-skip", skip}}),
	}
}

type namedValues struct {
	name, class string
	v           []*float64
}

func newChart(t *hub.Trend, id, title string, yMax float64, label func(float64) string, data []namedValues) chart {
	c := chart{Title: title, ID: id, Width: chartW, Height: chartH, Left: padL, Right: chartW - padR, Top: padT, Bottom: chartH - padB, Empty: true}
	if yMax <= 0 {
		yMax = 1
	}
	n := len(t.Buckets)
	step := (c.Right - c.Left) / float64(max(n, 1))
	x := func(i int) float64 { return round1(c.Left + (float64(i)+0.5)*step) }
	y := func(v float64) float64 { return round1(c.Bottom - (c.Bottom-c.Top)*math.Min(v/yMax, 1)) }
	for i := 0; i <= 4; i++ {
		v := yMax * float64(i) / 4
		c.Grid = append(c.Grid, tick{y(v), label(v)})
	}
	every := max(1, n/6)
	for i := 0; i < n; i += every {
		c.XTicks = append(c.XTicks, tick{x(i), t.Buckets[i].Start.UTC().Format("01-02")})
	}
	for _, d := range data {
		s := series{Name: d.name, Class: d.class}
		var pts []string
		flush := func() {
			if len(pts) > 0 {
				s.Lines = append(s.Lines, strings.Join(pts, " "))
				pts = nil
			}
		}
		for i, v := range d.v {
			if v == nil {
				flush()
				continue
			}
			c.Empty = false
			px, py := x(i), y(*v)
			pts = append(pts, strconv.FormatFloat(px, 'f', -1, 64)+","+strconv.FormatFloat(py, 'f', -1, 64))
			s.Dots = append(s.Dots, dot{px, py, t.Buckets[i].Start.UTC().Format("2006-01-02 15:04") + ": " + label(*v) +
				" (" + strconv.Itoa(t.Buckets[i].Runs) + " runs)"})
		}
		flush()
		c.Series = append(c.Series, s)
	}
	return c
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// niceCeil rounds up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}
