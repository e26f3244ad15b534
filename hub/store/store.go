package store

import (
	"context"
	"errors"
	"fmt"
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

	// PutChecklistVersion stores an uploaded checklist as the next
	// version of its name (author: the actor of ctx), pending review, with
	// the diff from the previous version. A file identical to the latest
	// version is not stored again: that version comes back with created
	// false.
	PutChecklistVersion(ctx context.Context, v *hub.ChecklistVersion) (stored *hub.ChecklistVersion, created bool, err error)
	// ChecklistVersion returns a version with its YAML; version 0 is the
	// active one. hub.ErrNotFound when there is none.
	ChecklistVersion(ctx context.Context, name string, version int) (*hub.ChecklistVersion, error)
	// ChecklistVersions lists a checklist's versions newest first,
	// without their YAML.
	ChecklistVersions(ctx context.Context, name string) ([]hub.ChecklistVersion, error)
	// ChecklistInfos lists the checklists kept by the hub.
	ChecklistInfos(ctx context.Context) ([]hub.ChecklistInfo, error)
	// ReviewChecklistVersion approves (making it active) or rejects (with
	// a comment) a pending version as the actor of ctx, who must not be
	// its author (hub.ErrForbidden). Reviewing twice is hub.ErrConflict.
	ReviewChecklistVersion(ctx context.Context, name string, version int, approve bool, comment string) (*hub.ChecklistVersion, error)

	// GrantWaiver grants (or replaces) the hub's waiver of a check.
	GrantWaiver(ctx context.Context, w hub.Waiver) error
	// LiftWaiver removes it, or returns hub.ErrNotFound.
	LiftWaiver(ctx context.Context, checklist, check string) error
	// HubWaivers lists the waivers that hold on the day of now, of one
	// checklist or (empty name) all.
	HubWaivers(ctx context.Context, checklist string, now time.Time) ([]hub.Waiver, error)

	// PutVote records the actor's vote on a check (the newest vote of
	// each person counts).
	PutVote(ctx context.Context, v hub.Vote) error
	// Votes lists a check's votes, newest first, at most limit.
	Votes(ctx context.Context, checklist, check string, limit int) ([]hub.Vote, error)
	// VoteCounts counts each check's votes, the newest of each voter.
	VoteCounts(ctx context.Context) (map[CheckKey]hub.Votes, error)
	// CatchTimes returns when each check first ran and last failed.
	CatchTimes(ctx context.Context) (map[CheckKey]CatchTime, error)

	// RecordDelivery records a webhook delivery id; false when it was
	// seen before (a replay).
	RecordDelivery(ctx context.Context, forge, delivery string) (fresh bool, err error)
	// EnqueueRequest queues a run request under a new id; nil and false
	// when the same comment queued one before.
	EnqueueRequest(ctx context.Context, r *hub.RunRequest) (*hub.RunRequest, bool, error)
	// LeaseRequest hands the oldest waiting request to an agent for ttl
	// (nil: nothing waits). Requests whose lease expired maxAttempts
	// times are failed and returned in exhausted.
	LeaseRequest(ctx context.Context, owner string, ttl time.Duration, maxAttempts int) (l *hub.Lease, exhausted []hub.RunRequest, err error)
	// RenewLease extends a lease held with token, or returns
	// hub.ErrLeaseLost.
	RenewLease(ctx context.Context, id, token string, ttl time.Duration) (time.Time, error)
	// CompleteRequest finishes a leased request once: with a run (stored
	// in the same transaction) or an error. hub.ErrLeaseLost for anyone
	// but the current lease holder.
	CompleteRequest(ctx context.Context, id, token string, run *hub.Run, errMsg string) (*hub.RunRequest, error)
	// Request returns a run request, or hub.ErrNotFound.
	Request(ctx context.Context, id string) (*hub.RunRequest, error)
	// Requests lists run requests newest first.
	Requests(ctx context.Context, f RequestFilter) ([]hub.RunRequest, error)
	// ClaimComment lets one caller post a finished request's comment.
	ClaimComment(ctx context.Context, id string, stale time.Duration) (bool, error)
	// SetComment records whether the comment was posted.
	SetComment(ctx context.Context, id, state, url, errMsg string) error
	// UnpostedComments lists finished requests still without a comment.
	UnpostedComments(ctx context.Context, stale time.Duration) ([]hub.RunRequest, error)

	// AppendAudit appends an entry on its own (refused writes); every
	// write of the store audits itself in its own transaction.
	AppendAudit(ctx context.Context, e hub.AuditEntry) error
	// Audit returns one page of the audit log, newest first.
	Audit(ctx context.Context, f AuditFilter) (*hub.AuditPage, error)

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

// RequestFilter selects run requests; empty fields match everything.
type RequestFilter struct {
	State hub.RequestState
	Repo  string
	Limit int
}

// AuditFilter selects audit entries; empty fields match everything.
type AuditFilter struct {
	Actor string
	// Action matches an action ("checklist.approve") or a family of
	// actions ("checklist").
	Action  string
	Target  string
	Outcome string
	Since   time.Time
	Until   time.Time
	Limit   int
	// Cursor is AuditPage.Next of the previous page.
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
// the migrations this binary knows. The accepted forms (see ParseDSN):
//
//	hub.db, ./data/hub.db, /var/lib/hub.db   a SQLite file (relative to the working directory)
//	sqlite:hub.db, sqlite://hub.db           the same, relative to the working directory
//	sqlite:/var/lib/hub.db, sqlite:///var/lib/hub.db   an absolute SQLite path
//	postgres://… or postgresql://…           PostgreSQL
//
// Any other URL scheme is refused with ErrBadDSN, naming the DSN.
func Open(ctx context.Context, dsn string, opts ...Option) (Store, error) {
	o := defaults()
	for _, opt := range opts {
		opt(&o)
	}
	backend, target, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	var s *sqlStore
	switch backend {
	case "postgres":
		s, err = openPostgres(target, o)
	default:
		s, err = openSQLite(target, o)
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
