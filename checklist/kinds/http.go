package kinds

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/tidwall/gjson"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/checklist/internal/proc"
)

// serveParams start the service an http or metric check talks to. The
// service is started for the check, in its own process group, and killed
// (the whole group) when the check ends.
type serveParams struct {
	// Run (shell line) or Argv starts the service.
	Run  string   `yaml:"run"`
	Argv []string `yaml:"argv"`
	// Env adds environment variables.
	Env map[string]string `yaml:"env"`
	// Ready is a pattern the service prints on stdout or stderr once it
	// listens; its first group is the host:port to talk to (default
	// `listening on (\S+)`).
	Ready string `yaml:"ready"`
	// ReadySeconds bounds the wait for Ready (default: the check's timeout).
	ReadySeconds float64 `yaml:"ready_seconds"`
}

// jsonCheck asserts a value in a JSON body, by gjson path.
type jsonCheck struct {
	Path    string `yaml:"path"`
	Equals  any    `yaml:"equals"`
	Matches string `yaml:"matches"`
	Exists  *bool  `yaml:"exists"`
}

// httpParams are the `with` keys of an http check.
type httpParams struct {
	// URL is absolute, or a path ("/healthz") when Serve is set.
	URL    string            `yaml:"url"`
	Method string            `yaml:"method"`
	Header map[string]string `yaml:"header"`
	Body   string            `yaml:"body"`
	// Status is the expected status code (default 200).
	Status      int          `yaml:"status"`
	BodyMatches string       `yaml:"body_matches"`
	JSON        []jsonCheck  `yaml:"json"`
	Serve       *serveParams `yaml:"serve"`
}

type httpKind struct{}

