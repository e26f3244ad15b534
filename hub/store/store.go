package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cgoguard/cgoguard/hub"
)

// ErrSchemaTooNew is returned by Open when the database was migrated by a
// newer cgoguard than this one: the hub refuses to touch it.
var ErrSchemaTooNew = errors.New("cgoguard: database schema is newer than this hub")

// ErrBadDSN is returned by Open for a DSN it cannot use.
var ErrBadDSN = errors.New("cgoguard: bad database DSN")

// Store keeps runs, their checks and the hub's tokens. The SQLite and the
// PostgreSQL backends implement it with the same SQL and the same
// migrations, so they behave the same.
type Store interface {
	// PutRun stores a run and its checks in one transaction. It returns
	// created=false without error when a run with the same id and digest
	// is already stored (a retried upload), and an error matching
	// hub.ErrConflict when the id is stored with another digest.
	PutRun(ctx context.Context, r *hub.Run) (created bool, err error)
	// PutRuns stores many runs in one transaction, with PutRun's rules,
	// and returns how many were new. A conflict stores none of them.
	PutRuns(ctx context.Context, runs []*hub.Run) (created int, err error)
	// Run returns a stored run with all its checks, or hub.ErrNotFound.
	Run(ctx context.Context, id string) (*hub.Run, error)
	// Runs returns one page of runs matching f, newest first.
	Runs(ctx context.Context, f RunFilter) (*hub.RunPage, error)
	// Checklists lists the names of the checklists that have runs.
	Checklists(ctx context.Context) ([]string, error)
	// CheckStats summarises every check matching f.
	CheckStats(ctx context.Context, f StatsFilter) ([]hub.CheckStats, error)
	// Trend buckets one check's results in time.
	Trend(ctx context.Context, f TrendFilter) (*hub.Trend, error)
	// CheckRuns lists the newest results of one check, at most limit.
	CheckRuns(ctx context.Context, checklist, check string, limit int) ([]hub.CheckRun, error)
	// RunOutcomes counts the runs started since a time per run outcome.
	RunOutcomes(ctx context.Context, since time.Time) (map[string]int, error)
	// Waivers returns the newest waiver of each check seen since a time,
	// soonest expiry first.
	Waivers(ctx context.Context, since, now time.Time) ([]hub.WaiverInfo, error)

	// CreateToken creates a token and returns its secret, which is shown
	// once and stored only as a hash. Names of active tokens are unique.
	CreateToken(ctx context.Context, name string, role hub.Role) (secret string, t hub.Token, err error)
	// RevokeToken revokes the active token called name, or returns
	// hub.ErrNotFound.
	RevokeToken(ctx context.Context, name string) error
	// Tokens lists every token, active and revoked.
	Tokens(ctx context.Context) ([]hub.Token, error)
	// VerifyToken returns the active token whose secret is given, comparing
	// in constant time, or an error matching hub.ErrUnauthorized.
	VerifyToken(ctx context.Context, secret string) (hub.Token, error)
	// TokenByID returns an active token by its id, or hub.ErrUnauthorized.
	TokenByID(ctx context.Context, id string) (hub.Token, error)

	// Key returns the named random key shared by every hub instance on
	// this database (created on first use), e.g. for signing cookies.
	Key(ctx context.Context, name string) ([]byte, error)
	// SchemaVersion returns the applied schema version.
	SchemaVersion(ctx context.Context) (int, error)
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Backend returns "sqlite" or "postgres".
	Backend() string
	// Close releases the database.
	Close() error
}

// RunFilter selects runs; empty fields match everything.
type RunFilter struct {
	Repo      string
	Branch    string
	Outcome   string // pass, fail or interrupted
	Checklist string
	Since     time.Time
	// Limit is the page size: 1 to MaxLimit, 0 means DefaultLimit.
	Limit int
	// Cursor is RunPage.Next of the previous page.
	Cursor string
}

// Page sizes of Runs.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// StatsFilter selects the check results summarised by CheckStats.
type StatsFilter struct {
	Checklist string
	Repo      string
	Branch    string
	Since     time.Time
}

// TrendFilter selects one check and the buckets of its trend.
type TrendFilter struct {
	Checklist string
	Check     string
	Repo      string
	Branch    string
	// Since is the start of the first bucket.
	Since time.Time
	// Until is the end of the last bucket; the zero time means now.
	Until time.Time
	// Bucket is the width of a bucket; at most MaxBuckets fit in the window.
	Bucket time.Duration
}

// MaxBuckets bounds the buckets of one trend.
const MaxBuckets = 1000

// Open opens (creating it if needed) the database named by dsn and applies
// the migrations this binary knows. A DSN starting with postgres:// or
// postgresql:// is PostgreSQL; anything else is a SQLite file path,
// optionally prefixed by "sqlite:".
func Open(ctx context.Context, dsn string, opts ...Option) (Store, error) {
	o := defaults()
	for _, opt := range opts {
		opt(&o)
	}
	var (
		s   *sqlStore
		err error
	)
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		s, err = openPostgres(dsn, o)
	default:
		s, err = openSQLite(strings.TrimPrefix(dsn, "sqlite:"), o)
	}
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx, migrations); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Option configures Open.
type Option func(*options)

type options struct {
	maxConns int
	busy     time.Duration
}

// defaults are the documented defaults of every Option.
func defaults() options {
	return options{
		maxConns: 8,
		busy:     10 * time.Second,
	}
}

// WithMaxConns bounds the open connections for reads (SQLite) or for
// everything (PostgreSQL). Default 8. SQLite always writes through one
// connection.
func WithMaxConns(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.maxConns = n
		}
	}
}

// WithBusyTimeout sets how long a SQLite write waits for another process
// holding the write lock (the `hub token` command beside a running hub).
// Default 10s. Ignored for PostgreSQL.
func WithBusyTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.busy = d
		}
	}
}

func badDSN(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadDSN, fmt.Sprintf(format, args...))
}
