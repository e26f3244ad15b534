// Command benchplot draws the bridge's throughput against the number of C
// producer threads as an SVG line chart, from the output of the bridge's
// BenchmarkPushVsCallback:
//
//	go test -run '^$' -bench 'PushVsCallback' -benchtime 5x -count 3 ./bridge | tee bench.txt
//	go run ./bridge/internal/benchplot -o docs/bridge-throughput.svg < bench.txt
//
// Each series (push, batch8, callback, chan) is a variant's median
// <variant>-ns/event over the -count runs, as millions of events per
// second; the bars show the least and most of the runs. The y axis is
// logarithmic, so the distance between two lines is their ratio (-linear
// draws it linear from zero). It reads standard
// input, or the files named as arguments, and writes standard output
// unless -o is given. Lines that are not results of that benchmark are
// ignored, so the whole go test output can be piped in.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

func main() {
	out := flag.String("o", "", "write the SVG to this file instead of standard output")
	title := flag.String("title", "Bridge throughput, 16-byte events, C threads to one Go consumer", "chart title")
	note := flag.String("note", "", "a line under the title (machine, load)")
	linear := flag.Bool("linear", false, "a linear y axis from zero instead of a logarithmic one")
	flag.Parse()
	if err := run(flag.Args(), *out, *title, *note, !*linear); err != nil {
		fmt.Fprintln(os.Stderr, "benchplot:", err)
		os.Exit(1)
	}
}

func run(files []string, out, title, note string, logY bool) error {
	var in io.Reader = os.Stdin
	if len(files) > 0 {
		var rs []io.Reader
		for _, name := range files {
			f, err := os.Open(name)
			if err != nil {
				return err
			}
			defer f.Close()
			rs = append(rs, f)
		}
		in = io.MultiReader(rs...)
	}
	res, err := parse(in)
	if err != nil {
		return err
	}
	svg := render(res, title, note, logY)
	if out == "" {
		_, err = os.Stdout.WriteString(svg)
		return err
	}
	return os.WriteFile(out, []byte(svg), 0o644)
}

// series are the variants drawn, in legend order, with their colours.
var series = []struct{ name, label, color string }{
	{"batch8", "cg_bridge_push_batch, 8 per call", "#2b8a3e"},
	{"push", "cg_bridge_push per event", "#1864ab"},
	{"callback", "cgo callback per event", "#c92a2a"},
	{"chan", "cgo callback + channel", "#e67700"},
}

// results maps a variant and a producer count to its ns/event, one value
// per run.
type results map[string]map[int][]float64

var lineRE = regexp.MustCompile(`^BenchmarkPushVsCallback/producers=(\d+)(?:-\d+)?\s`)