func parseHTTP(with map[string]any) (*httpParams, error) {
	var p httpParams
	if err := decode(with, &p); err != nil {
		return nil, err
	}
	var errs []error
	if err := checkURL(p.URL, p.Serve); err != nil {
		errs = append(errs, err)
	}
	if p.Status != 0 {
		if err := checklist.MustBeIn("status", float64(p.Status), 100, 599); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := compile("body_matches", p.BodyMatches); err != nil {
		errs = append(errs, err)
	}
	for i, j := range p.JSON {
		if j.Path == "" {
			errs = append(errs, fieldErr(fmt.Sprintf("json[%d]", i), "path is required"))
		}
		if _, err := compile(fmt.Sprintf("json[%d].matches", i), j.Matches); err != nil {
			errs = append(errs, err)
		}
	}
	if err := validateServe(p.Serve); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &p, nil
}

func checkURL(u string, serve *serveParams) error {
	if u == "" {
		return fieldErr("url", "is required")
	}
	pu, err := url.Parse(u)
	if err != nil {
		return fieldErr("url", "%v", err)
	}
	if !pu.IsAbs() && serve == nil {
		return &checklist.FieldError{Field: "url", Msg: fmt.Sprintf("%q is relative but no serve: starts a service", u)}
	}
	return nil
}

func validateServe(s *serveParams) error {
	if s == nil {
		return nil
	}
	var errs []error
	if (s.Run == "") == (len(s.Argv) == 0) {
		errs = append(errs, fieldErr("serve", "exactly one of run or argv is required"))
	}
	if _, err := compile("serve.ready", s.Ready); err != nil {
		errs = append(errs, err)
	}
	if err := checklist.MustBeIn("serve.ready_seconds", s.ReadySeconds, 0, checklist.MaxTimeoutSeconds); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (httpKind) Validate(with map[string]any) error {
	_, err := parseHTTP(with)
	return err
}

func (httpKind) Run(ctx context.Context, env *checklist.Env, c *checklist.Check) (obs checklist.Observation) {
	p, err := parseHTTP(c.With)
	if err != nil {
		return checklist.Observation{Err: err}
	}
	target, stop, err := startService(ctx, env, p.Serve, p.URL, c.Timeout(), &obs)
	if err != nil {
		return failOrErr(ctx, obs, err)
	}
	defer stop()
	method := p.Method
	if method == "" {
		method = http.MethodGet
	}
	obs.Evidence.Command = strings.TrimSpace(obs.Evidence.Command + "\n" + method + " " + target)
	req, err := http.NewRequestWithContext(ctx, method, target, strings.NewReader(p.Body))
	if err != nil {
		obs.Err = err
		return obs
	}
	for k, v := range p.Header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		obs.Message = "request failed: " + err.Error()
		return obs
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	obs.Evidence.ExitCode = resp.StatusCode
	b := proc.NewBuffer(env.EvidenceLimit)
	fmt.Fprintf(b, "HTTP %s\n", resp.Status)
	b.Write(body)
	obs.Evidence.Stdout = b.String()

	want := p.Status
	if want == 0 {
		want = http.StatusOK
	}
	var why []string
	if resp.StatusCode != want {
		why = append(why, fmt.Sprintf("status %d, want %d", resp.StatusCode, want))
	}
	if re, _ := compile("body_matches", p.BodyMatches); re != nil && !re.Match(body) {
		why = append(why, fmt.Sprintf("body does not match %q", p.BodyMatches))
	}
	for _, j := range p.JSON {
		if msg := j.check(body); msg != "" {
			why = append(why, msg)
		}
	}
	if len(why) > 0 {
		obs.Message = strings.Join(why, "; ")
		return obs
	}
	obs.Passed = true
	obs.Message = fmt.Sprintf("%s %s: %d", method, target, resp.StatusCode)
	return obs
}

func (j jsonCheck) check(body []byte) string {
	if !gjson.ValidBytes(body) {
		return "body is not JSON"
	}
	r := gjson.GetBytes(body, j.Path)
	switch {
	case j.Exists != nil && *j.Exists != r.Exists():
		if *j.Exists {
			return fmt.Sprintf("json %s is missing", j.Path)
		}
		return fmt.Sprintf("json %s is present", j.Path)
	case j.Exists == nil && !r.Exists():
		return fmt.Sprintf("json %s is missing", j.Path)
	}
	if j.Equals != nil {
		if fmt.Sprint(r.Value()) != fmt.Sprint(j.Equals) {
			return fmt.Sprintf("json %s = %s, want %v", j.Path, r.Raw, j.Equals)
		}
	}
	if j.Matches != "" {
		if re, _ := compile("matches", j.Matches); re != nil && !re.MatchString(r.String()) {
			return fmt.Sprintf("json %s = %s does not match %q", j.Path, r.Raw, j.Matches)
		}
	}
	return ""
}

// failOrErr reports a service that would not start as a failure (it is
// what the check is about) unless the run was cancelled.
func failOrErr(ctx context.Context, obs checklist.Observation, err error) checklist.Observation {
	if ctx.Err() == nil {
		obs.Message = err.Error()
	}
	return obs
}

var defaultReady = regexp.MustCompile(`listening on (\S+)`)

// lineWriter scans written bytes for a pattern, line by line, while keeping
// a bounded copy.
type lineWriter struct {
	mu    sync.Mutex
	re    *regexp.Regexp
	buf   bytes.Buffer
	keep  *proc.Buffer
	found chan string
	sent  bool
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.keep.Write(p)
	if w.sent {
		return len(p), nil
	}
	w.buf.Write(p)
	sc := bufio.NewScanner(bytes.NewReader(w.buf.Bytes()))
	for sc.Scan() {
		if m := w.re.FindStringSubmatch(sc.Text()); m != nil {
			addr := m[0]
			if len(m) > 1 {
				addr = m[1]
			}
			w.sent = true
			select {
			case w.found <- addr:
			default: // the other stream announced first
			}
			w.buf.Reset()
			return len(p), nil
		}
	}
	if w.buf.Len() > 64<<10 {
		w.buf.Reset()
	}
	return len(p), nil
}

// startService starts s (if any), waits until it is ready and returns the
// URL to query and a function that stops it. Without s it returns u.
func startService(ctx context.Context, env *checklist.Env, s *serveParams, u string, timeout time.Duration, obs *checklist.Observation) (string, func(), error) {
	if s == nil {
		return u, func() {}, nil
	}
	argv := s.Argv
	display := shellQuote(argv)
	if s.Run != "" {
		argv = []string{"sh", "-c", s.Run}
		display = s.Run
	}
	obs.Evidence.Command = "serve: " + envPrefix(s.Env) + display
	re := defaultReady
	if s.Ready != "" {
		re, _ = compile("ready", s.Ready)
	}
	found := make(chan string, 1)
	out := &lineWriter{re: re, keep: proc.NewBuffer(env.EvidenceLimit), found: found}
	errw := &lineWriter{re: re, keep: proc.NewBuffer(env.EvidenceLimit), found: found}
	// Both streams may announce readiness; whichever does first wins.
	p, err := proc.Start(ctx, proc.Cmd{
		Argv: argv, Dir: env.Dir, Env: mergeEnv(env.Environ, s.Env), Limit: env.EvidenceLimit,
		Stdout: out, StderrTee: errw,
	})
	if err != nil {
		return "", nil, err
	}
	stop := func() {
		p.Stop()
		obs.Evidence.Stderr = strings.TrimSpace(p.Stderr.String())
		if o := strings.TrimSpace(out.keep.String()); o != "" {
			obs.Evidence.Stderr = strings.TrimSpace("service stdout:\n" + o + "\n" + obs.Evidence.Stderr)
		}
	}
	wait := timeout
	if s.ReadySeconds > 0 {
		wait = time.Duration(s.ReadySeconds * float64(time.Second))
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	var addr string
	select {
	case addr = <-found:
	case <-p.Done():
		stop()
		return "", nil, fmt.Errorf("service exited before it was ready: %s", lastLines(p.Stderr.String(), 2))
	case <-t.C:
		stop()
		return "", nil, fmt.Errorf("service printed no line matching %q within %s", re, wait)
	case <-ctx.Done():
		stop()
		return "", nil, ctx.Err()
	}
	if pu, err := url.Parse(u); err == nil && pu.IsAbs() {
		return u, stop, nil
	}
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	return strings.TrimRight(addr, "/") + "/" + strings.TrimLeft(u, "/"), stop, nil
}

// metricParams are the `with` keys of a metric check.
type metricParams struct {
	// URL of the metrics endpoint, absolute or a path with Serve.
	URL   string       `yaml:"url"`
	Serve *serveParams `yaml:"serve"`
	// Series selects samples: a metric name with optional label matchers,
	// e.g. `cgoguard_calls_total{outcome="ok"}`; matching samples are
	// summed (a histogram or summary contributes its count).
	Series string `yaml:"series"`
	// Op is one of > >= < <= == != (default >=).
	Op string `yaml:"op"`
	// Value is the threshold.
	Value float64 `yaml:"value"`
}

type metricKind struct{}

var seriesPattern = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?$`)
var matcherPattern = regexp.MustCompile(`^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=|!=)\s*"((?:[^"\\]|\\.)*)"\s*$`)

