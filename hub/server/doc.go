// Package server is the hub's HTTP side: the JSON API that stores and
// reads runs, the server-rendered pages (runs, run detail with evidence,
// per-check trends, flaky, slowest, waivers, tokens), /metrics,
// /healthz and /readyz.
//
// API (every response is JSON; errors are {"error": "..."}):
//
//	POST   /api/v1/runs                    store a run (role runner or admin); 201 created,
//	                                       200 duplicate, 400 bad input, 409 id reused, 413 too big
//	GET    /api/v1/runs?repo=&branch=&outcome=&checklist=&since=&limit=&cursor=
//	GET    /api/v1/runs/{id}               the run with all checks and evidence
//	GET    /api/v1/checks?checklist=&repo=&branch=&window=30d
//	GET    /api/v1/checks/{checklist}/{check}/trend?window=30d&bucket=1d
//	GET    /api/v1/waivers?window=30d
//	GET    /api/v1/tokens, POST /api/v1/tokens, DELETE /api/v1/tokens/{name}   (admin)
//	POST   /api/v1/checklists              upload a checklist version (author); 400 lists problems with line and column
//	GET    /api/v1/checklists[/{name}[/versions/{n}]]
//	GET    /api/v1/checklists/{name}/active, /versions/{n}/document   an approved version for --from-hub, with ETag
//	POST   /api/v1/checklists/{name}/versions/{n}/approve, /reject    (reviewer, never the version's author)
//	POST   /api/v1/waivers, DELETE /api/v1/waivers/{checklist}/{check} (reviewer)
//	GET    /api/v1/checks/{checklist}/{check}/votes, POST … (any signed-in role)
//	POST   /api/v1/hooks/github (X-Hub-Signature-256), /api/v1/hooks/gitlab (X-Gitlab-Token)
//	GET    /api/v1/queue[/{id}]; POST /api/v1/queue/lease, /{id}/renew, /{id}/complete (runner)
//	GET    /api/v1/audit?actor=&action=&target=&outcome=&since=&until=   (admin)
//
// Checklist versions are reviewed (a reviewer other than the author
// approves; the version approved last is active), fetched by
// `cgoguard check --from-hub` and by agents. Forge webhooks turn
// `/checklist run` comments into run requests that agents lease, renew
// and complete once (a delivery is accepted once by its delivery id and
// once by the SHA-256 of its payload); the hub posts a summary comment on
// the forge. Each
// check has a value card (WithCardRules). Every write, and every refused
// write, is in the store's append-only audit log with who, what, when and
// from where.
//
// Security: writes need a bearer token whose role may write (401 without
// a valid token, 403 with a role that may not); reads need one too unless
// WithAuthReads(false). Browsers log in with a token and get a signed
// session cookie that authorizes reads and the pages' forms only; every
// form carries a CSRF token, and cross-origin state-changing requests are
// refused. Pages use no JavaScript and are served with a
// Content-Security-Policy that forbids scripts; everything uploaded is
// escaped by html/template. Bodies are capped (WithMaxBody) and evidence
// per check is cut to WithEvidenceCap with a marker.
//
// Example:
//
//	st, err := store.Open(ctx, "cgoguard-hub.db")
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer st.Close()
//	srv, err := server.New(ctx, st, server.WithAuthReads(true))
//	if err != nil {
//		log.Fatal(err)
//	}
//	log.Fatal(srv.ListenAndServe(ctx, "127.0.0.1:8420", func(a net.Addr) {
//		log.Printf("listening on http://%s", a)
//	}))
//
// Concurrency: a Server is safe for concurrent use; several servers may
// share one PostgreSQL database (they share its signing key and tokens).
package server
