package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Point is one value of a series.
type Point struct {
	T time.Time `json:"t"`
	V float64   `json:"v"`
}

// errNoData says the expression had no value (no series, or NaN).
var errNoData = errors.New("no data")

// source evaluates the expression of a condition.
type source interface {
	// prime waits until the source can evaluate (a scraped window needs
	// two samples).
	prime(ctx context.Context) error
	// eval returns the expression's value now; errNoData when it has none.
	eval(ctx context.Context) (float64, error)
	// series returns the expression over [from, to] for plots, at about
	// step resolution, or nil when the source keeps no history.
	series(ctx context.Context, from, to time.Time, step time.Duration) ([]Point, error)
}

// ---- PromQL against a Prometheus server ----------------------------------

type promSource struct {
	api   v1.API
	query string
	to    time.Duration
}

func newPromSource(c *Condition, client *http.Client) (*promSource, error) {
	cl, err := api.NewClient(api.Config{Address: c.Prometheus, Client: client})
	if err != nil {
		return nil, fmt.Errorf("cgoguard: prometheus %s: %w", c.Prometheus, err)
	}
	return &promSource{api: v1.NewAPI(cl), query: c.expandedQuery(), to: c.Timeout.D()}, nil
}

func (p *promSource) prime(ctx context.Context) error { return nil }

func (p *promSource) eval(ctx context.Context) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, p.to)
	defer cancel()
	v, _, _, err := p.api.Query(ctx, p.query, time.Now())
	if err != nil {
		return 0, fmt.Errorf("prometheus query: %w", err)
	}
	switch r := v.(type) {
	case *model.Scalar:
		return finite(float64(r.Value))
	case model.Vector:
		switch len(r) {
		case 0:
			return 0, errNoData
		case 1:
			return finite(float64(r[0].Value))
		}
		return 0, fmt.Errorf("query returned %d series, want one: aggregate it (sum, max, ...)", len(r))
	}
	return 0, fmt.Errorf("query returned a %s, want a scalar or one series", v.Type())
}

func finite(v float64) (float64, error) {
	if math.IsNaN(v) {
		return 0, errNoData
	}
	return v, nil
}

func (p *promSource) series(ctx context.Context, from, to time.Time, step time.Duration) ([]Point, error) {
	ctx, cancel := context.WithTimeout(ctx, p.to)
	defer cancel()
	v, _, _, err := p.api.QueryRange(ctx, p.query, v1.Range{Start: from, End: to, Step: step})
	if err != nil {
		return nil, err
	}
	m, ok := v.(model.Matrix)
	if !ok || len(m) != 1 {
		return nil, nil
	}
	out := make([]Point, 0, len(m[0].Values))
	for _, s := range m[0].Values {
		if f := float64(s.Value); !math.IsNaN(f) && !math.IsInf(f, 0) {
			out = append(out, Point{T: s.Timestamp.Time(), V: f})
		}
	}
	return out, nil
}

// ---- scraped straight from /metrics ---------------------------------------

// matcher is one label matcher of a Selector.
type matcher struct {
	name string
	neg  bool
	eq   string
	re   *regexp.Regexp
}

func newMatcher(name, v string) (matcher, error) {
	m := matcher{name: name}
	if strings.HasPrefix(v, "!") {
		m.neg, v = true, v[1:]
	}
	if strings.HasPrefix(v, "~") {
		re, err := regexp.Compile("^(?:" + v[1:] + ")$")
		if err != nil {
			return m, fmt.Errorf("label %s: %v", name, err)
		}
		m.re = re
		return m, nil
	}
	m.eq = v
	return m, nil
}

func (m matcher) matches(v string) bool {
	var ok bool
	if m.re != nil {
		ok = m.re.MatchString(v)
	} else {
		ok = v == m.eq
	}
	return ok != m.neg
}

// selector is a compiled Selector.
type selector struct {
	metric   string
	matchers []matcher
}

func newSelector(metric string, labels map[string]string) (*selector, error) {
	s := &selector{metric: metric}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		m, err := newMatcher(k, labels[k])
		if err != nil {
			return nil, err
		}
		s.matchers = append(s.matchers, m)
	}
	return s, nil
}

