package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cgoguard/cgoguard/hub"
)

const (
	// qBumpChecklist numbers the next version of a checklist atomically on
	// both backends (one upsert with RETURNING).
	qBumpChecklist = `INSERT INTO checklists (name, active_version, latest_version, updated_ns) VALUES ($1, 0, 1, $2)
ON CONFLICT (name) DO UPDATE SET latest_version = checklists.latest_version + 1, updated_ns = $2
RETURNING latest_version`
	qLatestVersion = `SELECT v.version, v.digest, v.yaml FROM checklists c JOIN checklist_versions v ON v.name = c.name AND v.version = c.latest_version
WHERE c.name = $1`
	qInsertVersion = `INSERT INTO checklist_versions (name, version, yaml, digest, author, created_ns, state, n_checks, description, diff)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`

	versionColumns = `v.name, v.version, v.digest, v.author, v.created_ns, v.state, v.reviewer, v.reviewed_ns, v.comment,
	v.n_checks, v.description, v.diff, c.active_version`
	qVersion = `SELECT ` + versionColumns + `, v.yaml FROM checklist_versions v JOIN checklists c ON c.name = v.name
WHERE v.name = $1 AND v.version = (CASE WHEN CAST($2 AS INTEGER) = 0 THEN c.active_version ELSE CAST($2 AS INTEGER) END)`
	qVersions = `SELECT ` + versionColumns + ` FROM checklist_versions v JOIN checklists c ON c.name = v.name
WHERE v.name = $1 ORDER BY v.version DESC`
	qChecklistInfos = `SELECT c.name, c.active_version, c.latest_version, c.updated_ns,
	(SELECT COUNT(*) FROM checklist_versions p WHERE p.name = c.name AND p.state = 'pending'),
	(SELECT l.description FROM checklist_versions l WHERE l.name = c.name AND l.version = c.latest_version)
FROM checklists c ORDER BY c.name`
	qVersionForReview = `SELECT author, state FROM checklist_versions WHERE name = $1 AND version = $2`
	qReviewVersion    = `UPDATE checklist_versions SET state = $3, reviewer = $4, reviewed_ns = $5, comment = $6
WHERE name = $1 AND version = $2 AND state = 'pending'`
	qActivate = `UPDATE checklists SET active_version = $2, updated_ns = $3 WHERE name = $1`
)

// PutChecklistVersion stores a new version of a checklist: the next
// number, with the diff from the previous version. A file identical to
// the latest version is not stored again: that version is returned with
// created false.
func (s *sqlStore) PutChecklistVersion(ctx context.Context, v *hub.ChecklistVersion) (*hub.ChecklistVersion, bool, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, false, fmt.Errorf("cgoguard: store checklist: %w", err)
	}
	defer tx.Rollback()
	var prev int
	var prevDigest, prevYAML string
	err = tx.QueryRowContext(ctx, qLatestVersion, v.Name).Scan(&prev, &prevDigest, &prevYAML)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, false, fmt.Errorf("cgoguard: store checklist: %w", err)
	}
	if prev > 0 && prevDigest == v.Digest {
		tx.Rollback()
		got, err := s.ChecklistVersion(ctx, v.Name, prev)
		return got, false, err
	}
	now := time.Now().UTC()
	var n int
	if err := tx.QueryRowContext(ctx, qBumpChecklist, v.Name, now.UnixNano()).Scan(&n); err != nil {
		return nil, false, fmt.Errorf("cgoguard: store checklist: %w", err)
	}
	out := *v
	out.Version, out.Created, out.State = n, now, hub.StatePending
	out.Author = hub.ActorFrom(ctx).Name
	out.Diff = hub.VersionDiff(v.Name, prev, prevYAML, n, v.YAML)
	if _, err := tx.ExecContext(ctx, qInsertVersion, out.Name, out.Version, out.YAML, out.Digest, out.Author,
		now.UnixNano(), string(out.State), out.Checks, out.Description, out.Diff); err != nil {
		return nil, false, fmt.Errorf("cgoguard: store checklist: %w", err)
	}
	if err := writeAudit(ctx, tx, hub.NewAudit(ctx, hub.AuditChecklistUpload, fmt.Sprintf("%s@%d", out.Name, out.Version), hub.AuditOK,
		fmt.Sprintf("%d checks, %s", out.Checks, out.Digest))); err != nil {
		return nil, false, err
	}
	if err := tx.Commit(); err != nil {
		return nil, false, fmt.Errorf("cgoguard: store checklist: %w", err)
	}
	return &out, true, nil
}

