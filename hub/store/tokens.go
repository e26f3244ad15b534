package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/cgoguard/cgoguard/hub"
)

// A token is "cgh_" + 16 hex characters of id + "_" + 43 characters of
// secret (32 random bytes, base64url). The id finds the row; only the
// SHA-256 of the secret is stored and it is compared in constant time.
const (
	tokenPrefix = "cgh_"
	tokenIDLen  = 16
	secretLen   = 43
	tokenLen    = len(tokenPrefix) + tokenIDLen + 1 + secretLen
)

var tokenName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

const (
	qActiveName  = `SELECT COUNT(*) FROM tokens WHERE name = $1 AND revoked_ns = 0`
	qInsertToken = `INSERT INTO tokens (id, name, role, secret_hash, created_ns, revoked_ns) VALUES ($1, $2, $3, $4, $5, 0)`
	qRevoke      = `UPDATE tokens SET revoked_ns = $1 WHERE name = $2 AND revoked_ns = 0`
	qTokens      = `SELECT id, name, role, created_ns, revoked_ns FROM tokens ORDER BY created_ns, id`
	qTokenByID   = `SELECT id, name, role, created_ns, revoked_ns, secret_hash FROM tokens WHERE id = $1`
)

func (s *sqlStore) CreateToken(ctx context.Context, name string, role hub.Role) (string, hub.Token, error) {
	if !tokenName.MatchString(name) {
		return "", hub.Token{}, &hub.InvalidError{What: "token", Problems: []string{fmt.Sprintf(
			"token name %q must be 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit", name)}}
	}
	if !role.Valid() {
		_, err := hub.ParseRole(string(role))
		return "", hub.Token{}, err
	}
	var idb [tokenIDLen / 2]byte
	var sec [32]byte
	rand.Read(idb[:]) // crypto/rand.Read never fails (Go 1.24+)
	rand.Read(sec[:])
	id := hex.EncodeToString(idb[:])
	secret := base64.RawURLEncoding.EncodeToString(sec[:])
	t := hub.Token{ID: id, Name: name, Role: role, Created: time.Now().UTC()}

	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return "", hub.Token{}, fmt.Errorf("cgoguard: create token: %w", err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, qActiveName, name).Scan(&n); err != nil {
		return "", hub.Token{}, fmt.Errorf("cgoguard: create token: %w", err)
	}
	if n > 0 {
		return "", hub.Token{}, &hub.InvalidError{What: "token", Problems: []string{fmt.Sprintf("an active token is already called %q; revoke it first or pick another name", name)}}
	}
	if _, err := tx.ExecContext(ctx, qInsertToken, id, name, string(role), hashSecret(secret), t.Created.UnixNano()); err != nil {
		return "", hub.Token{}, fmt.Errorf("cgoguard: create token %q: %w", name, err)
	}
	if err := writeAudit(ctx, tx, hub.NewAudit(ctx, hub.AuditTokenCreate, name, hub.AuditOK, "role "+string(role))); err != nil {
		return "", hub.Token{}, err
	}
	if err := tx.Commit(); err != nil {
		return "", hub.Token{}, fmt.Errorf("cgoguard: create token %q: %w", name, err)
	}
	return tokenPrefix + id + "_" + secret, t, nil
}

func (s *sqlStore) RevokeToken(ctx context.Context, name string) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("cgoguard: revoke token %q: %w", name, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, qRevoke, time.Now().UnixNano(), name)
	if err != nil {
		return fmt.Errorf("cgoguard: revoke token %q: %w", name, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("cgoguard: revoke token %q: %w", name, err)
	} else if n == 0 {
		return fmt.Errorf("%w: no active token called %q", hub.ErrNotFound, name)
	}
	if err := writeAudit(ctx, tx, hub.NewAudit(ctx, hub.AuditTokenRevoke, name, hub.AuditOK, "")); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("cgoguard: revoke token %q: %w", name, err)
	}
	return nil
}