// reading is what one selector read in one scrape: the sum of the
// matching series (for a histogram, of their observation counts) and,
// for histograms, the cumulative bucket counts by upper bound.
type reading struct {
	ok      bool
	sum     float64
	series  map[string]float64 // by label set, for per-series counter resets
	buckets []bucket           // cumulative, by upper bound
}

func (s *selector) read(fams map[string]*dto.MetricFamily) reading {
	r, byLE := s.readMap(fams)
	for le, n := range byLE {
		r.buckets = append(r.buckets, bucket{le, n})
	}
	sort.Slice(r.buckets, func(i, j int) bool { return r.buckets[i].le < r.buckets[j].le })
	return r
}

func (s *selector) readMap(fams map[string]*dto.MetricFamily) (reading, map[float64]float64) {
	name, part := s.metric, ""
	fam := fams[name]
	if fam == nil {
		for _, suf := range []string{"_count", "_sum", "_bucket"} {
			if base, ok := strings.CutSuffix(name, suf); ok && fams[base] != nil {
				fam, part = fams[base], suf
				break
			}
		}
	}
	var r reading
	var byLE map[float64]float64
	if fam == nil {
		return r, nil
	}
	r.series = map[string]float64{}
	for _, m := range fam.Metric {
		if !s.match(m) {
			continue
		}
		r.ok = true
		key := labelKey(m)
		var v float64
		switch {
		case m.Counter != nil:
			v = m.Counter.GetValue()
		case m.Gauge != nil:
			v = m.Gauge.GetValue()
		case m.Untyped != nil:
			v = m.Untyped.GetValue()
		case m.Histogram != nil:
			h := m.Histogram
			if part == "_sum" {
				v = h.GetSampleSum()
				break
			}
			v = float64(h.GetSampleCount())
			if byLE == nil {
				byLE = map[float64]float64{}
			}
			inf := false
			for _, b := range h.Bucket {
				byLE[b.GetUpperBound()] += float64(b.GetCumulativeCount())
				inf = inf || math.IsInf(b.GetUpperBound(), 1)
			}
			if !inf { // the text format lists +Inf; other encoders may not
				byLE[math.Inf(1)] += float64(h.GetSampleCount())
			}
		case m.Summary != nil:
			if part == "_sum" {
				v = m.Summary.GetSampleSum()
			} else {
				v = float64(m.Summary.GetSampleCount())
			}
		}
		r.sum += v
		r.series[key] += v
	}
	return r, byLE
}

// labelKey identifies a series by its labels (the parser sorts them).
func labelKey(m *dto.Metric) string {
	var b strings.Builder
	for _, lp := range m.Label {
		b.WriteString(lp.GetName())
		b.WriteByte('=')
		b.WriteString(lp.GetValue())
		b.WriteByte(0)
	}
	return b.String()
}

func (s *selector) match(m *dto.Metric) bool {
	for _, mt := range s.matchers {
		v := ""
		for _, lp := range m.Label {
			if lp.GetName() == mt.name {
				v = lp.GetValue()
				break
			}
		}
		if !mt.matches(v) {
			return false
		}
	}
	return true
}

type sample struct {
	t    time.Time
	vals []reading // by selector index
}

// sampler scrapes one /metrics URL on a schedule and keeps, for each
// registered selector, what it read: the history windows are computed
// from. One sampler serves every condition on the URL in a run.
type sampler struct {
	url    string
	client *http.Client

	mu      sync.Mutex
	step    time.Duration
	sels    []*selector
	samples []sample
	lastErr error
	kick    chan struct{}
	done    chan struct{}
	once    sync.Once
}

// maxSamples bounds a sampler's history (a day at one sample a second).
const maxSamples = 86400

func newSampler(url string, client *http.Client, step time.Duration) *sampler {
	return &sampler{url: url, client: client, step: step, kick: make(chan struct{}, 1), done: make(chan struct{})}
}

// add registers a selector and returns its index.
func (s *sampler) add(sel *selector, step time.Duration) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if step > 0 && step < s.step {
		s.step = step
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
	s.sels = append(s.sels, sel)
	return len(s.sels) - 1
}

func (s *sampler) start() {
	s.once.Do(func() {
		go func() {
			for {
				s.mu.Lock()
				step := s.step
				s.mu.Unlock()
				t := time.NewTimer(step)
				select {
				case <-s.done:
					t.Stop()
					return
				case <-s.kick:
					t.Stop()
					continue
				case <-t.C:
				}
				ctx, cancel := context.WithTimeout(context.Background(), max(step, time.Second))
				_ = s.scrape(ctx)
				cancel()
			}
		}()
	})
}

