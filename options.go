package cgoguard

import (
	"fmt"
	"time"
)

// Option configures a Module in New.
type Option func(*options) error

// CrashPolicy says what a module does after a caught crash.
type CrashPolicy int

const (
	// Quarantine (the default) fails every later call with ErrQuarantined
	// until Reset: after a crash the C side's locks, heap and globals may be
	// corrupt.
	Quarantine CrashPolicy = iota
	// Restart declares the C side restartable: after a crash the module
	// runs its reset function (WithReset), if any, and keeps serving. The
	// crash still counts as a failure for the circuit breaker.
	Restart
)

func (p CrashPolicy) String() string {
	switch p {
	case Quarantine:
		return "quarantine"
	case Restart:
		return "restart"
	}
	return fmt.Sprintf("CrashPolicy(%d)", int(p))
}

// Metrics selects what the call path records for a module.
type Metrics int

const (
	// MetricsCounters (the default) counts calls by outcome; it costs a few
	// nanoseconds per call (per-thread counters in C, no atomics).
	MetricsCounters Metrics = iota
	// MetricsOff records nothing beyond what Close needs.
	MetricsOff
	// MetricsHistogram counts calls and also times them into a duration
	// histogram with the cheapest correct clock (the TSC where the kernel
	// uses it as its clocksource). By default every call is timed, so the
	// histogram's count equals the calls. A duration takes two clock
	// reads, which cost more than the rest of the guard together (about
	// 8 ns each on a virtual machine measured here); WithHistogramSampling
	// times a random sample instead, for a few nanoseconds per call.
	MetricsHistogram
)

// BreakerConfig configures the circuit breaker. The breaker opens when
// ConsecutiveFailures failures happen in a row, or when, within Window,
// at least MinRequests calls were made and the share of failures reached
// FailureRatio. After CoolDown it lets HalfOpenProbes calls through; if
// they all succeed it closes, and any failure opens it again. Failures are
// crashes, timeouts and C errors, unless IsFailure says otherwise.
type BreakerConfig struct {
	// ConsecutiveFailures trips the breaker after that many failures in a
	// row; 0 disables this trigger. Default (when the config is all zero): 5.
	ConsecutiveFailures int
	// FailureRatio in (0,1] trips the breaker when the failures' share of
	// the calls in Window reaches it; 0 disables this trigger.
	FailureRatio float64
	// MinRequests is the least number of calls in Window before
	// FailureRatio applies. Default 20.
	MinRequests int
	// Window is the period over which FailureRatio is counted. Default 10s.
	Window time.Duration
	// CoolDown is how long the breaker stays open. Default 5s.
	CoolDown time.Duration
	// HalfOpenProbes is how many calls may run while half-open, and how many
	// must succeed to close. Default 1.
	HalfOpenProbes int
	// IsFailure decides which errors count; nil counts every error.
	IsFailure func(error) bool
}

type options struct {
	timeout      time.Duration
	maxConc      int
	maxAbandoned int
	breaker      *BreakerConfig
	crashPolicy  CrashPolicy
	crashDir     string
	maxReports   int // crash reports kept per module in crashDir
	reset        func() error
	closer       func() error
	metrics      Metrics
	sampleShift  uint // MetricsHistogram times one call in 1<<sampleShift
	observer     Observer
	onCrash      func(*CrashError)
	isolator     Isolator // WithIsolation (isolation.go)
}

// Defaults, set in one place.
const (
	// DefaultMaxAbandoned is the default cap of timed-out calls a module lets
	// keep their threads.
	DefaultMaxAbandoned = 64
	// DefaultMaxCrashReports is how many crash reports a module keeps in its
	// crash directory by default (WithMaxCrashReports).
	DefaultMaxCrashReports = 100
	// DefaultHistogramSampling is how many calls MetricsHistogram times one
	// of, on average, unless WithHistogramSampling says otherwise: every
	// call, so the histogram's count equals the calls.
	DefaultHistogramSampling = 1
	// MaxHistogramSampling is the largest value WithHistogramSampling
	// accepts.
	MaxHistogramSampling = 1 << 15
)

func defaultOptions() options {
	return options{
		maxAbandoned: DefaultMaxAbandoned,
		maxReports:   DefaultMaxCrashReports,
		crashPolicy:  Quarantine,
		metrics:      MetricsCounters,
		sampleShift:  0, // DefaultHistogramSampling
	}
}

// WithTimeout bounds every call of the module to d (a context deadline that
// comes sooner wins). A timed-out call returns ErrTimeout at once while the
// C function keeps running on its thread until it returns; see
// WithMaxAbandoned. Default: no timeout (calls run on the caller's goroutine
// with no extra cost).
func WithTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("cgoguard: WithTimeout: negative duration %v", d)
		}
		o.timeout = d
		return nil
	}
}

// WithMaxConcurrent is the bulkhead: at most n calls of the module run in C
// at once (counting timed-out calls that still hold their thread); further
// calls fail with ErrBusy at once. Default 0: unbounded.
func WithMaxConcurrent(n int) Option {
	return func(o *options) error {
		if n < 0 {
			return fmt.Errorf("cgoguard: WithMaxConcurrent: negative limit %d", n)
		}
		o.maxConc = n
		return nil
	}
}