func scanVersion(sc scanner, extra ...any) (hub.ChecklistVersion, error) {
	var v hub.ChecklistVersion
	var created, reviewed int64
	var state string
	var active int
	err := sc.Scan(append([]any{&v.Name, &v.Version, &v.Digest, &v.Author, &created, &state, &v.Reviewer, &reviewed, &v.Comment,
		&v.Checks, &v.Description, &v.Diff, &active}, extra...)...)
	if err != nil {
		return v, err
	}
	v.Created, v.State, v.Active = fromNS(created), hub.VersionState(state), active == v.Version
	if reviewed != 0 {
		v.Reviewed = fromNS(reviewed)
	}
	return v, nil
}

// ChecklistVersion returns a version with its YAML; version 0 is the
// active one.
func (s *sqlStore) ChecklistVersion(ctx context.Context, name string, version int) (*hub.ChecklistVersion, error) {
	var yaml string
	v, err := scanVersion(s.r.QueryRowContext(ctx, qVersion, name, version), &yaml)
	if errors.Is(err, sql.ErrNoRows) {
		if version == 0 {
			return nil, fmt.Errorf("%w: checklist %q has no approved version", hub.ErrNotFound, name)
		}
		return nil, fmt.Errorf("%w: checklist %q has no version %d", hub.ErrNotFound, name, version)
	}
	if err != nil {
		return nil, fmt.Errorf("cgoguard: read checklist %s: %w", name, err)
	}
	v.YAML = yaml
	return &v, nil
}

func (s *sqlStore) ChecklistVersions(ctx context.Context, name string) ([]hub.ChecklistVersion, error) {
	rows, err := s.r.QueryContext(ctx, qVersions, name)
	if err != nil {
		return nil, fmt.Errorf("cgoguard: read checklist %s: %w", name, err)
	}
	defer rows.Close()
	var out []hub.ChecklistVersion
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, fmt.Errorf("cgoguard: read checklist %s: %w", name, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cgoguard: read checklist %s: %w", name, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no checklist %q", hub.ErrNotFound, name)
	}
	return out, nil
}

func (s *sqlStore) ChecklistInfos(ctx context.Context) ([]hub.ChecklistInfo, error) {
	rows, err := s.r.QueryContext(ctx, qChecklistInfos)
	if err != nil {
		return nil, fmt.Errorf("cgoguard: list checklists: %w", err)
	}
	defer rows.Close()
	out := []hub.ChecklistInfo{}
	for rows.Next() {
		var c hub.ChecklistInfo
		var updated int64
		var desc sql.NullString
		if err := rows.Scan(&c.Name, &c.Active, &c.Latest, &updated, &c.Pending, &desc); err != nil {
			return nil, fmt.Errorf("cgoguard: list checklists: %w", err)
		}
		c.Updated, c.Description = fromNS(updated), desc.String
		out = append(out, c)
	}
	return out, rows.Err()
}

