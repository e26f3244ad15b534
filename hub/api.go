package hub

import "time"

// Receipt is the body of a successful POST /api/v1/runs.
type Receipt struct {
	ID string `json:"id"`
	// Status is "created" (HTTP 201), or "duplicate" (HTTP 200) when the
	// same run was already stored: a retried upload.
	Status string `json:"status"`
	// URL is the run's page, relative to the hub.
	URL string `json:"url"`
}

// RunPage is one page of the runs list, newest first.
type RunPage struct {
	Runs []RunSummary `json:"runs"`
	// Next is the cursor of the following (older) page; empty on the last.
	Next string `json:"next_cursor,omitempty"`
}

// CheckStats summarises one check over the runs of a window.
type CheckStats struct {
	Checklist string `json:"checklist"`
	Check     string `json:"check"`
	Title     string `json:"title,omitempty"`
	// Runs counts the runs that reported the check.
	Runs int `json:"runs"`
	// Failures counts fail, timeout and error outcomes.
	Failures int `json:"failures"`
	Skips    int `json:"skips"`
	Waived   int `json:"waived"`
	// Flaky counts passes that needed more than one attempt.
	Flaky       int     `json:"flaky"`
	FailureRate float64 `json:"failure_rate"`
	SkipRate    float64 `json:"skip_rate"`
	// MeanSeconds and P95Seconds are over the runs that did not skip.
	MeanSeconds float64 `json:"mean_seconds"`
	P95Seconds  float64 `json:"p95_seconds"`
	// LastFailure is the start of the newest run where the check failed.
	LastFailure    *time.Time `json:"last_failure,omitempty"`
	LastFailureRun string     `json:"last_failure_run,omitempty"`
	LastRun        time.Time  `json:"last_run"`
}

// TrendBucket is one time bucket of a check's trend. Rates and durations
// are nil in a bucket without runs.
type TrendBucket struct {
	Start       time.Time `json:"start"`
	Runs        int       `json:"runs"`
	Failures    int       `json:"failures"`
	Skips       int       `json:"skips"`
	Flaky       int       `json:"flaky"`
	FailureRate *float64  `json:"failure_rate"`
	SkipRate    *float64  `json:"skip_rate"`
	MeanSeconds *float64  `json:"mean_seconds"`
	P95Seconds  *float64  `json:"p95_seconds"`
}

// Trend is a check's history bucketed in time.
type Trend struct {
	Checklist     string        `json:"checklist"`
	Check         string        `json:"check"`
	Since         time.Time     `json:"since"`
	BucketSeconds float64       `json:"bucket_seconds"`
	Buckets       []TrendBucket `json:"buckets"`
}

// CheckRun is one result of a check in a run, as listed on its page.
type CheckRun struct {
	RunID           string    `json:"run_id"`
	Started         time.Time `json:"started"`
	Repo            string    `json:"repo,omitempty"`
	Branch          string    `json:"branch,omitempty"`
	Commit          string    `json:"commit,omitempty"`
	Outcome         string    `json:"outcome"`
	Attempts        int       `json:"attempts"`
	DurationSeconds float64   `json:"duration_seconds"`
	Message         string    `json:"message,omitempty"`
}

// WaiverInfo is the newest waiver seen for a check.
type WaiverInfo struct {
	Checklist string `json:"checklist"`
	Check     string `json:"check"`
	Title     string `json:"title,omitempty"`
	Reason    string `json:"reason"`
	// Expires is the waiver's last day, YYYY-MM-DD.
	Expires string `json:"expires"`
	// Expired is true once the day has passed.
	Expired bool `json:"expired"`
	// DaysLeft counts whole days until the waiver expires (negative once expired).
	DaysLeft int `json:"days_left"`
	// Outcome is the check's outcome in that run (waived, or fail once expired).
	Outcome  string    `json:"outcome"`
	RunID    string    `json:"run_id"`
	LastSeen time.Time `json:"last_seen"`
}

// Token describes an API token; the secret itself is never stored.
type Token struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Role    Role      `json:"role"`
	Created time.Time `json:"created"`
	// Revoked is the zero time for an active token.
	Revoked time.Time `json:"revoked,omitzero"`
}

// Active reports whether the token has not been revoked.
func (t Token) Active() bool { return t.Revoked.IsZero() }