func (s *sampler) stop() {
	s.once.Do(func() {}) // a sampler never started must not start after stop
	select {
	case <-s.done:
	default:
		close(s.done)
	}
}

// scrape reads the URL once and records a sample (with nothing read when
// the scrape failed: a service that does not answer has no data).
func (s *sampler) scrape(ctx context.Context) error {
	fams, err := s.fetch(ctx)
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	vals := make([]reading, len(s.sels))
	if err == nil {
		for i, sel := range s.sels {
			vals[i] = sel.read(fams)
		}
	}
	s.lastErr = err
	s.samples = append(s.samples, sample{t: now, vals: vals})
	if len(s.samples) > maxSamples {
		s.samples = append(s.samples[:0:0], s.samples[len(s.samples)-maxSamples:]...)
	}
	return err
}

func (s *sampler) fetch(ctx context.Context) (map[string]*dto.MetricFamily, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", s.url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return nil, fmt.Errorf("scrape %s: %s", s.url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", s.url, err)
	}
	return fams, nil
}

// scrapeSource evaluates a scrape condition over a sampler's history.
type scrapeSource struct {
	s        *sampler
	fn       string
	num, den int // selector indexes; den -1 unless ratio
	window   time.Duration
	quantile float64
	to       time.Duration
}

func newScrapeSource(c *Condition, s *sampler) (*scrapeSource, error) {
	num, err := newSelector(c.Metric, c.Labels)
	if err != nil {
		return nil, err
	}
	step := c.ScrapeInterval.D()
	if step == 0 {
		step = min(max(c.Window.D()/10, time.Second), 15*time.Second)
	}
	src := &scrapeSource{s: s, fn: c.Func, den: -1, window: c.Window.D(), quantile: c.Quantile, to: c.Timeout.D()}
	src.num = s.add(num, step)
	if c.Func == FuncRatio {
		den, err := newSelector(c.overMetric(), c.Over.Labels)
		if err != nil {
			return nil, err
		}
		src.den = s.add(den, step)
	}
	return src, nil
}

func (c *scrapeSource) prime(ctx context.Context) error {
	c.s.start()
	if c.fn == FuncValue {
		return nil
	}
	for tries := 0; ; tries++ {
		c.s.mu.Lock()
		n := 0
		for _, sm := range c.s.samples {
			if c.num < len(sm.vals) && sm.vals[c.num].ok {
				n++
			}
		}
		step := c.s.step
		c.s.mu.Unlock()
		if n >= 2 || tries == 3 {
			return nil
		}
		sctx, cancel := context.WithTimeout(ctx, c.to)
		c.s.scrape(sctx)
		cancel()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(step):
		}
	}
}

func (c *scrapeSource) eval(ctx context.Context) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, c.to)
	defer cancel()
	if err := c.s.scrape(ctx); err != nil {
		return 0, err
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.at(len(c.s.samples) - 1)
}