// parse reads benchmark output and collects every <variant>-ns/event.
func parse(r io.Reader) (results, error) {
	res := results{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		m := lineRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		producers, err := strconv.Atoi(m[1])
		if err != nil || producers < 1 {
			return nil, fmt.Errorf("line %d: bad producer count %q", n, m[1])
		}
		f := strings.Fields(line)
		for i := 1; i+1 < len(f); i++ {
			name, ok := strings.CutSuffix(f[i+1], "-ns/event")
			if !ok || strings.HasSuffix(name, "-cpu") {
				continue
			}
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil || v <= 0 {
				return nil, fmt.Errorf("line %d: bad value %q for %s", n, f[i], f[i+1])
			}
			if res[name] == nil {
				res[name] = map[int][]float64{}
			}
			res[name][producers] = append(res[name][producers], v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(res) == 0 {
		return nil, errors.New("no BenchmarkPushVsCallback results with <variant>-ns/event metrics in the input")
	}
	return res, nil
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// Chart geometry, in SVG user units.
const (
	width, height            = 760, 460
	left, right, top, bottom = 70, 250, 60, 50
)

// render draws the chart: x is the producer count on a log2 scale, y is
// millions of events per second, on a log10 scale (logY) or from zero.
func render(res results, title, note string, logY bool) string {
	var counts []int
	seen := map[int]bool{}
	maxY, minY := 0.0, math.Inf(1)
	for _, byN := range res {
		for n, v := range byN {
			if !seen[n] {
				seen[n] = true
				counts = append(counts, n)
			}
			for _, ns := range v {
				maxY = max(maxY, 1e3/ns)
				minY = min(minY, 1e3/ns)
			}
		}
	}
	sort.Ints(counts)
	yTop := niceCeil(maxY)
	yBottom := 0.0
	ticks := []float64{0, yTop / 5, 2 * yTop / 5, 3 * yTop / 5, 4 * yTop / 5, yTop}
	if logY {
		yBottom = niceFloor(minY)
		ticks = nil
		for p := yBottom; p <= yTop*1.0001; p *= 10 {
			for _, m := range []float64{1, 2, 5} {
				if v := m * p; v >= yBottom && v <= yTop*1.0001 {
					ticks = append(ticks, v)
				}
			}
		}
	}
	plotW, plotH := float64(width-left-right), float64(height-top-bottom)
	lg := func(n int) float64 {
		l := 0.0
		for x := float64(n); x > 1; x /= 2 {
			l++
		}
		return l
	}
	span := lg(counts[len(counts)-1]) - lg(counts[0])
	x := func(n int) float64 {
		if span == 0 {
			return left + plotW/2
		}
		return left + (lg(n)-lg(counts[0]))/span*plotW
	}
	y := func(v float64) float64 {
		if logY {
			return top + plotH - (math.Log10(v)-math.Log10(yBottom))/(math.Log10(yTop)-math.Log10(yBottom))*plotH
		}
		return top + plotH - v/yTop*plotH
	}

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="15" font-weight="bold">%s</text>`+"\n", left, esc(title))
	if note != "" {
		fmt.Fprintf(&b, `<text x="%d" y="42" fill="#555">%s</text>`+"\n", left, esc(note))
	}
	// Grid and y axis.
	for _, v := range ticks {
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", left, y(v), left+plotW, y(v))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", left-6, y(v)+4, trim(v))
	}
	axis := "million events per second"
	if logY {
		axis += " (log scale)"
	}
	fmt.Fprintf(&b, `<text transform="translate(18 %.1f) rotate(-90)" text-anchor="middle">%s</text>`+"\n", top+plotH/2, axis)
	// x axis.
	fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333"/>`+"\n", left, top+plotH, left+plotW, top+plotH)
	for _, n := range counts {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%d</text>`+"\n", x(n), top+plotH+18, n)
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">C producer threads</text>`+"\n", left+plotW/2, height-10)
	// Series, legend.
	ly := top + 10
	for _, s := range series {
		byN := res[s.name]
		if len(byN) == 0 {
			continue
		}
		var pts []string
		for _, n := range counts {
			v, ok := byN[n]
			if !ok {
				continue
			}
			lo, hi := 1e3/maxOf(v), 1e3/minOf(v)
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-opacity="0.5"/>`+"\n", x(n), y(lo), x(n), y(hi), s.color)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(n), y(1e3/median(v))))
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", strings.Join(pts, " "), s.color)
		for _, p := range pts {
			xy := strings.Split(p, ",")
			fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="3.5" fill="%s"/>`+"\n", xy[0], xy[1], s.color)
		}
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/>`+"\n", width-right+20, ly, width-right+44, ly, s.color)
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", width-right+50, ly+4, esc(s.label))
		ly += 22
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#555">median of the runs;</text>`+"\n", width-right+20, ly+10)
	fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#555">bars: least to most</text>`+"\n", width-right+20, ly+26)
	b.WriteString("</svg>\n")
	return b.String()
}

func minOf(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = min(m, x)
	}
	return m
}

func maxOf(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

// niceFloor rounds v down to a power of ten (v > 0).
func niceFloor(v float64) float64 {
	return math.Pow(10, math.Floor(math.Log10(v)))
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (at least 1).
func niceCeil(v float64) float64 {
	p := 1.0
	for p*10 <= v {
		p *= 10
	}
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func trim(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
