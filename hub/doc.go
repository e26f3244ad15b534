// Package hub keeps the history of checklist runs: which checks fail
// where, since when, how long they take, which pass only on retry, which
// are skipped, and the evidence of each.
//
// This package holds what the hub's parts share: the upload format
// (Upload, decoded and checked by Decode into a Run), the read models of
// the API (RunPage, CheckStats, Trend, WaiverInfo, Token), the roles and
// the one table of what each may do (Role.Can), the sentinel errors, and
// the workflow types: checklist versions (ValidateChecklist,
// ChecklistVersion, ChecklistDocument, Waiver), run requests from forge
// comments (ParseCommand, RunRequest, Lease, Completion), value cards
// (CardRules, Card) and the audit log (Actor, AuditEntry).
// The parts are:
//
//   - hub/store: SQLite (embedded, pure Go, WAL) and PostgreSQL storage
//     behind one interface, one migration list, constant SQL only.
//   - hub/server: the JSON API, the server-rendered pages, /metrics,
//     /healthz and /readyz.
//   - hub/client: uploads with retries and a spool, used by
//     `cgoguard check --report-to` and `cgoguard hub push`; checklist
//     versions fetched with an ETag cache for `cgoguard check --from-hub`.
//   - hub/agent: `cgoguard agent`, which leases and runs the requests
//     queued from `/checklist run` comments.
//
// The CLI runs it all as `cgoguard hub`; see docs/hub.md.
//
// Example: decoding an upload as the server does.
//
//	run, err := hub.Decode(body, hub.DecodeOptions{EvidenceCap: 64 << 10})
//	switch {
//	case errors.Is(err, hub.ErrUnknownFormat):
//		// a newer client: 400 with the message
//	case err != nil:
//		// malformed or invalid: 400, err lists every problem
//	}
//	fmt.Println(run.ID, run.Outcome, run.Counts.Fail, run.Digest)
//
// Concurrency: the functions of this package are safe for concurrent use;
// the types are plain data.
package hub
