package server

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cgoguard/cgoguard/hub"
	"github.com/cgoguard/cgoguard/hub/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Server is the hub's HTTP handler: the JSON API, the pages, /metrics,
// /healthz and /readyz. It is safe for concurrent use.
type Server struct {
	st      store.Store
	o       options
	key     []byte // signs sessions and CSRF tokens; shared through the store
	handler http.Handler
	pages   *pages
	metrics *httpMetrics
	names   struct {
		mu   sync.Mutex
		at   time.Time
		list []string
	}
	// queued is closed and replaced when this hub queues a run request,
	// waking the agents' long polls.
	queued struct {
		sync.Mutex
		ch chan struct{}
	}
	sweep struct {
		sync.Mutex
		at time.Time
	}
	catches struct {
		sync.Mutex
		at time.Time
		m  map[store.CheckKey]store.CatchTime
	}
	patterns []string // the routes, for tests
}

// New returns a server over st. It reads (creating on first use) the
// signing key that every hub on the same database shares.
func New(ctx context.Context, st store.Store, opts ...Option) (*Server, error) {
	o := defaults()
	for _, opt := range opts {
		opt(&o)
	}
	if o.registry == nil {
		o.registry = prometheus.NewRegistry()
		o.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	key, err := st.Key(ctx, "session")
	if err != nil {
		return nil, err
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	s := &Server{st: st, o: o, key: key, pages: p}
	s.queued.ch = make(chan struct{})
	s.metrics = newHTTPMetrics(o.registry)
	if err := o.registry.Register(newFeedback(st, o.metricsWindow, o.now)); err != nil {
		return nil, fmt.Errorf("cgoguard: register hub metrics: %w", err)
	}
	s.handler = s.routes()
	return s, nil
}

// ServeHTTP serves the hub.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern, name string, h http.HandlerFunc) {
		s.patterns = append(s.patterns, pattern)
		mux.Handle(pattern, s.metrics.instrument(name, h))
	}
	handle("GET /healthz", "healthz", s.healthz)
	handle("GET /readyz", "readyz", s.readyz)
	var metrics http.Handler = promhttp.HandlerFor(s.o.registry, promhttp.HandlerOpts{ErrorLog: nil, Registry: s.o.registry})
	if s.o.metricsAuth {
		metrics = s.tokenOnly(metrics)
	}
	mux.Handle("GET /metrics", s.metrics.instrument("metrics", metrics))
	static, _ := fs.Sub(staticFS, "static")
	handle("GET /static/", "static", http.StripPrefix("/static/", staticHandler(static)).ServeHTTP)

	// The JSON API.
	handle("POST /api/v1/runs", "api_runs_post", s.api(hub.ActionUpload, s.postRun))
	handle("GET /api/v1/runs", "api_runs", s.api(hub.ActionRead, s.getRuns))
	handle("GET /api/v1/runs/{id}", "api_run", s.api(hub.ActionRead, s.getRun))
	handle("GET /api/v1/checks", "api_checks", s.api(hub.ActionRead, s.getChecks))
	handle("GET /api/v1/checks/{checklist}/{check}/trend", "api_trend", s.api(hub.ActionRead, s.getTrend))
	handle("GET /api/v1/waivers", "api_waivers", s.api(hub.ActionRead, s.getWaivers))
	handle("GET /api/v1/tokens", "api_tokens", s.api(hub.ActionManageTokens, s.getTokens))
	handle("POST /api/v1/tokens", "api_tokens_post", s.api(hub.ActionManageTokens, s.postToken))
	handle("DELETE /api/v1/tokens/{name}", "api_tokens_delete", s.api(hub.ActionManageTokens, s.deleteToken))

	// Checklist versions and their review.
	handle("POST /api/v1/checklists", "api_checklists_post", s.api(hub.ActionWriteChecklist, s.postChecklist))
	handle("GET /api/v1/checklists", "api_checklists", s.api(hub.ActionRead, s.getChecklists))
	handle("GET /api/v1/checklists/{name}", "api_checklist", s.api(hub.ActionRead, s.getChecklist))
	handle("GET /api/v1/checklists/{name}/active", "api_checklist_active", s.api(hub.ActionRead, s.getDocument))
	handle("GET /api/v1/checklists/{name}/versions/{n}", "api_version", s.api(hub.ActionRead, s.getVersion))
	handle("GET /api/v1/checklists/{name}/versions/{n}/document", "api_version_document", s.api(hub.ActionRead, s.getDocument))
	handle("POST /api/v1/checklists/{name}/versions/{n}/approve", "api_version_approve", s.api(hub.ActionApproveChecklist, s.review(true)))
	handle("POST /api/v1/checklists/{name}/versions/{n}/reject", "api_version_reject", s.api(hub.ActionApproveChecklist, s.review(false)))
	handle("POST /api/v1/waivers", "api_waivers_post", s.api(hub.ActionWaive, s.postWaiver))
	handle("DELETE /api/v1/waivers/{checklist}/{check}", "api_waivers_delete", s.api(hub.ActionWaive, s.deleteWaiver))
	handle("GET /api/v1/checks/{checklist}/{check}/votes", "api_votes", s.api(hub.ActionRead, s.getVotes))
	handle("POST /api/v1/checks/{checklist}/{check}/votes", "api_votes_post", s.api(hub.ActionVote, s.postVote))
	handle("GET /api/v1/audit", "api_audit", s.api(hub.ActionReadAudit, s.getAudit))

	// Pull and merge request comments, and the agents' queue.
	handle("POST /api/v1/hooks/github", "api_hook_github", s.githubHook)
	handle("POST /api/v1/hooks/gitlab", "api_hook_gitlab", s.gitlabHook)
	handle("GET /api/v1/queue", "api_queue", s.api(hub.ActionRead, s.getQueue))
	handle("GET /api/v1/queue/{id}", "api_queue_request", s.api(hub.ActionRead, s.getRequest))
	handle("POST /api/v1/queue/lease", "api_queue_lease", s.api(hub.ActionRunQueue, s.postLease))
	handle("POST /api/v1/queue/{id}/renew", "api_queue_renew", s.api(hub.ActionRunQueue, s.postRenew))
	handle("POST /api/v1/queue/{id}/complete", "api_queue_complete", s.api(hub.ActionRunQueue, s.postComplete))
	handle("/api/", "api_unknown", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API endpoint: "+r.Method+" "+r.URL.Path)
	})

	// The pages.
	handle("GET /{$}", "page_root", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/runs", http.StatusFound)
	})
	handle("GET /login", "page_login", s.loginPage)
	handle("POST /login", "page_login_post", s.form(s.login))
	handle("POST /logout", "page_logout", s.form(s.logout))
	handle("GET /runs", "page_runs", s.page(hub.ActionRead, s.runsPage))
	handle("GET /runs/{id}", "page_run", s.page(hub.ActionRead, s.runPage))
	handle("GET /runs/{id}/checks/{pos}/{stream}", "page_evidence", s.page(hub.ActionRead, s.evidenceDownload))
	handle("GET /checks", "page_checks", s.page(hub.ActionRead, s.checksPage))
	handle("GET /checks/{checklist}/{check}", "page_check", s.page(hub.ActionRead, s.checkPage))
	handle("GET /flaky", "page_flaky", s.page(hub.ActionRead, s.flakyPage))
	handle("GET /slowest", "page_slowest", s.page(hub.ActionRead, s.slowestPage))
	handle("GET /waivers", "page_waivers", s.page(hub.ActionRead, s.waiversPage))
	handle("GET /admin/tokens", "page_tokens", s.page(hub.ActionManageTokens, s.tokensPage))
	handle("POST /admin/tokens", "page_tokens_post", s.form(s.page(hub.ActionManageTokens, s.createTokenForm)))
	handle("POST /admin/tokens/revoke", "page_tokens_revoke", s.form(s.page(hub.ActionManageTokens, s.revokeTokenForm)))
	handle("GET /admin/audit", "page_audit", s.page(hub.ActionReadAudit, s.auditPage))
	handle("GET /checklists", "page_checklists", s.page(hub.ActionRead, s.checklistsPage))
	handle("POST /checklists", "page_checklists_post", s.form(s.page(hub.ActionWriteChecklist, s.uploadChecklistForm)))
	handle("GET /checklists/{name}", "page_checklist", s.page(hub.ActionRead, s.checklistPage))
	handle("GET /checklists/{name}/versions/{n}", "page_version", s.page(hub.ActionRead, s.versionPage))
	handle("POST /checklists/{name}/versions/{n}/review", "page_version_review", s.form(s.page(hub.ActionApproveChecklist, s.reviewForm)))
	handle("POST /checks/{checklist}/{check}/vote", "page_vote", s.form(s.page(hub.ActionVote, s.voteForm)))
	handle("POST /waivers", "page_waivers_post", s.form(s.page(hub.ActionWaive, s.grantWaiverForm)))
	handle("POST /waivers/lift", "page_waivers_lift", s.form(s.page(hub.ActionWaive, s.liftWaiverForm)))
	handle("GET /retire", "page_retire", s.page(hub.ActionRead, s.retirePage))
	handle("GET /queue", "page_queue", s.page(hub.ActionRead, s.queuePage))

	// Browsers' cross-origin state-changing requests are refused before
	// anything else runs (Sec-Fetch-Site / Origin); forms also carry a
	// CSRF token (see form).
	cop := http.NewCrossOriginProtection()
	return securityHeaders(cop.Handler(mux))
}

// securityHeaders forbids scripts, framing and content sniffing on every
// response: the pages need no JavaScript at all.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

func staticHandler(f fs.FS) http.Handler {
	fsrv := http.FileServerFS(f)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fsrv.ServeHTTP(w, r)
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.st.Ping(ctx); err != nil {
		s.o.logger.Warn("readyz: database unreachable", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "database unreachable (%s)\n", s.st.Backend())
		return
	}
	fmt.Fprintf(w, "ok (%s)\n", s.st.Backend())
}

// ListenAndServe serves s on addr until ctx is done, then shuts down
// gracefully (in-flight uploads finish, at most 10 s). ready, when not
// nil, is called with the bound address once the listener is open.
func (s *Server) ListenAndServe(ctx context.Context, addr string, ready func(net.Addr)) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("cgoguard: hub listen: %w", err)
	}
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	if ready != nil {
		ready(l.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}