type labelMatcher struct {
	name, value string
	negate      bool
}

func parseSeries(s string) (string, []labelMatcher, error) {
	m := seriesPattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return "", nil, fmt.Errorf("series %q is not name or name{label=\"value\",...}", s)
	}
	var ms []labelMatcher
	if strings.TrimSpace(m[2]) != "" {
		for _, part := range strings.Split(m[2], ",") {
			lm := matcherPattern.FindStringSubmatch(part)
			if lm == nil {
				return "", nil, fmt.Errorf("series %q: bad label matcher %q", s, part)
			}
			v, err := strconv.Unquote(`"` + lm[3] + `"`)
			if err != nil {
				return "", nil, fmt.Errorf("series %q: %v", s, err)
			}
			ms = append(ms, labelMatcher{name: lm[1], value: v, negate: lm[2] == "!="})
		}
	}
	return m[1], ms, nil
}

func parseMetric(with map[string]any) (*metricParams, error) {
	var p metricParams
	if err := decode(with, &p); err != nil {
		return nil, err
	}
	var errs []error
	if err := checkURL(p.URL, p.Serve); err != nil {
		errs = append(errs, err)
	}
	if p.Series == "" {
		errs = append(errs, fieldErr("series", "is required"))
	} else if _, _, err := parseSeries(p.Series); err != nil {
		errs = append(errs, &checklist.FieldError{Field: "series", Msg: err.Error()})
	}
	if p.Op == "" {
		p.Op = ">="
	}
	if _, ok := compare[p.Op]; !ok {
		errs = append(errs, fieldErr("op", "%q is not one of > >= < <= == !=", p.Op))
	}
	if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) {
		errs = append(errs, fieldErr("value", "must be a finite number, not %v", p.Value))
	}
	if err := validateServe(p.Serve); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &p, nil
}

