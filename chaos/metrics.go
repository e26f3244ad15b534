package chaos

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

type firedKey struct {
	module string
	action Kind
}

var (
	firedMu     sync.Mutex
	firedCounts = map[firedKey]*atomic.Uint64{}
	activeGauge atomic.Int64
)

func countFired(module string, k Kind) {
	key := firedKey{module, k}
	firedMu.Lock()
	c := firedCounts[key]
	if c == nil {
		c = new(atomic.Uint64)
		firedCounts[key] = c
	}
	firedMu.Unlock()
	c.Add(1)
}

// Fired returns how many times failpoints acted on calls of module with
// action kind k since the program started.
func Fired(module string, k Kind) uint64 {
	firedMu.Lock()
	c := firedCounts[firedKey{module, k}]
	firedMu.Unlock()
	if c == nil {
		return 0
	}
	return c.Load()
}

var (
	firedDesc = prometheus.NewDesc("cgoguard_failpoints_fired_total",
		"Guarded calls a failpoint acted on, by module and action.", []string{"module", "action"}, nil)
	activeDesc = prometheus.NewDesc("cgoguard_failpoints_active",
		"Failpoints set now.", nil, nil)
	waitingDesc = prometheus.NewDesc("cgoguard_failpoints_waiting_calls",
		"Guarded calls blocked in C by delay or hang failpoints now.", nil, nil)
)

type collector struct{}

// Collector returns a prometheus.Collector of the failpoint metrics:
//
//	cgoguard_failpoints_fired_total{module,action}  counter (segv, bus, fpe, abort, delay, hang, errno, error)
//	cgoguard_failpoints_active                      gauge
//	cgoguard_failpoints_waiting_calls               gauge (calls blocked by delay or hang)
//
// Register it once per registry.
func Collector() prometheus.Collector { return collector{} }

func (collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- firedDesc
	ch <- activeDesc
	ch <- waitingDesc
}

func (collector) Collect(ch chan<- prometheus.Metric) {
	firedMu.Lock()
	type row struct {
		k firedKey
		n uint64
	}
	rows := make([]row, 0, len(firedCounts))
	for k, c := range firedCounts {
		rows = append(rows, row{k, c.Load()})
	}
	firedMu.Unlock()
	for _, r := range rows {
		ch <- prometheus.MustNewConstMetric(firedDesc, prometheus.CounterValue, float64(r.n), r.k.module, string(r.k.action))
	}
	ch <- prometheus.MustNewConstMetric(activeDesc, prometheus.GaugeValue, float64(activeGauge.Load()))
	ch <- prometheus.MustNewConstMetric(waitingDesc, prometheus.GaugeValue, float64(Waiting()))
}
