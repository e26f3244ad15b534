package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/hub"
)

// sqlStore is the Store of both backends. Every query is a constant of
// this package with $n parameters (SQLite reads $n as the n-th argument
// too): no value from a request is ever part of an SQL string.
type sqlStore struct {
	backend string
	w       *sql.DB // writes (SQLite: a single connection)
	r       *sql.DB // reads
	where   string  // for messages: the file, or the DSN without password
}

func (s *sqlStore) Backend() string { return s.backend }

func (s *sqlStore) Close() error {
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

func (s *sqlStore) Ping(ctx context.Context) error {
	var one int
	if err := s.r.QueryRowContext(ctx, qPing).Scan(&one); err != nil {
		return fmt.Errorf("cgoguard: %s database %s: %w", s.backend, s.where, err)
	}
	return nil
}

const qPing = `SELECT 1`

const (
	qCreateMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_ns BIGINT NOT NULL
)`
	qSchemaVersion   = `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`
	qRecordMigration = `INSERT INTO schema_migrations (version, name, applied_ns) VALUES ($1, $2, $3)`
	// qMigrationLock serialises hubs starting at once on one PostgreSQL
	// database; SQLite's write transaction is already exclusive.
	qMigrationLock = `SELECT pg_advisory_xact_lock(7230311)`
)

func (s *sqlStore) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := s.r.QueryRowContext(ctx, qSchemaVersion).Scan(&v); err != nil {
		return 0, fmt.Errorf("cgoguard: schema version: %w", err)
	}
	return v, nil
}

// migrate applies the steps of list that the database lacks, all in one
// transaction, and refuses a database that is ahead of list.
func (s *sqlStore) migrate(ctx context.Context, list []Migration) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("cgoguard: %s database %s: %w", s.backend, s.where, err)
	}
	defer tx.Rollback()
	if s.backend == "postgres" {
		if _, err := tx.ExecContext(ctx, qMigrationLock); err != nil {
			return fmt.Errorf("cgoguard: migration lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, qCreateMigrations); err != nil {
		return fmt.Errorf("cgoguard: %s database %s: %w", s.backend, s.where, err)
	}
	var cur int
	if err := tx.QueryRowContext(ctx, qSchemaVersion).Scan(&cur); err != nil {
		return fmt.Errorf("cgoguard: schema version: %w", err)
	}
	known := 0
	if len(list) > 0 {
		known = list[len(list)-1].Version
	}
	if cur > known {
		return fmt.Errorf("%w: %s is at schema version %d but this cgoguard knows versions up to %d; run a newer cgoguard against it",
			ErrSchemaTooNew, s.where, cur, known)
	}
	for i, m := range list {
		if m.Version != i+1 {
			return fmt.Errorf("cgoguard: migration list out of order: step %d has version %d", i+1, m.Version)
		}
		if m.Version <= cur {
			continue
		}
		if err := s.applyMigration(ctx, tx, m); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (s *sqlStore) applyMigration(ctx context.Context, tx *sql.Tx, m Migration) error {
	q := m.SQL
	switch {
	case s.backend == "sqlite" && m.SQLite != "":
		q = m.SQLite
	case s.backend == "postgres" && m.Postgres != "":
		q = m.Postgres
	}
	if _, err := tx.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("cgoguard: schema migration %d (%s): %w", m.Version, m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, qRecordMigration, m.Version, m.Name, time.Now().UnixNano()); err != nil {
		return fmt.Errorf("cgoguard: schema migration %d: %w", m.Version, err)
	}
	return nil
}

const (
	qInsertRun = `INSERT INTO runs (id, digest, checklist, repo, branch, commit_sha, job_url, host, ci, env,
	files, packages, started_ns, received_ns, duration_s, outcome,
	n_checks, n_pass, n_fail, n_timeout, n_error, n_skip, n_waived, n_flaky, uploaded_by,
	checklist_version, source, request_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
	$17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28)
ON CONFLICT (id) DO NOTHING`
	qRunDigest   = `SELECT digest FROM runs WHERE id = $1`
	qInsertCheck = `INSERT INTO check_results (run_id, position, checklist, check_id, started_ns,
	title, severity, kind, prevents, fix, file, line, outcome, message, attempts, duration_s,
	command, exit_code, stdout, stderr, truncated, findings, tests, has_waiver, waiver_reason, waiver_expires)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
	$17, $18, $19, $20, $21, $22, $23, $24, $25, $26)`
)

func (s *sqlStore) PutRun(ctx context.Context, r *hub.Run) (bool, error) {
	n, err := s.PutRuns(ctx, []*hub.Run{r})
	return n == 1, err
}

func (s *sqlStore) PutRuns(ctx context.Context, runs []*hub.Run) (int, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("cgoguard: store run: %w", err)
	}
	defer tx.Rollback()
	created, err := putRuns(ctx, tx, runs)
	if err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("cgoguard: store run: %w", err)
	}
	return created, nil
}

// putRuns stores runs in tx, with an audit entry for each.
func putRuns(ctx context.Context, tx *sql.Tx, runs []*hub.Run) (int, error) {
	var ins *sql.Stmt
	created := 0
	for _, r := range runs {
		ok, err := putRun(ctx, tx, r)
		if err != nil {
			return 0, err
		}
		detail := fmt.Sprintf("checklist %s, %d checks, %s", r.Checklist, r.Counts.Checks, r.Outcome)
		if r.Context.Repo != "" {
			detail += fmt.Sprintf(", %s@%s", r.Context.Repo, shortSHA(r.Context.Commit))
		}
		if r.ChecklistVersion > 0 {
			detail += fmt.Sprintf(", version %d", r.ChecklistVersion)
		}
		if !ok {
			detail = "duplicate: " + detail
		}
		if err := writeAudit(ctx, tx, hub.NewAudit(ctx, hub.AuditRunUpload, r.ID, hub.AuditOK, detail)); err != nil {
			return 0, err
		}
		if !ok {
			continue
		}
		created++
		if len(r.Checks) == 0 {
			continue
		}
		if ins == nil {
			if ins, err = tx.PrepareContext(ctx, qInsertCheck); err != nil {
				return 0, fmt.Errorf("cgoguard: store run: %w", err)
			}
			defer ins.Close()
		}
		if err := putChecks(ctx, ins, r); err != nil {
			return 0, err
		}
	}
	return created, nil
}

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// putRun inserts the run's row; false means the same run was already
// there.
func putRun(ctx context.Context, tx *sql.Tx, r *hub.Run) (bool, error) {
	if !hub.ValidID(r.ID) {
		return false, &hub.InvalidError{What: "run", Problems: []string{fmt.Sprintf("id %q is not a valid run id", r.ID)}}
	}
	c := r.Counts
	res, err := tx.ExecContext(ctx, qInsertRun,
		r.ID, r.Digest, r.Checklist, r.Context.Repo, r.Context.Branch, r.Context.Commit,
		r.Context.JobURL, r.Context.Host, r.Context.CI, r.Env,
		jsonList(r.Files), jsonList(r.Packages), r.Started.UnixNano(), r.Received.UnixNano(),
		r.DurationSeconds, r.Outcome,
		c.Checks, c.Pass, c.Fail, c.Timeout, c.Error, c.Skip, c.Waived, c.Flaky, r.UploadedBy,
		r.ChecklistVersion, sourceJSON(r.Source), r.RequestID)
	if err != nil {
		return false, fmt.Errorf("cgoguard: store run %s: %w", r.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("cgoguard: store run %s: %w", r.ID, err)
	}
	if n == 1 {
		return true, nil
	}
	var digest string
	if err := tx.QueryRowContext(ctx, qRunDigest, r.ID).Scan(&digest); err != nil {
		return false, fmt.Errorf("cgoguard: store run %s: %w", r.ID, err)
	}
	if digest != r.Digest {
		return false, fmt.Errorf("%w: run %q was stored before with other content (digest %s, this upload %s); give a new run a new id",
			hub.ErrConflict, r.ID, digest, r.Digest)
	}
	return false, nil
}

func putChecks(ctx context.Context, ins *sql.Stmt, r *hub.Run) error {
	for i := range r.Checks {
		c := &r.Checks[i]
		findings, err := json.Marshal(c.Findings)
		if err != nil {
			return fmt.Errorf("cgoguard: store run %s: %w", r.ID, err)
		}
		tests, err := json.Marshal(c.Tests)
		if err != nil {
			return fmt.Errorf("cgoguard: store run %s: %w", r.ID, err)
		}
		hasWaiver, reason, expires := 0, "", ""
		if c.Waiver != nil {
			hasWaiver, reason = 1, c.Waiver.Reason
			if !c.Waiver.Expires.IsZero() {
				expires = c.Waiver.Expires.String()
			}
		}
		if _, err := ins.ExecContext(ctx,
			r.ID, i, r.Checklist, c.ID, r.Started.UnixNano(),
			c.Title, c.Severity, c.Kind, c.Prevents, c.Fix, c.File, c.Line,
			string(c.Outcome), c.Message, c.Attempts, c.DurationSeconds,
			c.Evidence.Command, c.Evidence.ExitCode, c.Evidence.Stdout, c.Evidence.Stderr, b2i(c.EvidenceTruncated),
			string(findings), string(tests), hasWaiver, reason, expires); err != nil {
			return fmt.Errorf("cgoguard: store run %s check %q: %w", r.ID, c.ID, err)
		}
	}
	return nil
}

const runColumns = `id, checklist, repo, branch, commit_sha, job_url, host, ci, env, started_ns, received_ns,
	duration_s, outcome, n_checks, n_pass, n_fail, n_timeout, n_error, n_skip, n_waived, n_flaky, uploaded_by,
	checklist_version, source, request_id`

const (
	qRun = `SELECT ` + runColumns + `, digest, files, packages FROM runs WHERE id = $1`

	qRunChecks = `SELECT check_id, title, severity, kind, prevents, fix, file, line, outcome, message,
	attempts, duration_s, command, exit_code, stdout, stderr, truncated, findings, tests,
	has_waiver, waiver_reason, waiver_expires
