package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"

	"github.com/cgoguard/cgoguard/hub"
)

// The audit log is a table that only grows: both backends refuse UPDATE
// and DELETE on it with a trigger (and PostgreSQL TRUNCATE too). Every
// write of the store adds its entry in the write's own transaction, so a
// change is never stored without its entry, nor an entry without its
// change.

const (
	qInsertAudit = `INSERT INTO audit_log (at_ns, actor, role, from_addr, action, target, outcome, detail)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`

	// qAudit pages newest first; $8 is the cursor (0 on the first page).
	qAudit = `SELECT seq, at_ns, actor, role, from_addr, action, target, outcome, detail FROM audit_log
WHERE ($1 = '' OR actor = $1)
	AND ($2 = '' OR action = $2 OR action LIKE $2 || '.%')
	AND ($3 = '' OR target = $3)
	AND ($4 = '' OR outcome = $4)
	AND at_ns >= CAST($5 AS BIGINT)
	AND (CAST($6 AS BIGINT) = 0 OR at_ns < CAST($6 AS BIGINT))
	AND (CAST($7 AS BIGINT) = 0 OR seq < CAST($7 AS BIGINT))
ORDER BY seq DESC
LIMIT $8`
)

// maxAuditText bounds the text fields of an entry.
const maxAuditText = 2048

func clipText(s string) string {
	if len(s) <= maxAuditText {
		return s
	}
	return s[:maxAuditText]
}

// writeAudit appends e in tx.
func writeAudit(ctx context.Context, tx *sql.Tx, e hub.AuditEntry) error {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if _, err := tx.ExecContext(ctx, qInsertAudit, e.Time.UnixNano(), clipText(e.Actor), string(e.Role), clipText(e.From),
		e.Action, clipText(e.Target), e.Outcome, clipText(e.Detail)); err != nil {
		return fmt.Errorf("cgoguard: audit log: %w", err)
	}
	return nil
}

func (s *sqlStore) AppendAudit(ctx context.Context, e hub.AuditEntry) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("cgoguard: audit log: %w", err)
	}
	defer tx.Rollback()
	if err := writeAudit(ctx, tx, e); err != nil {
		return err
	}
	return tx.Commit()
}

func (s *sqlStore) Audit(ctx context.Context, f AuditFilter) (*hub.AuditPage, error) {
	limit := f.Limit
	switch {
	case limit == 0:
		limit = DefaultLimit
	case limit < 0 || limit > MaxLimit:
		return nil, &hub.InvalidError{What: "query", Problems: []string{fmt.Sprintf("limit %d is not between 1 and %d", f.Limit, MaxLimit)}}
	}
	var cur int64
	if f.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(f.Cursor)
		if err == nil {
			cur, err = strconv.ParseInt(string(b), 10, 64)
		}
		if err != nil || cur <= 0 {
			return nil, &hub.InvalidError{What: "query", Problems: []string{fmt.Sprintf("cursor %q is not one this hub returned", f.Cursor)}}
		}
	}
	rows, err := s.r.QueryContext(ctx, qAudit, f.Actor, f.Action, f.Target, f.Outcome, sinceNS(f.Since), sinceNS(f.Until), cur, limit+1)
	if err != nil {
		return nil, fmt.Errorf("cgoguard: read audit log: %w", err)
	}
	defer rows.Close()
	page := &hub.AuditPage{Entries: []hub.AuditEntry{}}
	for rows.Next() {
		var e hub.AuditEntry
		var at int64
		var role string
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &role, &e.From, &e.Action, &e.Target, &e.Outcome, &e.Detail); err != nil {
			return nil, fmt.Errorf("cgoguard: read audit log: %w", err)
		}
		e.Time, e.Role = fromNS(at), hub.Role(role)
		page.Entries = append(page.Entries, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cgoguard: read audit log: %w", err)
	}
	if len(page.Entries) > limit {
		page.Entries = page.Entries[:limit]
		page.Next = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(page.Entries[limit-1].Seq, 10)))
	}
	return page, nil
}
