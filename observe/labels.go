package observe

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// label makes a name safe as a Prometheus label value: valid UTF-8, each
// invalid byte replaced by U+FFFD. Module names are checked by
// cgoguard.New, but bridges and other sources may be named anything, and
// one invalid label value would fail every scrape.
func label(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// send sends a constant metric with safe label values; a metric that still
// cannot be built is left out rather than failing the whole scrape.
func send(ch chan<- prometheus.Metric, desc *prometheus.Desc, typ prometheus.ValueType, v float64, labels ...string) {
	for i, l := range labels {
		labels[i] = label(l)
	}
	if m, err := prometheus.NewConstMetric(desc, typ, v, labels...); err == nil {
		ch <- m
	}
}
