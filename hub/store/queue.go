package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cgoguard/cgoguard/hub"
)

// The run-request queue. A lease is a random token and an expiry on the
// request's row; taking, renewing and completing are compare-and-set
// UPDATEs on that row, so two agents (or two hubs on one PostgreSQL)
// never hold one request at once, and a request is completed once: by the
// holder of its current lease.

const (
	qRecordDelivery = `INSERT INTO webhook_deliveries (forge, delivery, received_ns) VALUES ($1, $2, $3)
ON CONFLICT (forge, delivery) DO NOTHING`
	qInsertRequest = `INSERT INTO run_requests (id, forge, repo, number, head, head_ref, checks, checklist, comment_id, delivery,
	requested_by, state, created_ns, updated_ns)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
ON CONFLICT (forge, repo, comment_id) DO NOTHING`

	requestColumns = `id, forge, repo, number, head, head_ref, checks, checklist, comment_id, delivery, requested_by, state, attempts,
	lease_owner, lease_expires_ns, created_ns, updated_ns, run_id, error, comment_state, comment_url, comment_error`
	qRequest  = `SELECT ` + requestColumns + ` FROM run_requests WHERE id = $1`
	qRequests = `SELECT ` + requestColumns + ` FROM run_requests
WHERE ($1 = '' OR state = $1) AND ($2 = '' OR repo = $2)
ORDER BY created_ns DESC, id DESC LIMIT $3`
	// qLeasable is the oldest request waiting for an agent: queued, or
	// leased by an agent that stopped renewing.
	qLeasable = `SELECT id, attempts FROM run_requests
WHERE state = 'queued' OR (state = 'leased' AND lease_expires_ns < CAST($1 AS BIGINT))
ORDER BY created_ns, id LIMIT 1`
	qTakeLease = `UPDATE run_requests SET state = 'leased', attempts = attempts + 1, lease_owner = $2, lease_token = $3,
	lease_expires_ns = $4, updated_ns = $5
WHERE id = $1 AND attempts = $6
	AND (state = 'queued' OR (state = 'leased' AND lease_expires_ns < CAST($5 AS BIGINT)))`
	qExhaust = `UPDATE run_requests SET state = 'failed', error = $2, lease_token = '', updated_ns = $3
WHERE id = $1 AND attempts = $4 AND state = 'leased' AND lease_expires_ns < CAST($3 AS BIGINT)`
	qRenew = `UPDATE run_requests SET lease_expires_ns = $3, updated_ns = $4
WHERE id = $1 AND lease_token = $2 AND state = 'leased'`
	qFinish = `UPDATE run_requests SET state = $3, run_id = $4, error = $5, lease_token = '', lease_expires_ns = 0, updated_ns = $6
WHERE id = $1 AND lease_token = $2 AND state = 'leased'`
	qSetComment   = `UPDATE run_requests SET comment_state = $2, comment_url = $3, comment_error = $4 WHERE id = $1`
	qClaimComment = `UPDATE run_requests SET comment_state = 'posting', updated_ns = $3
WHERE id = $1 AND (comment_state = '' OR (comment_state = 'posting' AND updated_ns < CAST($2 AS BIGINT)))
	AND state IN ('done', 'failed')`
	qUnposted = `SELECT ` + requestColumns + ` FROM run_requests
WHERE state IN ('done', 'failed') AND (comment_state = '' OR (comment_state = 'posting' AND updated_ns < CAST($1 AS BIGINT)))
ORDER BY updated_ns LIMIT 20`
)

func (s *sqlStore) RecordDelivery(ctx context.Context, forge, delivery string) (bool, error) {
	res, err := s.w.ExecContext(ctx, qRecordDelivery, forge, delivery, time.Now().UnixNano())
	if err != nil {
		return false, fmt.Errorf("cgoguard: record delivery: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("cgoguard: record delivery: %w", err)
	}
	return n == 1, nil
}

func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return "rq-" + hex.EncodeToString(b[:])
}

