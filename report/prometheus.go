package report

import (
	"io"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/cgoguard/cgoguard/checklist"
)

// DurationBuckets are the upper bounds, in seconds, of the check duration
// histogram of the prometheus format.
var DurationBuckets = []float64{0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}

// writePrometheus writes the run as metrics in the text exposition format,
// for node_exporter's textfile collector. Metrics go through a registry of
// their own, never the global one.
func writePrometheus(w io.Writer, r *checklist.Result) error {
	reg := prometheus.NewPedanticRegistry()
	cl := prometheus.Labels{"checklist": r.Checklist}
	checks := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "cgoguard_checklist_checks", Help: "Checks of the last run by outcome.", ConstLabels: cl,
	}, []string{"outcome"})
	outcome := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "cgoguard_checklist_check_outcome", Help: "1 for the outcome of each check in the last run.", ConstLabels: cl,
	}, []string{"id", "severity", "outcome"})
	hist := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "cgoguard_checklist_check_duration_seconds", Help: "Duration of the checks of the last run, retries included.",
		ConstLabels: cl, Buckets: DurationBuckets,
	})
	skip := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "cgoguard_checklist_skip_ratio", Help: "Share of checks skipped in the last run.", ConstLabels: cl,
	})
	fail := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "cgoguard_checklist_failure_ratio", Help: "Share of checks that failed, timed out or errored in the last run.", ConstLabels: cl,
	})
	passed := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "cgoguard_checklist_passed", Help: "1 if the last run passed, else 0.", ConstLabels: cl,
	})
	started := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "cgoguard_checklist_last_run_timestamp_seconds", Help: "Start of the last run, Unix time.", ConstLabels: cl,
	})
	runDur := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "cgoguard_checklist_run_duration_seconds", Help: "Wall time of the last run.", ConstLabels: cl,
	})
	reg.MustRegister(checks, outcome, hist, skip, fail, passed, started, runDur)

	counts := r.Counts()
	for _, o := range checklist.Outcomes {
		checks.WithLabelValues(string(o)).Set(float64(counts[o]))
	}
	failed := 0
	for _, c := range r.Checks {
		outcome.WithLabelValues(c.ID, string(c.Severity), string(c.Outcome)).Set(1)
		if c.Outcome != checklist.Skip {
			hist.Observe(c.Duration.Seconds())
		}
		if c.Outcome.Failed() {
			failed++
		}
	}
	if n := len(r.Checks); n > 0 {
		skip.Set(float64(counts[checklist.Skip]) / float64(n))
		fail.Set(float64(failed) / float64(n))
	}
	if r.Passed() {
		passed.Set(1)
	}
	started.Set(float64(r.Started.UnixNano()) / 1e9)
	runDur.Set(r.Duration.Seconds())

	mfs, err := reg.Gather()
	if err != nil {
		return err
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return err
		}
	}
	return nil
}
