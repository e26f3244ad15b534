package store

// Migration is one step of the schema. Steps are applied in order, each
// in the transaction that records it, when a hub starts; a database whose
// newest step is not in this binary's list is refused (ErrSchemaTooNew).
//
// To change the schema, append a step with the next version: never edit
// or reorder a released one. Write portable SQL in SQL (TEXT, BIGINT,
// INTEGER, DOUBLE PRECISION, partial indexes and ON CONFLICT work on both
// backends); put a backend's own form in SQLite or Postgres when they must
// differ.
type Migration struct {
	Version int
	Name    string
	// SQL runs on both backends unless overridden below.
	SQL string
	// SQLite, when set, replaces SQL on SQLite.
	SQLite string
	// Postgres, when set, replaces SQL on PostgreSQL.
	Postgres string
}

// Times are Unix nanoseconds (BIGINT) on both backends so that windows
// and buckets are integer arithmetic with the same results; booleans are
// INTEGER 0/1.
var migrations = []Migration{
	{
		Version: 1,
		Name:    "runs, check results, tokens and keys",
		SQL: `
CREATE TABLE settings (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

CREATE TABLE tokens (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL,
	role        TEXT NOT NULL,
	secret_hash TEXT NOT NULL,
	created_ns  BIGINT NOT NULL,
	revoked_ns  BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX tokens_active_name ON tokens (name) WHERE revoked_ns = 0;

CREATE TABLE runs (
	id          TEXT PRIMARY KEY,
	digest      TEXT NOT NULL,
	checklist   TEXT NOT NULL,
	repo        TEXT NOT NULL,
	branch      TEXT NOT NULL,
	commit_sha  TEXT NOT NULL,
	job_url     TEXT NOT NULL,
	host        TEXT NOT NULL,
	ci          TEXT NOT NULL,
	env         TEXT NOT NULL,
	files       TEXT NOT NULL,
	packages    TEXT NOT NULL,
	started_ns  BIGINT NOT NULL,
	received_ns BIGINT NOT NULL,
	duration_s  DOUBLE PRECISION NOT NULL,
	outcome     TEXT NOT NULL,
	n_checks    INTEGER NOT NULL,
	n_pass      INTEGER NOT NULL,
	n_fail      INTEGER NOT NULL,
	n_timeout   INTEGER NOT NULL,
	n_error     INTEGER NOT NULL,
	n_skip      INTEGER NOT NULL,
	n_waived    INTEGER NOT NULL,
	n_flaky     INTEGER NOT NULL,
	uploaded_by TEXT NOT NULL
);
CREATE INDEX runs_started ON runs (started_ns, id);
CREATE INDEX runs_repo_branch ON runs (repo, branch, started_ns, id);
CREATE INDEX runs_branch ON runs (branch, started_ns, id);
CREATE INDEX runs_checklist ON runs (checklist, started_ns, id);

CREATE TABLE check_results (
	run_id         TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	position       INTEGER NOT NULL,
	checklist      TEXT NOT NULL,
	check_id       TEXT NOT NULL,
	started_ns     BIGINT NOT NULL,
	title          TEXT NOT NULL,
	severity       TEXT NOT NULL,
	kind           TEXT NOT NULL,
	prevents       TEXT NOT NULL,
	fix            TEXT NOT NULL,
	file           TEXT NOT NULL,
	line           INTEGER NOT NULL,
	outcome        TEXT NOT NULL,
	message        TEXT NOT NULL,
	attempts       INTEGER NOT NULL,
	duration_s     DOUBLE PRECISION NOT NULL,
	command        TEXT NOT NULL,
	exit_code      INTEGER NOT NULL,
	stdout         TEXT NOT NULL,
	stderr         TEXT NOT NULL,
	truncated      INTEGER NOT NULL,
	findings       TEXT NOT NULL,
	tests          TEXT NOT NULL,
	has_waiver     INTEGER NOT NULL,
	waiver_reason  TEXT NOT NULL,
	waiver_expires TEXT NOT NULL,
	PRIMARY KEY (run_id, position)
);
CREATE INDEX check_results_check ON check_results (checklist, check_id, started_ns);
CREATE INDEX check_results_started ON check_results (started_ns);
`,
	},
	{
		Version: 2,
		Name:    "checklist versions and reviews, hub waivers, votes, run requests, webhook deliveries, audit log",
		SQLite: `
ALTER TABLE runs ADD COLUMN checklist_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN source TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN request_id TEXT NOT NULL DEFAULT '';
` + flowTables + `
CREATE TABLE audit_log (
	seq       INTEGER PRIMARY KEY AUTOINCREMENT,
	at_ns     BIGINT NOT NULL,
	actor     TEXT NOT NULL,
	role      TEXT NOT NULL,
	from_addr TEXT NOT NULL,
	action    TEXT NOT NULL,
	target    TEXT NOT NULL,
	outcome   TEXT NOT NULL,
	detail    TEXT NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'cgoguard: the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'cgoguard: the audit log is append-only'); END;
`,
		Postgres: `
ALTER TABLE runs ADD COLUMN checklist_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN source TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN request_id TEXT NOT NULL DEFAULT '';
` + flowTables + `
CREATE TABLE audit_log (
	seq       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at_ns     BIGINT NOT NULL,
	actor     TEXT NOT NULL,
	role      TEXT NOT NULL,
	from_addr TEXT NOT NULL,
	action    TEXT NOT NULL,
	target    TEXT NOT NULL,
	outcome   TEXT NOT NULL,
	detail    TEXT NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'cgoguard: the audit log is append-only'; END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
`,
	},
}