func (s *sqlStore) EnqueueRequest(ctx context.Context, r *hub.RunRequest) (*hub.RunRequest, bool, error) {
	out := *r
	out.ID, out.State, out.Created = newRequestID(), hub.RequestQueued, time.Now().UTC()
	out.Updated = out.Created
	checks, _ := json.Marshal(out.Checks) // a []string always marshals
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, false, fmt.Errorf("cgoguard: queue request: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, qInsertRequest, out.ID, out.Forge, out.Repo, out.Number, out.Head, out.HeadRef, string(checks),
		out.Checklist, out.CommentID, out.Delivery, out.RequestedBy, string(out.State), out.Created.UnixNano())
	if err != nil {
		return nil, false, fmt.Errorf("cgoguard: queue request: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, false, nil
	}
	what := "all checks"
	if len(out.Checks) > 0 {
		what = fmt.Sprintf("%v", out.Checks)
	}
	if err := writeAudit(ctx, tx, hub.NewAudit(ctx, hub.AuditWebhook, out.ID, hub.AuditOK,
		fmt.Sprintf("queued %s of %s for %s #%d at %s, asked by %s", what, out.Checklist, out.Repo, out.Number, shortSHA(out.Head), out.RequestedBy))); err != nil {
		return nil, false, err
	}
	if err := tx.Commit(); err != nil {
		return nil, false, fmt.Errorf("cgoguard: queue request: %w", err)
	}
	return &out, true, nil
}

func scanRequest(sc scanner) (hub.RunRequest, error) {
	var r hub.RunRequest
	var checks, state string
	var expires, created, updated int64
	err := sc.Scan(&r.ID, &r.Forge, &r.Repo, &r.Number, &r.Head, &r.HeadRef, &checks, &r.Checklist, &r.CommentID, &r.Delivery,
		&r.RequestedBy, &state, &r.Attempts, &r.LeaseOwner, &expires, &created, &updated, &r.RunID, &r.Error,
		&r.CommentState, &r.CommentURL, &r.CommentError)
	if err != nil {
		return r, err
	}
	json.Unmarshal([]byte(checks), &r.Checks)
	r.State, r.Created, r.Updated = hub.RequestState(state), fromNS(created), fromNS(updated)
	if expires != 0 {
		r.LeaseExpires = fromNS(expires)
	}
	return r, nil
}

func (s *sqlStore) Request(ctx context.Context, id string) (*hub.RunRequest, error) {
	r, err := scanRequest(s.r.QueryRowContext(ctx, qRequest, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: run request %q", hub.ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("cgoguard: read run request: %w", err)
	}
	return &r, nil
}

func (s *sqlStore) Requests(ctx context.Context, f RequestFilter) ([]hub.RunRequest, error) {
	limit := f.Limit
	if limit <= 0 || limit > MaxLimit {
		limit = DefaultLimit
	}
	return requestList(s.r.QueryContext(ctx, qRequests, string(f.State), f.Repo, limit))
}

func requestList(rows *sql.Rows, err error) ([]hub.RunRequest, error) {
	if err != nil {
		return nil, fmt.Errorf("cgoguard: read run requests: %w", err)
	}
	defer rows.Close()
	out := []hub.RunRequest{}
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, fmt.Errorf("cgoguard: read run requests: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// LeaseRequest hands the oldest waiting request to owner for ttl. A
// request whose lease expired maxAttempts times is failed instead (and
// returned in exhausted, for its comment). nil without error: nothing
// waits.
func (s *sqlStore) LeaseRequest(ctx context.Context, owner string, ttl time.Duration, maxAttempts int) (*hub.Lease, []hub.RunRequest, error) {
	var exhausted []hub.RunRequest
	for range 20 { // each round either leases, fails one request, or lost a race
		now := time.Now().UTC()
		var id string
		var attempts int
		// Read on a reader connection: many agents poll, and the
		// compare-and-set below is what hands the request out.
		err := s.r.QueryRowContext(ctx, qLeasable, now.UnixNano()).Scan(&id, &attempts)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, exhausted, nil
		}
		if err != nil {
			return nil, exhausted, fmt.Errorf("cgoguard: lease: %w", err)
		}
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return nil, exhausted, fmt.Errorf("cgoguard: lease: %w", err)
		}
		if maxAttempts > 0 && attempts >= maxAttempts {
			msg := fmt.Sprintf("%d agents took this request and stopped renewing their lease (killed or lost); not tried again", attempts)
			res, err := tx.ExecContext(ctx, qExhaust, id, msg, now.UnixNano(), attempts)
			if err == nil {
				if n, _ := res.RowsAffected(); n == 1 {
					err = writeAudit(ctx, tx, hub.NewAudit(ctx, hub.AuditRequestExhausted, id, hub.AuditOK, msg))
					if err == nil {
						err = tx.Commit()
					}
					if err == nil {
						if r, err := s.Request(ctx, id); err == nil {
							exhausted = append(exhausted, *r)
						}
					}
				}
			}
			tx.Rollback()
			if err != nil {
				return nil, exhausted, fmt.Errorf("cgoguard: lease: %w", err)
			}
			continue
		}
		var tb [16]byte
		rand.Read(tb[:])
		token := hex.EncodeToString(tb[:])
		expires := now.Add(ttl)
		res, err := tx.ExecContext(ctx, qTakeLease, id, owner, token, expires.UnixNano(), now.UnixNano(), attempts)
		if err != nil {
			tx.Rollback()
			return nil, exhausted, fmt.Errorf("cgoguard: lease: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			tx.Rollback()
			continue // another agent took it first
		}
		if err := writeAudit(ctx, tx, hub.NewAudit(ctx, hub.AuditRequestLease, id, hub.AuditOK,
			fmt.Sprintf("attempt %d, lease until %s", attempts+1, expires.Format(time.RFC3339)))); err != nil {
			tx.Rollback()
			return nil, exhausted, err
		}
		if err := tx.Commit(); err != nil {
			return nil, exhausted, fmt.Errorf("cgoguard: lease: %w", err)
		}
		r, err := s.Request(ctx, id)
		if err != nil {
			return nil, exhausted, err
		}
		return &hub.Lease{Request: *r, Token: token, Expires: expires, TTLSeconds: ttl.Seconds()}, exhausted, nil
	}
	return nil, exhausted, nil
}

func (s *sqlStore) RenewLease(ctx context.Context, id, token string, ttl time.Duration) (time.Time, error) {
	now := time.Now().UTC()
	expires := now.Add(ttl)
	res, err := s.w.ExecContext(ctx, qRenew, id, token, expires.UnixNano(), now.UnixNano())
	if err != nil {
		return time.Time{}, fmt.Errorf("cgoguard: renew lease: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return time.Time{}, fmt.Errorf("%w: request %s is not leased with this token any more", hub.ErrLeaseLost, id)
	}
	return expires, nil
}

// CompleteRequest ends a leased request: with run (stored in the same
// transaction, tied to the request) it is done, without it failed with
// errMsg. Only the holder of the current lease may complete it, once;
// anyone else gets hub.ErrLeaseLost.
func (s *sqlStore) CompleteRequest(ctx context.Context, id, token string, run *hub.Run, errMsg string) (*hub.RunRequest, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("cgoguard: complete request: %w", err)
	}
	defer tx.Rollback()
	state, runID := hub.RequestFailed, ""
	if run != nil {
		state, runID, errMsg = hub.RequestDone, run.ID, ""
	}
	res, err := tx.ExecContext(ctx, qFinish, id, token, string(state), runID, clipText(errMsg), time.Now().UnixNano())
	if err != nil {
		return nil, fmt.Errorf("cgoguard: complete request: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, fmt.Errorf("%w: request %s is not leased with this token any more (expired and handed to another agent, or completed)", hub.ErrLeaseLost, id)
	}
	detail := "failed: " + errMsg
	if run != nil {
		run.RequestID = id
		if _, err := putRuns(ctx, tx, []*hub.Run{run}); err != nil {
			return nil, err
		}
		detail = fmt.Sprintf("run %s: %s", run.ID, run.Outcome)
	}
	if err := writeAudit(ctx, tx, hub.NewAudit(ctx, hub.AuditRequestComplete, id, hub.AuditOK, detail)); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("cgoguard: complete request: %w", err)
	}
	return s.Request(ctx, id)
}

// ClaimComment marks a finished request's summary comment as being posted
// by this caller: true for one caller only, until stale passes (a poster
// that died).
func (s *sqlStore) ClaimComment(ctx context.Context, id string, stale time.Duration) (bool, error) {
	now := time.Now()
	res, err := s.w.ExecContext(ctx, qClaimComment, id, now.Add(-stale).UnixNano(), now.UnixNano())
	if err != nil {
		return false, fmt.Errorf("cgoguard: claim comment: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SetComment records the summary comment's fate ("posted" or "failed"),
// with an audit entry.
func (s *sqlStore) SetComment(ctx context.Context, id, state, url, errMsg string) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("cgoguard: record comment: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, qSetComment, id, state, url, clipText(errMsg)); err != nil {
		return fmt.Errorf("cgoguard: record comment: %w", err)
	}
	outcome, detail := hub.AuditOK, url
	if state != "posted" {
		outcome, detail = hub.AuditRejected, errMsg
	}
	if err := writeAudit(ctx, tx, hub.NewAudit(ctx, hub.AuditRequestComment, id, outcome, detail)); err != nil {
		return err
	}
	return tx.Commit()
}

// UnpostedComments lists finished requests whose comment was never tried
// or was claimed longer ago than stale (a hub that died posting it).
func (s *sqlStore) UnpostedComments(ctx context.Context, stale time.Duration) ([]hub.RunRequest, error) {
	return requestList(s.r.QueryContext(ctx, qUnposted, time.Now().Add(-stale).UnixNano()))
}
