package store

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/hub"
)

// The statistics are computed in Go from one scan of the matching check
// results, so that both backends give the same numbers (SQLite has no
// percentile function) and the p95 is the nearest-rank one.

const qCheckSamples = `SELECT c.checklist, c.check_id, c.title, c.outcome, c.attempts, c.duration_s, c.started_ns, c.run_id
FROM check_results c JOIN runs r ON r.id = c.run_id
WHERE ($1 = '' OR c.checklist = $1)
	AND ($2 = '' OR c.check_id = $2)
	AND ($3 = '' OR r.repo = $3)
	AND ($4 = '' OR r.branch = $4)
	AND c.started_ns >= CAST($5 AS BIGINT)
	AND (CAST($6 AS BIGINT) = 0 OR c.started_ns < CAST($6 AS BIGINT))
ORDER BY c.checklist, c.check_id, c.started_ns`

type sample struct {
	checklist, check, title string
	outcome                 checklist.Outcome
	attempts                int
	seconds                 float64
	started                 int64
	runID                   string
}

func (s *sqlStore) samples(ctx context.Context, cl, check, repo, branch string, since, until int64, each func(*sample)) error {
	rows, err := s.r.QueryContext(ctx, qCheckSamples, cl, check, repo, branch, since, until)
	if err != nil {
		return fmt.Errorf("cgoguard: read check results: %w", err)
	}
	defer rows.Close()
	var sm sample
	for rows.Next() {
		var outcome string
		if err := rows.Scan(&sm.checklist, &sm.check, &sm.title, &outcome, &sm.attempts, &sm.seconds, &sm.started, &sm.runID); err != nil {
			return fmt.Errorf("cgoguard: read check results: %w", err)
		}
		sm.outcome = checklist.Outcome(outcome)
		each(&sm)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cgoguard: read check results: %w", err)
	}
	return nil
}

// acc accumulates the statistics of one check or one bucket.
type acc struct {
	runs, failures, skips, waived, flaky int
	durations                            []float64
	lastFailure                          int64
	lastFailureRun                       string
	lastRun                              int64
}

func (a *acc) add(sm *sample) {
	a.runs++
	switch {
	case sm.outcome.Failed():
		a.failures++
		if sm.started >= a.lastFailure {
			a.lastFailure, a.lastFailureRun = sm.started, sm.runID
		}
	case sm.outcome == checklist.Skip:
		a.skips++
	case sm.outcome == checklist.Waived:
		a.waived++
	case sm.outcome == checklist.Pass && sm.attempts > 1:
		a.flaky++
	}
	if sm.outcome != checklist.Skip {
		a.durations = append(a.durations, sm.seconds)
	}
	if sm.started > a.lastRun {
		a.lastRun = sm.started
	}
}

func (a *acc) rates() (fail, skip float64) {
	if a.runs == 0 {
		return 0, 0
	}
	return float64(a.failures) / float64(a.runs), float64(a.skips) / float64(a.runs)
}

// durationStats returns the mean and the nearest-rank 95th percentile.
func (a *acc) durationStats() (mean, p95 float64, ok bool) {
	n := len(a.durations)
	if n == 0 {
		return 0, 0, false
	}
	sum := 0.0
	for _, d := range a.durations {
		sum += d
	}
	sort.Float64s(a.durations)
	rank := int(math.Ceil(0.95*float64(n))) - 1
	return sum / float64(n), a.durations[rank], true
}

func (s *sqlStore) CheckStats(ctx context.Context, f StatsFilter) ([]hub.CheckStats, error) {
	var out []hub.CheckStats
	var cur *hub.CheckStats
	var a acc
	flush := func() {
		if cur == nil {
			return
		}
		cur.Runs, cur.Failures, cur.Skips, cur.Waived, cur.Flaky = a.runs, a.failures, a.skips, a.waived, a.flaky
		cur.FailureRate, cur.SkipRate = a.rates()
		cur.MeanSeconds, cur.P95Seconds, _ = a.durationStats()
		if a.lastFailureRun != "" {
			t := fromNS(a.lastFailure)
			cur.LastFailure, cur.LastFailureRun = &t, a.lastFailureRun
		}
		cur.LastRun = fromNS(a.lastRun)
		out = append(out, *cur)
	}
	err := s.samples(ctx, f.Checklist, "", f.Repo, f.Branch, sinceNS(f.Since), 0, func(sm *sample) {
		if cur == nil || cur.Checklist != sm.checklist || cur.Check != sm.check {
			flush()
			cur, a = &hub.CheckStats{Checklist: sm.checklist, Check: sm.check}, acc{}
		}
		cur.Title = sm.title // rows come oldest first: the newest title wins
		a.add(sm)
	})
	if err != nil {
		return nil, err
	}
	flush()
	if out == nil {
		out = []hub.CheckStats{}
	}
	return out, nil
}

