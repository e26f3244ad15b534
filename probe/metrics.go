package probe

import (
	"github.com/prometheus/client_golang/prometheus"
)

// The metrics of Collector. The module label takes the values of
// cgoguard_calls_total's (observe), so the probe's view of the C side joins
// the process's own.
var (
	descCalls = prometheus.NewDesc("cgoguard_probe_calls_total",
		"Calls of a probed C function, seen by uprobes.", []string{"module", "function"}, nil)
	descDuration = prometheus.NewDesc("cgoguard_probe_duration_seconds",
		"Duration of calls of a probed C function, from its uprobe to its uretprobe.", []string{"module", "function"}, nil)
	descErrors = prometheus.NewDesc("cgoguard_probe_errors_total",
		"Calls of a probed C function that returned a negative int.", []string{"module", "function"}, nil)
	descThreads = prometheus.NewDesc("cgoguard_probe_threads",
		"Threads a probed C function ran on.", []string{"module", "function"}, nil)
	descDropped = prometheus.NewDesc("cgoguard_probe_dropped_events_total",
		"Trace events lost because the ring buffer was full.", nil, nil)
	descFunctions = prometheus.NewDesc("cgoguard_probe_functions",
		"C functions probed.", nil, nil)
)

// Histogram bounds of cgoguard_probe_duration_seconds: powers of two
// nanoseconds from 1µs (2^10 ns) to 34s (2^35 ns), the BPF map's buckets.
const (
	promFirstBucket = 10
	promLastBucket  = 35
)

// Snapshotter is what Collector reads: a *Probe.
type Snapshotter interface {
	Snapshot() (*Snapshot, error)
}

// Collector returns a prometheus.Collector that reads s's counts at each
// scrape. Rows of one module and function in several objects are summed.
func Collector(s Snapshotter) prometheus.Collector { return &collector{s: s} }

type collector struct{ s Snapshotter }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCalls, descDuration, descErrors, descThreads, descDropped, descFunctions} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	snap, err := c.s.Snapshot()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descCalls, err)
		return
	}
	rows := map[[2]string]*FunctionStats{}
	var order [][2]string
	for i := range snap.Functions {
		f := snap.Functions[i]
		k := [2]string{f.Module, f.Function}
		if r := rows[k]; r != nil {
			r.add(&f)
			continue
		}
		rows[k] = &f
		order = append(order, k)
	}
	for _, k := range order {
		f := rows[k]
		ch <- prometheus.MustNewConstMetric(descCalls, prometheus.CounterValue, float64(f.Calls), k[0], k[1])
		ch <- prometheus.MustNewConstMetric(descErrors, prometheus.CounterValue, float64(f.Errors), k[0], k[1])
		ch <- prometheus.MustNewConstMetric(descThreads, prometheus.GaugeValue, float64(len(f.Threads)), k[0], k[1])
		buckets := make(map[float64]uint64, promLastBucket-promFirstBucket+1)
		var cum uint64
		for i := 0; i <= promLastBucket; i++ {
			cum += f.Buckets[i]
			if i >= promFirstBucket {
				buckets[BucketBound(i).Seconds()] = cum
			}
		}
		ch <- prometheus.MustNewConstHistogram(descDuration, f.HistogramTotal(), f.Total.Seconds(), buckets, k[0], k[1])
	}
	ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(snap.Dropped))
	ch <- prometheus.MustNewConstMetric(descFunctions, prometheus.GaugeValue, float64(len(order)))
}
