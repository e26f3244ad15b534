package store

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go)
)

// schemeRE matches the scheme of a URL-like DSN ("mysql://…").
var schemeRE = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*)://`)

// ParseDSN says which backend a --db DSN names and what to open: "sqlite"
// and a file path, or "postgres" and the URL as given.
//
//   - postgres://… and postgresql://… are PostgreSQL, passed on unchanged.
//   - sqlite:FILE and sqlite://FILE name the SQLite file FILE; a relative
//     FILE is relative to the working directory (sqlite://hub.db is the
//     file hub.db, not a host), so sqlite:///var/lib/hub.db and
//     sqlite:/var/lib/hub.db are absolute.
//   - Any other SCHEME://… is refused with ErrBadDSN naming the DSN (with
//     its password hidden).
//   - Anything else is a SQLite file path, relative to the working
//     directory unless absolute.
//
// The path itself is checked when the database is opened (no '?' or '#',
// no file: URI).
func ParseDSN(dsn string) (backend, target string, err error) {
	if m := schemeRE.FindStringSubmatch(dsn); m != nil {
		switch strings.ToLower(m[1]) {
		case "postgres", "postgresql":
			return "postgres", dsn, nil
		case "sqlite":
			return "sqlite", dsn[len(m[0]):], nil
		}
		return "", "", badDSN("unknown scheme %q in --db %q: give a SQLite file path, sqlite:FILE, sqlite://FILE (relative), sqlite:///ABSOLUTE/PATH or postgres://…",
			m[1], redactDSN(dsn))
	}
	if len(dsn) >= len("sqlite:") && strings.EqualFold(dsn[:len("sqlite:")], "sqlite:") {
		return "sqlite", dsn[len("sqlite:"):], nil
	}
	return "sqlite", dsn, nil
}

// openSQLite opens a SQLite file in WAL mode with full fsync on commit:
// one connection writes (SQLite has one writer; queuing in the pool is
// cheaper than SQLITE_BUSY retries), a few read concurrently.
func openSQLite(path string, o options) (*sqlStore, error) {
	if path == "" {
		return nil, badDSN("empty SQLite path")
	}
	if strings.ContainsAny(path, "?#") {
		return nil, badDSN("SQLite path %q must not contain '?' or '#'", path)
	}
	if strings.HasPrefix(path, "file:") {
		return nil, badDSN("give the SQLite file as a plain path, not a file: URI (%q)", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, badDSN("%v", err)
	}
	busy := fmt.Sprintf("_pragma=busy_timeout(%d)", o.busy.Milliseconds())
	w, err := sql.Open("sqlite", abs+"?"+busy+"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("cgoguard: open sqlite %s: %w", abs, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", abs+"?"+busy+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("cgoguard: open sqlite %s: %w", abs, err)
	}
	r.SetMaxOpenConns(o.maxConns)
	r.SetMaxIdleConns(o.maxConns)
	return &sqlStore{backend: "sqlite", w: w, r: r, where: abs}, nil
}

// openPostgres opens a PostgreSQL database through pgx's database/sql
// driver. Several hubs may share it.
func openPostgres(dsn string, o options) (*sqlStore, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, badDSN("%v", redactDSN(err.Error()))
	}
	// The list queries filter with "($1 = '' OR col = $1)": a plan made
	// for the actual parameters drops the unused filters and walks the
	// index in order; a cached generic plan would scan and sort the table.
	if _, set := cfg.RuntimeParams["plan_cache_mode"]; !set {
		cfg.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(o.maxConns)
	db.SetMaxIdleConns(o.maxConns)
	return &sqlStore{backend: "postgres", w: db, r: db, where: redactDSN(dsn)}, nil
}

// redactDSN hides a password in a PostgreSQL URL for messages.
func redactDSN(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	scheme := strings.Index(dsn, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return dsn
	}
	userinfo := dsn[scheme+3 : at]
	if user, _, ok := strings.Cut(userinfo, ":"); ok {
		return dsn[:scheme+3] + user + ":xxxxx" + dsn[at:]
	}
	return dsn
}