func (s *sqlStore) Tokens(ctx context.Context) ([]hub.Token, error) {
	rows, err := s.r.QueryContext(ctx, qTokens)
	if err != nil {
		return nil, fmt.Errorf("cgoguard: list tokens: %w", err)
	}
	defer rows.Close()
	var out []hub.Token
	for rows.Next() {
		var t hub.Token
		var created, revoked int64
		var role string
		if err := rows.Scan(&t.ID, &t.Name, &role, &created, &revoked); err != nil {
			return nil, fmt.Errorf("cgoguard: list tokens: %w", err)
		}
		t.Role, t.Created = hub.Role(role), fromNS(created)
		if revoked != 0 {
			t.Revoked = fromNS(revoked)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// dummyHash is compared against when a token's id is unknown, so that an
// unknown id costs the same work as a wrong secret.
var dummyHash = hashSecret("no-such-token")

func (s *sqlStore) VerifyToken(ctx context.Context, token string) (hub.Token, error) {
	id, secret, ok := splitToken(token)
	if !ok {
		return hub.Token{}, fmt.Errorf("%w: not a cgoguard hub token (cgh_…)", hub.ErrUnauthorized)
	}
	t, stored, err := s.tokenRow(ctx, id)
	if err != nil && !errors.Is(err, hub.ErrUnauthorized) {
		return hub.Token{}, err
	}
	if err != nil {
		stored = dummyHash
	}
	if !secretMatches(secret, stored) || err != nil {
		return hub.Token{}, fmt.Errorf("%w: unknown token", hub.ErrUnauthorized)
	}
	if !t.Active() {
		return hub.Token{}, fmt.Errorf("%w: token %q was revoked", hub.ErrUnauthorized, t.Name)
	}
	return t, nil
}

func (s *sqlStore) TokenByID(ctx context.Context, id string) (hub.Token, error) {
	t, _, err := s.tokenRow(ctx, id)
	if err != nil {
		return hub.Token{}, err
	}
	if !t.Active() {
		return hub.Token{}, fmt.Errorf("%w: token %q was revoked", hub.ErrUnauthorized, t.Name)
	}
	return t, nil
}

func (s *sqlStore) tokenRow(ctx context.Context, id string) (hub.Token, string, error) {
	var t hub.Token
	var created, revoked int64
	var role, hash string
	err := s.r.QueryRowContext(ctx, qTokenByID, id).Scan(&t.ID, &t.Name, &role, &created, &revoked, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return hub.Token{}, "", fmt.Errorf("%w: unknown token", hub.ErrUnauthorized)
	}
	if err != nil {
		return hub.Token{}, "", fmt.Errorf("cgoguard: read token: %w", err)
	}
	t.Role, t.Created = hub.Role(role), fromNS(created)
	if revoked != 0 {
		t.Revoked = fromNS(revoked)
	}
	return t, hash, nil
}

// splitToken parses "cgh_<id>_<secret>" by fixed widths (the base64url
// secret may itself contain '_').
func splitToken(tok string) (id, secret string, ok bool) {
	if len(tok) != tokenLen || tok[:len(tokenPrefix)] != tokenPrefix || tok[len(tokenPrefix)+tokenIDLen] != '_' {
		return "", "", false
	}
	id = tok[len(tokenPrefix) : len(tokenPrefix)+tokenIDLen]
	if _, err := hex.DecodeString(id); err != nil {
		return "", "", false
	}
	return id, tok[len(tokenPrefix)+tokenIDLen+1:], true
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// secretMatches compares the secret's hash with the stored one in
// constant time.
func secretMatches(secret, storedHash string) bool {
	return subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(storedHash)) == 1
}

const (
	qInsertKey = `INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`
	qKey       = `SELECT value FROM settings WHERE name = $1`
)

func (s *sqlStore) Key(ctx context.Context, name string) ([]byte, error) {
	var fresh [32]byte
	rand.Read(fresh[:])
	if _, err := s.w.ExecContext(ctx, qInsertKey, "key:"+name, hex.EncodeToString(fresh[:])); err != nil {
		return nil, fmt.Errorf("cgoguard: key %s: %w", name, err)
	}
	var v string
	if err := s.w.QueryRowContext(ctx, qKey, "key:"+name).Scan(&v); err != nil {
		return nil, fmt.Errorf("cgoguard: key %s: %w", name, err)
	}
	return hex.DecodeString(v)
}