// ReviewChecklistVersion approves or rejects a pending version as the
// actor of ctx. The version's author may not review it (hub.ErrForbidden);
// a version reviewed before cannot be reviewed again (hub.ErrConflict). An
// approved version becomes the active one. Refusals are audited too.
func (s *sqlStore) ReviewChecklistVersion(ctx context.Context, name string, version int, approve bool, comment string) (*hub.ChecklistVersion, error) {
	action, state := hub.AuditChecklistReject, hub.StateRejected
	if approve {
		action, state = hub.AuditChecklistApprove, hub.StateApproved
	}
	target := fmt.Sprintf("%s@%d", name, version)
	actor := hub.ActorFrom(ctx)
	refuse := func(err error) (*hub.ChecklistVersion, error) {
		outcome := hub.AuditRejected
		if errors.Is(err, hub.ErrForbidden) {
			outcome = hub.AuditDenied
		}
		if aerr := s.AppendAudit(ctx, hub.NewAudit(ctx, action, target, outcome, err.Error())); aerr != nil {
			return nil, errors.Join(err, aerr)
		}
		return nil, err
	}
	if !approve && len(comment) == 0 {
		return refuse(&hub.InvalidError{What: "review", Problems: []string{"a rejection needs a comment saying what to change"}})
	}
	if len(comment) > maxAuditText {
		return refuse(&hub.InvalidError{What: "review", Problems: []string{fmt.Sprintf("comment is longer than %d bytes", maxAuditText)}})
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("cgoguard: review checklist: %w", err)
	}
	defer tx.Rollback()
	var author, cur string
	err = tx.QueryRowContext(ctx, qVersionForReview, name, version).Scan(&author, &cur)
	if errors.Is(err, sql.ErrNoRows) {
		tx.Rollback()
		return nil, fmt.Errorf("%w: checklist %q has no version %d", hub.ErrNotFound, name, version)
	}
	if err != nil {
		return nil, fmt.Errorf("cgoguard: review checklist: %w", err)
	}
	switch {
	case author == actor.Name:
		tx.Rollback()
		return refuse(fmt.Errorf("%w: %s uploaded %s and may not review it; another reviewer must", hub.ErrForbidden, actor.Name, target))
	case cur != string(hub.StatePending):
		tx.Rollback()
		return refuse(fmt.Errorf("%w: %s is %s already; upload a new version to change it", hub.ErrConflict, target, cur))
	}
	now := time.Now().UTC().UnixNano()
	res, err := tx.ExecContext(ctx, qReviewVersion, name, version, string(state), actor.Name, now, comment)
	if err != nil {
		return nil, fmt.Errorf("cgoguard: review checklist: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		tx.Rollback()
		return refuse(fmt.Errorf("%w: %s was reviewed by someone else meanwhile", hub.ErrConflict, target))
	}
	if approve {
		if _, err := tx.ExecContext(ctx, qActivate, name, version, now); err != nil {
			return nil, fmt.Errorf("cgoguard: review checklist: %w", err)
		}
	}
	if err := writeAudit(ctx, tx, hub.NewAudit(ctx, action, target, hub.AuditOK, comment)); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("cgoguard: review checklist: %w", err)
	}
	return s.ChecklistVersion(ctx, name, version)
}

const (
	qGrantWaiver = `INSERT INTO hub_waivers (checklist, check_id, reason, expires, granted_by, created_ns) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (checklist, check_id) DO UPDATE SET reason = $3, expires = $4, granted_by = $5, created_ns = $6`
	qLiftWaiver = `DELETE FROM hub_waivers WHERE checklist = $1 AND check_id = $2`
	qWaiversOf  = `SELECT checklist, check_id, reason, expires, granted_by, created_ns FROM hub_waivers
WHERE ($1 = '' OR checklist = $1) AND expires >= $2 ORDER BY expires, checklist, check_id`
)

func (s *sqlStore) GrantWaiver(ctx context.Context, w hub.Waiver) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("cgoguard: grant waiver: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, qGrantWaiver, w.Checklist, w.Check, w.Reason, w.Expires, hub.ActorFrom(ctx).Name, time.Now().UnixNano()); err != nil {
		return fmt.Errorf("cgoguard: grant waiver: %w", err)
	}
	if err := writeAudit(ctx, tx, hub.NewAudit(ctx, hub.AuditWaiverGrant, w.Checklist+"/"+w.Check, hub.AuditOK,
		fmt.Sprintf("until %s: %s", w.Expires, w.Reason))); err != nil {
		return err
	}
	return tx.Commit()
}

func (s *sqlStore) LiftWaiver(ctx context.Context, checklist, check string) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("cgoguard: lift waiver: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, qLiftWaiver, checklist, check)
	if err != nil {
		return fmt.Errorf("cgoguard: lift waiver: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: no hub waiver of %s/%s", hub.ErrNotFound, checklist, check)
	}
	if err := writeAudit(ctx, tx, hub.NewAudit(ctx, hub.AuditWaiverLift, checklist+"/"+check, hub.AuditOK, "")); err != nil {
		return err
	}
	return tx.Commit()
}

// HubWaivers lists the waivers granted in the hub that hold on the day of
// now (all checklists when checklist is empty).
func (s *sqlStore) HubWaivers(ctx context.Context, checklist string, now time.Time) ([]hub.Waiver, error) {
	rows, err := s.r.QueryContext(ctx, qWaiversOf, checklist, now.UTC().Format(time.DateOnly))
	if err != nil {
		return nil, fmt.Errorf("cgoguard: read waivers: %w", err)
	}
	defer rows.Close()
	out := []hub.Waiver{}
	for rows.Next() {
		var w hub.Waiver
		var created int64
		if err := rows.Scan(&w.Checklist, &w.Check, &w.Reason, &w.Expires, &w.By, &created); err != nil {
			return nil, fmt.Errorf("cgoguard: read waivers: %w", err)
		}
		w.Created = fromNS(created)
		out = append(out, w)
	}
	return out, rows.Err()
}

