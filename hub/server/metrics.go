package server

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cgoguard/cgoguard/hub"
	"github.com/cgoguard/cgoguard/hub/store"
)

// httpMetrics are the hub's own request metrics.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
	uploads  *prometheus.CounterVec
	hooks    *prometheus.CounterVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cgoguard_hub_http_requests_total",
			Help: "HTTP requests served by the hub, by handler, method and status code.",
		}, []string{"handler", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cgoguard_hub_http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by handler and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"handler", "method"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cgoguard_hub_http_requests_in_flight",
			Help: "HTTP requests being served.",
		}),
		uploads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cgoguard_hub_uploads_total",
			Help: "Run uploads by result: created, duplicate, conflict, invalid, too_large.",
		}, []string{"result"}),
	}
	m.hooks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cgoguard_hub_webhooks_total",
		Help: "Webhook deliveries by forge and result: queued, ignored, denied (signature), rejected.",
	}, []string{"forge", "result"})
	reg.MustRegister(m.requests, m.duration, m.inFlight, m.uploads, m.hooks)
	for _, r := range []string{"created", "duplicate", "conflict", "invalid", "too_large"} {
		m.uploads.WithLabelValues(r)
	}
	return m
}

func (m *httpMetrics) instrument(handler string, h http.Handler) http.Handler {
	l := prometheus.Labels{"handler": handler}
	return promhttp.InstrumentHandlerInFlight(m.inFlight,
		promhttp.InstrumentHandlerDuration(m.duration.MustCurryWith(l),
			promhttp.InstrumentHandlerCounter(m.requests.MustCurryWith(l), h)))
}

// feedback reports what the stored runs say about each check over a
// sliding window, computed at scrape time (cached briefly, so several
// scrapers cost one query).
type feedback struct {
	st     store.Store
	window time.Duration
	now    func() time.Time

	failure, skip, duration, flaky, runs, checkRuns, windowDesc *prometheus.Desc

	mu      sync.Mutex
	at      time.Time
	stats   []hub.CheckStats
	outcome map[string]int
	err     error
}

const feedbackCache = 10 * time.Second

func newFeedback(st store.Store, window time.Duration, now func() time.Time) *feedback {
	lbl := []string{"checklist", "check"}
	return &feedback{
		st: st, window: window, now: now,
		failure: prometheus.NewDesc("cgoguard_hub_check_failure_ratio",
			"Share of the check's results in the window that failed, timed out or errored.", lbl, nil),
		skip: prometheus.NewDesc("cgoguard_hub_check_skip_ratio",
			"Share of the check's results in the window that were skipped.", lbl, nil),
		duration: prometheus.NewDesc("cgoguard_hub_check_duration_seconds",
			"Mean duration of the check over the window (skipped results left out).", lbl, nil),
		flaky: prometheus.NewDesc("cgoguard_hub_check_flaky_total",
			"Results in the window where the check passed only after a retry (a windowed count: it can fall).", lbl, nil),
		checkRuns: prometheus.NewDesc("cgoguard_hub_check_runs",
			"Results of the check in the window.", lbl, nil),
		runs: prometheus.NewDesc("cgoguard_hub_runs_total",
			"Runs started in the window, by run outcome (a windowed count: it can fall).", []string{"outcome"}, nil),
		windowDesc: prometheus.NewDesc("cgoguard_hub_feedback_window_seconds",
			"Width of the sliding window of the cgoguard_hub_check_* and cgoguard_hub_runs_total metrics.", nil, nil),
	}
}

func (f *feedback) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{f.failure, f.skip, f.duration, f.flaky, f.checkRuns, f.runs, f.windowDesc} {
		ch <- d
	}
}

func (f *feedback) load() ([]hub.CheckStats, map[string]int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	if !f.at.IsZero() && now.Sub(f.at) < feedbackCache && now.After(f.at) {
		return f.stats, f.outcome, f.err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	since := now.Add(-f.window)
	f.stats, f.err = f.st.CheckStats(ctx, store.StatsFilter{Since: since})
	if f.err == nil {
		f.outcome, f.err = f.st.RunOutcomes(ctx, since)
	}
	f.at = now
	return f.stats, f.outcome, f.err
}

func (f *feedback) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(f.windowDesc, prometheus.GaugeValue, f.window.Seconds())
	stats, outcomes, err := f.load()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(f.runs, err)
		return
	}
	for _, s := range stats {
		ch <- prometheus.MustNewConstMetric(f.failure, prometheus.GaugeValue, s.FailureRate, s.Checklist, s.Check)
		ch <- prometheus.MustNewConstMetric(f.skip, prometheus.GaugeValue, s.SkipRate, s.Checklist, s.Check)
		ch <- prometheus.MustNewConstMetric(f.duration, prometheus.GaugeValue, s.MeanSeconds, s.Checklist, s.Check)
		ch <- prometheus.MustNewConstMetric(f.flaky, prometheus.GaugeValue, float64(s.Flaky), s.Checklist, s.Check)
		ch <- prometheus.MustNewConstMetric(f.checkRuns, prometheus.GaugeValue, float64(s.Runs), s.Checklist, s.Check)
	}
	for _, o := range hub.RunOutcomes {
		ch <- prometheus.MustNewConstMetric(f.runs, prometheus.GaugeValue, float64(outcomes[o]), o)
	}
}
