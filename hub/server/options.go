package server

import (
	"io"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cgoguard/cgoguard/hub"
)

// Option configures a Server. The defaults are set in one place,
// defaults below.
type Option func(*options)

type options struct {
	authReads     bool
	maxBody       int64
	evidenceCap   int
	metricsWindow time.Duration
	statsWindow   time.Duration
	secureCookies bool
	logger        *slog.Logger
	registry      *prometheus.Registry
	now           func() time.Time
}

// Defaults of the options.
const (
	// DefaultMaxBody caps a request body: 32 MiB.
	DefaultMaxBody = 32 << 20
	// DefaultMetricsWindow is the sliding window of the feedback metrics.
	DefaultMetricsWindow = 7 * 24 * time.Hour
	// DefaultStatsWindow is the window of the check pages and the checks API.
	DefaultStatsWindow = 30 * 24 * time.Hour
)

func defaults() options {
	return options{
		authReads:     true,
		maxBody:       DefaultMaxBody,
		evidenceCap:   hub.DefaultEvidenceCap,
		metricsWindow: DefaultMetricsWindow,
		statsWindow:   DefaultStatsWindow,
		logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		now:           time.Now,
	}
}

// WithAuthReads sets whether reading (pages and GET APIs) needs a token.
// Default true; false opens reads to everyone while writes still need a
// token with a role allowed to write.
func WithAuthReads(on bool) Option { return func(o *options) { o.authReads = on } }

// WithMaxBody caps the bytes of a request body; larger uploads get 413.
// Default DefaultMaxBody (32 MiB). Values below 1 KiB are raised to 1 KiB.
func WithMaxBody(n int64) Option {
	return func(o *options) { o.maxBody = max(n, 1<<10) }
}

// WithEvidenceCap bounds the evidence kept per check, in bytes; longer
// evidence is cut and ends with a marker. Default hub.DefaultEvidenceCap
// (256 KiB); negative keeps everything.
func WithEvidenceCap(n int) Option {
	return func(o *options) {
		if n != 0 {
			o.evidenceCap = n
		}
	}
}

// WithMetricsWindow sets the sliding window over which /metrics reports
// the per-check feedback metrics. Default DefaultMetricsWindow (7 days).
func WithMetricsWindow(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.metricsWindow = d
		}
	}
}

// WithStatsWindow sets the default window of the checks pages and of
// GET /api/v1/checks. Default DefaultStatsWindow (30 days).
func WithStatsWindow(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.statsWindow = d
		}
	}
}

// WithSecureCookies marks the session cookies Secure; set it when the hub
// is reached over HTTPS (behind a proxy). Default false, except that a
// request that arrived over TLS always gets Secure cookies.
func WithSecureCookies(on bool) Option { return func(o *options) { o.secureCookies = on } }

// WithLogger sets where the server logs refused requests and storage
// errors. Default: nowhere.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithRegistry sets the Prometheus registry served on /metrics; the
// server registers its collectors there. Default: a new registry with
// the Go and process collectors.
func WithRegistry(r *prometheus.Registry) Option { return func(o *options) { o.registry = r } }

// WithClock replaces the clock (windows, waiver expiry, receipt times).
// Default time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}