var compare = map[string]func(a, b float64) bool{
	">":  func(a, b float64) bool { return a > b },
	">=": func(a, b float64) bool { return a >= b },
	"<":  func(a, b float64) bool { return a < b },
	"<=": func(a, b float64) bool { return a <= b },
	"==": func(a, b float64) bool { return a == b },
	"!=": func(a, b float64) bool { return a != b },
}

func (metricKind) Validate(with map[string]any) error {
	_, err := parseMetric(with)
	return err
}

func (metricKind) Run(ctx context.Context, env *checklist.Env, c *checklist.Check) (obs checklist.Observation) {
	p, err := parseMetric(c.With)
	if err != nil {
		return checklist.Observation{Err: err}
	}
	target, stop, err := startService(ctx, env, p.Serve, p.URL, c.Timeout(), &obs)
	if err != nil {
		return failOrErr(ctx, obs, err)
	}
	defer stop()
	obs.Evidence.Command = strings.TrimSpace(obs.Evidence.Command + "\nGET " + target)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		obs.Err = err
		return obs
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		obs.Message = "scrape failed: " + err.Error()
		return obs
	}
	defer resp.Body.Close()
	obs.Evidence.ExitCode = resp.StatusCode
	if resp.StatusCode != http.StatusOK {
		obs.Message = fmt.Sprintf("scrape returned status %d", resp.StatusCode)
		return obs
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		obs.Message = "scrape is not Prometheus text format: " + err.Error()
		return obs
	}
	name, matchers, _ := parseSeries(p.Series)
	sum, n, lines := 0.0, 0, []string{}
	if mf, ok := families[name]; ok {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			if !matchLabels(labels, matchers) {
				continue
			}
			var v float64
			switch {
			case m.Counter != nil:
				v = m.GetCounter().GetValue()
			case m.Gauge != nil:
				v = m.GetGauge().GetValue()
			case m.Untyped != nil:
				v = m.GetUntyped().GetValue()
			case m.Histogram != nil:
				v = float64(m.GetHistogram().GetSampleCount())
			case m.Summary != nil:
				v = float64(m.GetSummary().GetSampleCount())
			}
			sum += v
			n++
			lines = append(lines, fmt.Sprintf("%s%s %g", name, formatLabels(labels), v))
		}
	}
	sort.Strings(lines)
	b := proc.NewBuffer(env.EvidenceLimit)
	b.Write([]byte(strings.Join(lines, "\n")))
	obs.Evidence.Stdout = b.String()
	if n == 0 {
		obs.Message = fmt.Sprintf("no series matches %s (%d metric families scraped)", p.Series, len(families))
		return obs
	}
	ok := compare[p.Op](sum, p.Value)
	obs.Message = fmt.Sprintf("%s = %s over %d series, want %s %g", p.Series, fmtFloat(sum), n, p.Op, p.Value)
	obs.Passed = ok
	return obs
}

func fmtFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func matchLabels(labels map[string]string, ms []labelMatcher) bool {
	for _, m := range ms {
		if (labels[m.name] == m.value) == m.negate {
			return false
		}
	}
	return true
}

func formatLabels(l map[string]string) string {
	if len(l) == 0 {
		return ""
	}
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, l[k])
	}
	return "{" + strings.Join(parts, ",") + "}"
}