func (s *sqlStore) Trend(ctx context.Context, f TrendFilter) (*hub.Trend, error) {
	until := f.Until
	if until.IsZero() {
		until = time.Now()
	}
	inv := &hub.InvalidError{What: "query"}
	if f.Checklist == "" || f.Check == "" {
		inv.Problems = append(inv.Problems, "a trend needs a checklist and a check")
	}
	if f.Bucket <= 0 {
		inv.Problems = append(inv.Problems, "bucket must be positive")
	}
	if !f.Since.Before(until) {
		inv.Problems = append(inv.Problems, "the window must end after it starts")
	}
	if len(inv.Problems) > 0 {
		return nil, inv
	}
	span := until.Sub(f.Since)
	n := int((span + f.Bucket - 1) / f.Bucket)
	if n > MaxBuckets {
		return nil, &hub.InvalidError{What: "query", Problems: []string{fmt.Sprintf("window %s in buckets of %s makes %d buckets; at most %d", span, f.Bucket, n, MaxBuckets)}}
	}
	accs := make([]acc, n)
	since := f.Since.UnixNano()
	err := s.samples(ctx, f.Checklist, f.Check, f.Repo, f.Branch, since, until.UnixNano(), func(sm *sample) {
		i := int((sm.started - since) / int64(f.Bucket))
		if i >= 0 && i < n {
			accs[i].add(sm)
		}
	})
	if err != nil {
		return nil, err
	}
	t := &hub.Trend{Checklist: f.Checklist, Check: f.Check, Since: f.Since.UTC(), BucketSeconds: f.Bucket.Seconds(),
		Buckets: make([]hub.TrendBucket, n)}
	for i := range accs {
		a := &accs[i]
		b := hub.TrendBucket{Start: f.Since.Add(time.Duration(i) * f.Bucket).UTC(), Runs: a.runs,
			Failures: a.failures, Skips: a.skips, Flaky: a.flaky}
		if a.runs > 0 {
			fr, sr := a.rates()
			b.FailureRate, b.SkipRate = &fr, &sr
		}
		if mean, p95, ok := a.durationStats(); ok {
			b.MeanSeconds, b.P95Seconds = &mean, &p95
		}
		t.Buckets[i] = b
	}
	return t, nil
}

const qCheckRuns = `SELECT c.run_id, c.started_ns, r.repo, r.branch, r.commit_sha, c.outcome, c.attempts, c.duration_s, c.message
FROM check_results c JOIN runs r ON r.id = c.run_id
WHERE c.checklist = $1 AND c.check_id = $2
ORDER BY c.started_ns DESC, c.run_id DESC
LIMIT $3`

func (s *sqlStore) CheckRuns(ctx context.Context, cl, check string, limit int) ([]hub.CheckRun, error) {
	if limit <= 0 || limit > MaxLimit {
		limit = DefaultLimit
	}
	rows, err := s.r.QueryContext(ctx, qCheckRuns, cl, check, limit)
	if err != nil {
		return nil, fmt.Errorf("cgoguard: read check results: %w", err)
	}
	defer rows.Close()
	out := []hub.CheckRun{}
	for rows.Next() {
		var c hub.CheckRun
		var started int64
		if err := rows.Scan(&c.RunID, &started, &c.Repo, &c.Branch, &c.Commit, &c.Outcome, &c.Attempts, &c.DurationSeconds, &c.Message); err != nil {
			return nil, fmt.Errorf("cgoguard: read check results: %w", err)
		}
		c.Started = fromNS(started)
		out = append(out, c)
	}
	return out, rows.Err()
}

const qWaivers = `SELECT checklist, check_id, title, waiver_reason, waiver_expires, outcome, run_id, started_ns
FROM check_results
WHERE has_waiver = 1 AND started_ns >= CAST($1 AS BIGINT)
ORDER BY started_ns DESC, run_id DESC`

func (s *sqlStore) Waivers(ctx context.Context, since, now time.Time) ([]hub.WaiverInfo, error) {
	rows, err := s.r.QueryContext(ctx, qWaivers, sinceNS(since))
	if err != nil {
		return nil, fmt.Errorf("cgoguard: read waivers: %w", err)
	}
	defer rows.Close()
	seen := map[[2]string]bool{}
	out := []hub.WaiverInfo{}
	today := time.Date(now.UTC().Year(), now.UTC().Month(), now.UTC().Day(), 0, 0, 0, 0, time.UTC)
	for rows.Next() {
		var w hub.WaiverInfo
		var started int64
		if err := rows.Scan(&w.Checklist, &w.Check, &w.Title, &w.Reason, &w.Expires, &w.Outcome, &w.RunID, &started); err != nil {
			return nil, fmt.Errorf("cgoguard: read waivers: %w", err)
		}
		key := [2]string{w.Checklist, w.Check}
		if seen[key] {
			continue // rows come newest first: keep the newest waiver per check
		}
		seen[key] = true
		w.LastSeen = fromNS(started)
		if exp, err := time.Parse(time.DateOnly, w.Expires); err == nil {
			wv := checklist.Waiver{Expires: checklist.Date{Time: exp}}
			w.Expired = wv.Expired(now)
			w.DaysLeft = int(exp.Sub(today).Hours() / 24)
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cgoguard: read waivers: %w", err)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Expires < out[j].Expires })
	return out, nil
}