// at computes the function at sample i over the window ending there.
// c.s.mu held.
func (c *scrapeSource) at(i int) (float64, error) {
	ss := c.s.samples
	if i < 0 || i >= len(ss) {
		return 0, errNoData
	}
	get := func(k, sel int) (reading, bool) {
		if sel < len(ss[k].vals) && ss[k].vals[sel].ok {
			return ss[k].vals[sel], true
		}
		return reading{}, false
	}
	last, ok := get(i, c.num)
	if !ok {
		return 0, errNoData
	}
	if c.fn == FuncValue {
		return last.sum, nil
	}
	// The samples of the window: from the first at or after its start.
	from := i
	for j := i - 1; j >= 0 && !ss[j].t.Before(ss[i].t.Add(-c.window)); j-- {
		from = j
	}
	idx := []int{}
	for j := from; j <= i; j++ {
		if _, ok := get(j, c.num); ok {
			idx = append(idx, j)
		}
	}
	if len(idx) < 2 {
		return 0, errNoData
	}
	// increase sums how much val grew over the window's samples of sel
	// where present, a drop counting as a counter reset; a series that
	// appears late counts from its first sample, not from zero.
	increase := func(sel int, val func(reading) (float64, bool)) float64 {
		total, prev, seen := 0.0, 0.0, false
		for _, j := range idx {
			r, ok := get(j, sel)
			if !ok {
				continue
			}
			v, present := val(r)
			if !present {
				continue
			}
			if seen {
				if v >= prev {
					total += v - prev
				} else {
					total += v
				}
			}
			prev, seen = v, true
		}
		return total
	}
	// counterIncrease is increase per series (a reset of one series does
	// not look like a drop of the sum), summed.
	counterIncrease := func(sel int) (float64, bool) {
		keys := map[string]bool{}
		have := false
		for _, j := range idx {
			if r, ok := get(j, sel); ok {
				have = true
				for k := range r.series {
					keys[k] = true
				}
			}
		}
		total := 0.0
		for k := range keys {
			total += increase(sel, func(r reading) (float64, bool) { v, ok := r.series[k]; return v, ok })
		}
		return total, have
	}
	switch c.fn {
	case FuncIncrease:
		v, _ := counterIncrease(c.num)
		return v, nil
	case FuncRate:
		v, _ := counterIncrease(c.num)
		secs := ss[idx[len(idx)-1]].t.Sub(ss[idx[0]].t).Seconds()
		if secs <= 0 {
			return 0, errNoData
		}
		return v / secs, nil
	case FuncRatio:
		n, _ := counterIncrease(c.num)
		d, ok := counterIncrease(c.den)
		if !ok || d == 0 {
			return 0, errNoData
		}
		return n / d, nil
	case FuncQuantile:
		// Buckets are matched by position, with the latest sample's bounds:
		// a histogram whose bounds drift (a clock calibrated as it runs)
		// keeps its layout. Samples with another layout are left out.
		n := len(last.buckets)
		if n == 0 {
			return 0, fmt.Errorf("%s is not a histogram", c.s.sels[c.num].metric)
		}
		same := idx[:0:0]
		for _, j := range idx {
			if r, _ := get(j, c.num); len(r.buckets) == n {
				same = append(same, j)
			}
		}
		if len(same) < 2 {
			return 0, errNoData
		}
		idx = same
		bs := make([]bucket, n)
		for k := range bs {
			inc := increase(c.num, func(r reading) (float64, bool) { return r.buckets[k].count, true })
			bs[k] = bucket{last.buckets[k].le, inc}
		}
		return histogramQuantile(c.quantile, bs)
	}
	return 0, fmt.Errorf("unknown func %q", c.fn)
}

func (c *scrapeSource) series(ctx context.Context, from, to time.Time, step time.Duration) ([]Point, error) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	var out []Point
	for i, sm := range c.s.samples {
		if sm.t.Before(from) || sm.t.After(to) {
			continue
		}
		if v, err := c.at(i); err == nil {
			out = append(out, Point{T: sm.t, V: v})
		}
	}
	return out, nil
}

type bucket struct {
	le, count float64
}

// histogramQuantile estimates the q-quantile from cumulative buckets the
// way PromQL's histogram_quantile does: linear interpolation inside the
// bucket the rank falls in, the lower bound of the first bucket taken as
// 0, and the highest finite bound when the rank falls in the +Inf bucket.
func histogramQuantile(q float64, bs []bucket) (float64, error) {
	sort.Slice(bs, func(i, j int) bool { return bs[i].le < bs[j].le })
	if len(bs) < 2 || !math.IsInf(bs[len(bs)-1].le, 1) {
		return 0, errNoData
	}
	// Cumulative counts from counter increases can dip by rounding or a
	// reset between buckets: keep them monotonic.
	for i := 1; i < len(bs); i++ {
		if bs[i].count < bs[i-1].count {
			bs[i].count = bs[i-1].count
		}
	}
	total := bs[len(bs)-1].count
	if total == 0 {
		return 0, errNoData
	}
	rank := q * total
	i := sort.Search(len(bs)-1, func(i int) bool { return bs[i].count >= rank })
	if i == len(bs)-1 {
		return bs[len(bs)-2].le, nil
	}
	lo, loCount := 0.0, 0.0
	if i > 0 {
		lo, loCount = bs[i-1].le, bs[i-1].count
	} else if bs[0].le <= 0 {
		return bs[0].le, nil
	}
	hi, inBucket := bs[i].le, bs[i].count-loCount
	if inBucket == 0 {
		return hi, nil
	}
	return lo + (hi-lo)*(rank-loCount)/inBucket, nil
}