// flowTables are the portable tables of migration 2.
const flowTables = `
CREATE TABLE checklists (
	name           TEXT PRIMARY KEY,
	active_version INTEGER NOT NULL DEFAULT 0,
	latest_version INTEGER NOT NULL,
	updated_ns     BIGINT NOT NULL
);

CREATE TABLE checklist_versions (
	name        TEXT NOT NULL,
	version     INTEGER NOT NULL,
	yaml        TEXT NOT NULL,
	digest      TEXT NOT NULL,
	author      TEXT NOT NULL,
	created_ns  BIGINT NOT NULL,
	state       TEXT NOT NULL,
	reviewer    TEXT NOT NULL DEFAULT '',
	reviewed_ns BIGINT NOT NULL DEFAULT 0,
	comment     TEXT NOT NULL DEFAULT '',
	n_checks    INTEGER NOT NULL,
	description TEXT NOT NULL,
	diff        TEXT NOT NULL,
	PRIMARY KEY (name, version)
);

CREATE TABLE hub_waivers (
	checklist  TEXT NOT NULL,
	check_id   TEXT NOT NULL,
	reason     TEXT NOT NULL,
	expires    TEXT NOT NULL,
	granted_by TEXT NOT NULL,
	created_ns BIGINT NOT NULL,
	PRIMARY KEY (checklist, check_id)
);

CREATE TABLE votes (
	checklist TEXT NOT NULL,
	check_id  TEXT NOT NULL,
	voter     TEXT NOT NULL,
	role      TEXT NOT NULL,
	vote      TEXT NOT NULL,
	comment   TEXT NOT NULL,
	at_ns     BIGINT NOT NULL
);
CREATE INDEX votes_check ON votes (checklist, check_id, at_ns);

CREATE TABLE webhook_deliveries (
	forge       TEXT NOT NULL,
	delivery    TEXT NOT NULL,
	received_ns BIGINT NOT NULL,
	PRIMARY KEY (forge, delivery)
);

CREATE TABLE run_requests (
	id               TEXT PRIMARY KEY,
	forge            TEXT NOT NULL,
	repo             TEXT NOT NULL,
	number           INTEGER NOT NULL,
	head             TEXT NOT NULL,
	head_ref         TEXT NOT NULL,
	checks           TEXT NOT NULL,
	checklist        TEXT NOT NULL,
	comment_id       TEXT NOT NULL,
	delivery         TEXT NOT NULL,
	requested_by     TEXT NOT NULL,
	state            TEXT NOT NULL,
	attempts         INTEGER NOT NULL DEFAULT 0,
	lease_owner      TEXT NOT NULL DEFAULT '',
	lease_token      TEXT NOT NULL DEFAULT '',
	lease_expires_ns BIGINT NOT NULL DEFAULT 0,
	created_ns       BIGINT NOT NULL,
	updated_ns       BIGINT NOT NULL,
	run_id           TEXT NOT NULL DEFAULT '',
	error            TEXT NOT NULL DEFAULT '',
	comment_state    TEXT NOT NULL DEFAULT '',
	comment_url      TEXT NOT NULL DEFAULT '',
	comment_error    TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX run_requests_comment ON run_requests (forge, repo, comment_id);
CREATE INDEX run_requests_state ON run_requests (state, created_ns, id);
`