const (
	qInsertVote = `INSERT INTO votes (checklist, check_id, voter, role, vote, comment, at_ns) VALUES ($1, $2, $3, $4, $5, $6, $7)`
	qVotesOf    = `SELECT checklist, check_id, voter, role, vote, comment, at_ns FROM votes
WHERE checklist = $1 AND check_id = $2 ORDER BY at_ns DESC LIMIT $3`
	// qAllVotes reads every vote oldest first: the newest of each voter
	// wins when they are counted.
	qAllVotes   = `SELECT checklist, check_id, voter, vote FROM votes ORDER BY at_ns`
	qCatchTimes = `SELECT checklist, check_id, MIN(started_ns),
	MAX(CASE WHEN outcome IN ('fail', 'timeout', 'error') THEN started_ns ELSE 0 END)
FROM check_results GROUP BY checklist, check_id`
)

func (s *sqlStore) PutVote(ctx context.Context, v hub.Vote) error {
	a := hub.ActorFrom(ctx)
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("cgoguard: vote: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, qInsertVote, v.Checklist, v.Check, a.Name, string(a.Role), v.Vote, v.Comment, time.Now().UnixNano()); err != nil {
		return fmt.Errorf("cgoguard: vote: %w", err)
	}
	detail := v.Vote
	if v.Comment != "" {
		detail += ": " + v.Comment
	}
	if err := writeAudit(ctx, tx, hub.NewAudit(ctx, hub.AuditVote, v.Checklist+"/"+v.Check, hub.AuditOK, detail)); err != nil {
		return err
	}
	return tx.Commit()
}

func (s *sqlStore) Votes(ctx context.Context, checklist, check string, limit int) ([]hub.Vote, error) {
	if limit <= 0 || limit > MaxLimit {
		limit = DefaultLimit
	}
	rows, err := s.r.QueryContext(ctx, qVotesOf, checklist, check, limit)
	if err != nil {
		return nil, fmt.Errorf("cgoguard: read votes: %w", err)
	}
	defer rows.Close()
	out := []hub.Vote{}
	for rows.Next() {
		var v hub.Vote
		var at int64
		var role string
		if err := rows.Scan(&v.Checklist, &v.Check, &v.Voter, &role, &v.Vote, &v.Comment, &at); err != nil {
			return nil, fmt.Errorf("cgoguard: read votes: %w", err)
		}
		v.Role, v.Time = hub.Role(role), fromNS(at)
		out = append(out, v)
	}
	return out, rows.Err()
}

// CheckKey names a check of a checklist.
type CheckKey struct{ Checklist, Check string }

func (s *sqlStore) VoteCounts(ctx context.Context) (map[CheckKey]hub.Votes, error) {
	rows, err := s.r.QueryContext(ctx, qAllVotes)
	if err != nil {
		return nil, fmt.Errorf("cgoguard: read votes: %w", err)
	}
	defer rows.Close()
	latest := map[CheckKey]map[string]string{}
	for rows.Next() {
		var k CheckKey
		var voter, vote string
		if err := rows.Scan(&k.Checklist, &k.Check, &voter, &vote); err != nil {
			return nil, fmt.Errorf("cgoguard: read votes: %w", err)
		}
		if latest[k] == nil {
			latest[k] = map[string]string{}
		}
		latest[k][voter] = vote
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cgoguard: read votes: %w", err)
	}
	out := make(map[CheckKey]hub.Votes, len(latest))
	for k, byVoter := range latest {
		var v hub.Votes
		for _, vote := range byVoter {
			switch vote {
			case hub.VoteUseful:
				v.Useful++
			case hub.VoteNoisy:
				v.Noisy++
			}
		}
		out[k] = v
	}
	return out, nil
}

// CatchTime is when a check first ran and last failed (zero: never).
type CatchTime struct{ FirstSeen, LastCatch time.Time }

func (s *sqlStore) CatchTimes(ctx context.Context) (map[CheckKey]CatchTime, error) {
	rows, err := s.r.QueryContext(ctx, qCatchTimes)
	if err != nil {
		return nil, fmt.Errorf("cgoguard: read check history: %w", err)
	}
	defer rows.Close()
	out := map[CheckKey]CatchTime{}
	for rows.Next() {
		var k CheckKey
		var first, last int64
		if err := rows.Scan(&k.Checklist, &k.Check, &first, &last); err != nil {
			return nil, fmt.Errorf("cgoguard: read check history: %w", err)
		}
		ct := CatchTime{FirstSeen: fromNS(first)}
		if last != 0 {
			ct.LastCatch = fromNS(last)
		}
		out[k] = ct
	}
	return out, rows.Err()
}
