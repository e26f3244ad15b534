package observe

// The metrics and readiness of isolated modules: the worker processes of
// package isolate's pools.

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/isolate"
)

var (
	descRestarts = prometheus.NewDesc("cgoguard_worker_restarts_total",
		"Worker processes of isolated modules replaced, by module and by how the previous one ended (crash, timeout, exit, start_failed).",
		[]string{"module", "reason"}, nil)
	descWorkers = prometheus.NewDesc("cgoguard_workers",
		"Worker processes of isolated modules by state (idle, busy, starting, failing, spare).",
		[]string{"module", "state"}, nil)
)

func describeIsolate(ch chan<- *prometheus.Desc) {
	ch <- descRestarts
	ch <- descWorkers
}

func collectIsolate(ch chan<- prometheus.Metric) {
	for _, p := range isolate.Pools() {
		st := p.Stats()
		for _, r := range isolate.Reasons {
			ch <- prometheus.MustNewConstMetric(descRestarts, prometheus.CounterValue, float64(st.Restarts[r]), st.Module, r)
		}
		for _, s := range []struct {
			state string
			n     int
		}{{"idle", st.Idle}, {"busy", st.Busy}, {"starting", st.Starting}, {"failing", st.Failing}, {"spare", st.Spares}} {
			ch <- prometheus.MustNewConstMetric(descWorkers, prometheus.GaugeValue, float64(s.n), st.Module, s.state)
		}
	}
}

// poolsNotReady lists the isolated modules none of whose workers can start.
func poolsNotReady() []NotReady {
	var out []NotReady
	for _, p := range isolate.Pools() {
		if err := p.Ready(); err != nil && !errors.Is(err, cgoguard.ErrClosed) {
			out = append(out, NotReady{Module: p.Module().Name(), State: "no_worker", Reason: err.Error()})
		}
	}
	return out
}