// WithMaxAbandoned caps the calls that timed out but still run in C (each
// holds an OS thread). While the cap is reached, new calls fail with
// ErrBusy. Default DefaultMaxAbandoned (64); it must be at least 1.
func WithMaxAbandoned(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("cgoguard: WithMaxAbandoned: limit %d, want at least 1", n)
		}
		o.maxAbandoned = n
		return nil
	}
}

// WithBreaker enables the circuit breaker with cfg; zero fields take the
// defaults documented on BreakerConfig. Default: no breaker.
func WithBreaker(cfg BreakerConfig) Option {
	return func(o *options) error {
		if cfg.ConsecutiveFailures < 0 || cfg.MinRequests < 0 || cfg.HalfOpenProbes < 0 || cfg.Window < 0 || cfg.CoolDown < 0 {
			return fmt.Errorf("cgoguard: WithBreaker: negative value in %+v", cfg)
		}
		if cfg.FailureRatio < 0 || cfg.FailureRatio > 1 {
			return fmt.Errorf("cgoguard: WithBreaker: FailureRatio %v outside [0,1]", cfg.FailureRatio)
		}
		if cfg.ConsecutiveFailures == 0 && cfg.FailureRatio == 0 {
			cfg.ConsecutiveFailures = 5
		}
		if cfg.MinRequests == 0 {
			cfg.MinRequests = 20
		}
		if cfg.Window == 0 {
			cfg.Window = 10 * time.Second
		}
		if cfg.CoolDown == 0 {
			cfg.CoolDown = 5 * time.Second
		}
		if cfg.HalfOpenProbes == 0 {
			cfg.HalfOpenProbes = 1
		}
		o.breaker = &cfg
		return nil
	}
}

// WithCrashPolicy sets what happens after a crash. Default Quarantine.
func WithCrashPolicy(p CrashPolicy) Option {
	return func(o *options) error {
		if p != Quarantine && p != Restart {
			return fmt.Errorf("cgoguard: WithCrashPolicy: unknown policy %d", int(p))
		}
		o.crashPolicy = p
		return nil
	}
}

// WithCrashDir makes the module write a JSON crash report
// (<dir>/<module>-<unix nanos>.json) for every caught crash. The directory
// is created if missing. The module keeps its newest reports there, up to
// WithMaxCrashReports (default DefaultMaxCrashReports, 100), and removes
// its older ones; other files are left alone. A report that cannot be
// written is counted in Stats.CrashReportErrors (with the last error in
// Stats.LastCrashReportError) and logged once per module. Default: no
// reports written.
func WithCrashDir(dir string) Option {
	return func(o *options) error {
		if dir == "" {
			return fmt.Errorf("cgoguard: WithCrashDir: empty directory")
		}
		o.crashDir = dir
		return nil
	}
}

// WithMaxCrashReports sets how many crash reports the module keeps in its
// crash directory (WithCrashDir): after writing a report it removes its
// oldest ones beyond n. n must be at least 1. Default
// DefaultMaxCrashReports (100).
func WithMaxCrashReports(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("cgoguard: WithMaxCrashReports: limit %d, want at least 1", n)
		}
		o.maxReports = n
		return nil
	}
}

// WithReset sets the function that re-initialises the module's C side. Reset
// calls it before leaving quarantine, and the Restart policy calls it after
// each crash. A failing reset keeps the module quarantined. Default: none.
func WithReset(fn func() error) Option {
	return func(o *options) error {
		o.reset = fn
		return nil
	}
}

// WithCloser sets the function that releases the module's C side (its
// global state, its library handle). Close runs it once, after the calls in
// flight have returned; Shutdown runs the closers in the reverse order of
// the modules' creation. Default: none.
func WithCloser(fn func() error) Option {
	return func(o *options) error {
		o.closer = fn
		return nil
	}
}

// WithMetrics selects what the call path records. Default MetricsCounters.
func WithMetrics(m Metrics) Option {
	return func(o *options) error {
		if m < MetricsCounters || m > MetricsHistogram {
			return fmt.Errorf("cgoguard: WithMetrics: unknown level %d", int(m))
		}
		o.metrics = m
		return nil
	}
}

// WithHistogramSampling sets how many calls MetricsHistogram times one of,
// on average: n is 1 (time every call) or a power of two up to
// MaxHistogramSampling. Each thread times the call that ends a random
// interval of 1 to 2n-1 calls, so calls that alternate in a fixed pattern
// are still sampled fairly. The histogram's count is then the number of
// timed calls, and its buckets and sum describe them; the counts of calls
// by outcome stay exact. Default: DefaultHistogramSampling (1, every call).
func WithHistogramSampling(n int) Option {
	return func(o *options) error {
		if n < 1 || n > MaxHistogramSampling || n&(n-1) != 0 {
			return fmt.Errorf("cgoguard: WithHistogramSampling: %d: must be 1 or a power of two up to %d", n, MaxHistogramSampling)
		}
		o.sampleShift = 0
		for 1<<o.sampleShift < n {
			o.sampleShift++
		}
		return nil
	}
}

// WithObserver attaches an Observer (for example a tracer from package
// observe) that sees every call. Default: none, which costs nothing.
func WithObserver(obs Observer) Option {
	return func(o *options) error {
		o.observer = obs
		return nil
	}
}

// WithCrashHandler registers fn to run (synchronously, on the caller's
// goroutine) after every caught crash, once the CrashError is built.
func WithCrashHandler(fn func(*CrashError)) Option {
	return func(o *options) error {
		o.onCrash = fn
		return nil
	}
}