FROM check_results WHERE run_id = $1 ORDER BY position`

	// qRuns pages through runs newest first. $6/$7 are the cursor (0 and
	// '' on the first page).
	qRuns = `SELECT ` + runColumns + ` FROM runs
WHERE ($1 = '' OR repo = $1)
	AND ($2 = '' OR branch = $2)
	AND ($3 = '' OR outcome = $3)
	AND ($4 = '' OR checklist = $4)
	AND started_ns >= CAST($5 AS BIGINT)
	AND (CAST($6 AS BIGINT) = 0 OR started_ns < CAST($6 AS BIGINT) OR (started_ns = CAST($6 AS BIGINT) AND id < $7))
ORDER BY started_ns DESC, id DESC
LIMIT $8`

	qChecklists = `SELECT DISTINCT checklist FROM runs ORDER BY checklist`
)

type scanner interface{ Scan(dest ...any) error }

func scanSummary(sc scanner, extra ...any) (hub.RunSummary, error) {
	var (
		r                    hub.RunSummary
		started, received    int64
		c                    = &r.Counts
		fields               []any
		repo, branch, commit = &r.Context.Repo, &r.Context.Branch, &r.Context.Commit
		source               string
	)
	fields = append(fields, &r.ID, &r.Checklist, repo, branch, commit, &r.Context.JobURL, &r.Context.Host,
		&r.Context.CI, &r.Env, &started, &received, &r.DurationSeconds, &r.Outcome,
		&c.Checks, &c.Pass, &c.Fail, &c.Timeout, &c.Error, &c.Skip, &c.Waived, &c.Flaky, &r.UploadedBy,
		&r.ChecklistVersion, &source, &r.RequestID)
	if err := sc.Scan(append(fields, extra...)...); err != nil {
		return r, err
	}
	r.Source = sourceFromJSON(source)
	r.Started = fromNS(started)
	r.Received = fromNS(received)
	return r, nil
}

func (s *sqlStore) Run(ctx context.Context, id string) (*hub.Run, error) {
	var (
		run             hub.Run
		files, packages string
		err             error
	)
	run.RunSummary, err = scanSummary(s.r.QueryRowContext(ctx, qRun, id), &run.Digest, &files, &packages)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: run %q", hub.ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("cgoguard: read run %s: %w", id, err)
	}
	run.Files = fromJSONList(files)
	run.Packages = fromJSONList(packages)
	rows, err := s.r.QueryContext(ctx, qRunChecks, id)
	if err != nil {
		return nil, fmt.Errorf("cgoguard: read run %s: %w", id, err)
	}
	defer rows.Close()
	run.Checks = []hub.Check{}
	for rows.Next() {
		var (
			c                         hub.Check
			outcome, findings, tests  string
			truncated, hasWaiver      int
			waiverReason, waiverUntil string
		)
		if err := rows.Scan(&c.ID, &c.Title, &c.Severity, &c.Kind, &c.Prevents, &c.Fix, &c.File, &c.Line,
			&outcome, &c.Message, &c.Attempts, &c.DurationSeconds, &c.Evidence.Command, &c.Evidence.ExitCode,
			&c.Evidence.Stdout, &c.Evidence.Stderr, &truncated, &findings, &tests,
			&hasWaiver, &waiverReason, &waiverUntil); err != nil {
			return nil, fmt.Errorf("cgoguard: read run %s: %w", id, err)
		}
		c.Outcome = checklist.Outcome(outcome)
		c.EvidenceTruncated = truncated != 0
		if err := json.Unmarshal([]byte(findings), &c.Findings); err != nil {
			return nil, fmt.Errorf("cgoguard: read run %s: findings of %q: %w", id, c.ID, err)
		}
		if err := json.Unmarshal([]byte(tests), &c.Tests); err != nil {
			return nil, fmt.Errorf("cgoguard: read run %s: tests of %q: %w", id, c.ID, err)
		}
		if hasWaiver != 0 {
			c.Waiver = &checklist.Waiver{Reason: waiverReason}
			if waiverUntil != "" {
				if err := c.Waiver.Expires.UnmarshalText([]byte(waiverUntil)); err != nil {
					return nil, fmt.Errorf("cgoguard: read run %s: waiver of %q: %w", id, c.ID, err)
				}
			}
		}
		run.Checks = append(run.Checks, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cgoguard: read run %s: %w", id, err)
	}
	return &run, nil
}

func (s *sqlStore) Runs(ctx context.Context, f RunFilter) (*hub.RunPage, error) {
	limit := f.Limit
	switch {
	case limit == 0:
		limit = DefaultLimit
	case limit < 0 || limit > MaxLimit:
		return nil, &hub.InvalidError{What: "query", Problems: []string{fmt.Sprintf("limit %d is not between 1 and %d", f.Limit, MaxLimit)}}
	}
	if f.Outcome != "" && !validRunOutcome(f.Outcome) {
		return nil, &hub.InvalidError{What: "query", Problems: []string{fmt.Sprintf("outcome %q is not one of %s", f.Outcome, strings.Join(hub.RunOutcomes, ", "))}}
	}
	var curNS int64
	var curID string
	if f.Cursor != "" {
		var err error
		if curNS, curID, err = decodeCursor(f.Cursor); err != nil {
			return nil, err
		}
	}
	rows, err := s.r.QueryContext(ctx, qRuns, f.Repo, f.Branch, f.Outcome, f.Checklist, sinceNS(f.Since), curNS, curID, limit+1)
	if err != nil {
		return nil, fmt.Errorf("cgoguard: list runs: %w", err)
	}
	defer rows.Close()
	page := &hub.RunPage{Runs: []hub.RunSummary{}}
	for rows.Next() {
		r, err := scanSummary(rows)
		if err != nil {
			return nil, fmt.Errorf("cgoguard: list runs: %w", err)
		}
		page.Runs = append(page.Runs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cgoguard: list runs: %w", err)
	}
	if len(page.Runs) > limit {
		page.Runs = page.Runs[:limit]
		last := page.Runs[limit-1]
		page.Next = encodeCursor(last.Started.UnixNano(), last.ID)
	}
	return page, nil
}

func (s *sqlStore) Checklists(ctx context.Context) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, qChecklists)
	if err != nil {
		return nil, fmt.Errorf("cgoguard: list checklists: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("cgoguard: list checklists: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

const qRunOutcomes = `SELECT outcome, COUNT(*) FROM runs WHERE started_ns >= CAST($1 AS BIGINT) GROUP BY outcome`

func (s *sqlStore) RunOutcomes(ctx context.Context, since time.Time) (map[string]int, error) {
	rows, err := s.r.QueryContext(ctx, qRunOutcomes, sinceNS(since))
	if err != nil {
		return nil, fmt.Errorf("cgoguard: count runs: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for _, o := range hub.RunOutcomes {
		out[o] = 0
	}
	for rows.Next() {
		var o string
		var n int
		if err := rows.Scan(&o, &n); err != nil {
			return nil, fmt.Errorf("cgoguard: count runs: %w", err)
		}
		out[o] = n
	}
	return out, rows.Err()
}

func validRunOutcome(o string) bool {
	for _, x := range hub.RunOutcomes {
		if x == o {
			return true
		}
	}
	return false
}

// A cursor is the started time and id of the last run of a page.
func encodeCursor(ns int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(ns, 10) + ":" + id))
}

func decodeCursor(c string) (int64, string, error) {
	bad := &hub.InvalidError{What: "query", Problems: []string{fmt.Sprintf("cursor %q is not one this hub returned", c)}}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, "", bad
	}
	ns, id, ok := strings.Cut(string(b), ":")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil || n <= 0 || !hub.ValidID(id) {
		return 0, "", bad
	}
	return n, id, nil
}

func sinceNS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNS(ns int64) time.Time { return time.Unix(0, ns).UTC() }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func sourceJSON(src *checklist.Source) string {
	if src == nil {
		return ""
	}
	b, _ := json.Marshal(src) // plain data always marshals
	return string(b)
}

func sourceFromJSON(s string) *checklist.Source {
	if s == "" {
		return nil
	}
	var src checklist.Source
	if json.Unmarshal([]byte(s), &src) != nil {
		return nil
	}
	return &src
}

func jsonList(l []string) string {
	if len(l) == 0 {
		return ""
	}
	b, _ := json.Marshal(l) // a []string always marshals
	return string(b)
}

func fromJSONList(s string) []string {
	if s == "" {
		return nil
	}
	var l []string
	if json.Unmarshal([]byte(s), &l) != nil {
		return nil
	}
	return l
}
