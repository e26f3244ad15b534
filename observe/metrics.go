package observe

import (
	"sort"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cgoguard/cgoguard"
)

// The metric descriptors. The names and labels are part of the API.
var (
	descCalls = prometheus.NewDesc("cgoguard_calls_total",
		"Guarded C calls by module and outcome (ok, error, crash, timeout, rejected).",
		[]string{"module", "outcome"}, nil)
	descDuration = prometheus.NewDesc("cgoguard_call_duration_seconds",
		"Duration of guarded C calls, timed in C (every call, or a random sample with WithHistogramSampling); only for modules created WithMetrics(MetricsHistogram).",
		[]string{"module"}, nil)
	descCrashes = prometheus.NewDesc("cgoguard_crashes_total",
		"Crashes caught in guarded C calls by module and signal (\"SIGSEGV\").",
		[]string{"module", "signal"}, nil)
	descState = prometheus.NewDesc("cgoguard_module_state",
		"Module state: 1 for the current state (closed: the breaker is closed and calls run; open; half_open; quarantined), 0 for the others.",
		[]string{"module", "state"}, nil)
	descAbandoned = prometheus.NewDesc("cgoguard_abandoned_calls",
		"Timed-out calls still running in C, each holding an OS thread.",
		[]string{"module"}, nil)
	descInflight = prometheus.NewDesc("cgoguard_inflight_calls",
		"Calls running in C now, timed-out ones included.",
		[]string{"module"}, nil)
)

// outcomes lists the outcome label values in a fixed order.
var outcomes = []cgoguard.Outcome{
	cgoguard.OutcomeOK, cgoguard.OutcomeError, cgoguard.OutcomeCrash,
	cgoguard.OutcomeTimeout, cgoguard.OutcomeRejected,
}

// states lists the states the state metric reports, and stateLabels their
// label values. The label values are the circuit breaker's names (closed =
// calls run; open; half_open; quarantined), a stable part of the metric's
// contract that dashboards and alerts match on; State.String's names are
// for people reading /readyz and cgoguard status.
var (
	states      = []cgoguard.State{cgoguard.Closed, cgoguard.Open, cgoguard.HalfOpen, cgoguard.Quarantined}
	stateLabels = map[cgoguard.State]string{
		cgoguard.Closed:      "closed",
		cgoguard.Open:        "open",
		cgoguard.HalfOpen:    "half_open",
		cgoguard.Quarantined: "quarantined",
	}
)

// Collector is a prometheus.Collector that reads the counters of every
// open cgoguard module (and of the cmem, arena and bridge packages) when it
// is scraped. Nothing is counted on the call path by the collector itself:
// the call path's per-thread counters are summed at scrape time.
type Collector struct{}

// NewCollector returns a Collector. Register is the usual way to use it.
func NewCollector() *Collector { return &Collector{} }

// Register registers a Collector with reg, exposing every cgoguard_*
// metric. No global registry is touched unless reg is one
// (prometheus.DefaultRegisterer).
func Register(reg prometheus.Registerer) error {
	if reg == nil {
		return ErrNilRegisterer
	}
	return reg.Register(NewCollector())
}

// Describe sends the descriptors of every metric the Collector exports.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCalls, descDuration, descCrashes, descState, descAbandoned, descInflight} {
		ch <- d
	}
	describeMemory(ch)
	describeIsolate(ch)
}

// Collect reads every open module's Stats and sends the metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range cgoguard.Modules() {
		collectModule(ch, m.Stats())
	}
	collectMemory(ch)
	collectIsolate(ch)
}

func collectModule(ch chan<- prometheus.Metric, s cgoguard.Stats) {
	calls := s.Calls()
	for _, o := range outcomes {
		send(ch, descCalls, prometheus.CounterValue, float64(calls[o]), s.Name, string(o))
	}
	if len(s.Durations.Buckets) > 0 {
		b := make(map[float64]uint64, len(s.Durations.Buckets))
		for _, x := range s.Durations.Buckets {
			b[x.UpperBound] = x.Count
		}
		if h, err := prometheus.NewConstHistogram(descDuration, s.Durations.Count, s.Durations.Sum, b, label(s.Name)); err == nil {
			ch <- h
		}
	}
	sigs := make([]string, 0, len(s.CrashesBySignal))
	for sig := range s.CrashesBySignal {
		sigs = append(sigs, sig)
	}
	sort.Strings(sigs)
	for _, sig := range sigs {
		send(ch, descCrashes, prometheus.CounterValue, float64(s.CrashesBySignal[sig]), s.Name, sig)
	}
	for _, st := range states {
		v := 0.0
		if st == s.State {
			v = 1
		}
		send(ch, descState, prometheus.GaugeValue, v, s.Name, stateLabels[st])
	}
	send(ch, descAbandoned, prometheus.GaugeValue, float64(s.Abandoned), s.Name)
	send(ch, descInflight, prometheus.GaugeValue, float64(s.InFlight), s.Name)
}
