package server

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cgoguard/cgoguard/hub"
)

// Option configures a Server. The defaults are set in one place,
// defaults below.
type Option func(*options)

type options struct {
	metricsAuth   bool // /metrics needs a token
	authReads     bool
	maxBody       int64
	evidenceCap   int
	metricsWindow time.Duration
	statsWindow   time.Duration
	secureCookies bool
	logger        *slog.Logger
	registry      *prometheus.Registry
	now           func() time.Time

	githubSecret     string
	gitlabToken      string
	repos            map[string]RepoRule // "forge:repo"
	defaultChecklist string
	forges           map[string]Forge
	forgeHTTP        *http.Client
	publicURL        string
	cardRules        hub.CardRules
	leaseTTL         time.Duration
	maxAttempts      int
	longPoll         time.Duration
	trustedAuthors   []string
}

// RepoRule allows a repository to queue runs from pull or merge request
// comments, and names the checklist that runs for it.
type RepoRule struct {
	// Forge is hub.ForgeGitHub or hub.ForgeGitLab.
	Forge string
	// Repo is "owner/name" (GitHub) or the project path (GitLab).
	Repo string
	// Checklist runs for it; empty means the default checklist.
	Checklist string
}

// ParseRepoRule parses "github:owner/name", "gitlab:group/project" or
// either followed by "=CHECKLIST".
func ParseRepoRule(s string) (RepoRule, error) {
	spec, cl, _ := strings.Cut(s, "=")
	forge, repo, ok := strings.Cut(spec, ":")
	if !ok || (forge != hub.ForgeGitHub && forge != hub.ForgeGitLab) || repo == "" || strings.ContainsAny(repo, " \t") {
		return RepoRule{}, fmt.Errorf("cgoguard: allowed repository %q must be github:OWNER/NAME or gitlab:GROUP/PROJECT, optionally =CHECKLIST", s)
	}
	return RepoRule{Forge: forge, Repo: repo, Checklist: cl}, nil
}

// Forge is where the hub posts a request's summary comment.
type Forge struct {
	// APIURL is the forge's API base URL: https://api.github.com, or
	// https://gitlab.example/api/v4 (GitHub Enterprise and self-managed
	// GitLab have their own).
	APIURL string
	// Token authenticates the hub to the API (a GitHub token with
	// pull-requests write, a GitLab token with api scope).
	Token string
}

// Default forge API base URLs.
const (
	DefaultGitHubAPI = "https://api.github.com"
	DefaultGitLabAPI = "https://gitlab.com/api/v4"
)

// Defaults of the options.
const (
	// DefaultMaxBody caps a request body: 32 MiB.
	DefaultMaxBody = 32 << 20
	// DefaultMetricsWindow is the sliding window of the feedback metrics.
	DefaultMetricsWindow = 7 * 24 * time.Hour
	// DefaultStatsWindow is the window of the check pages and the checks API.
	DefaultStatsWindow = 30 * 24 * time.Hour
)

func defaults() options {
	return options{
		authReads:     true,
		maxBody:       DefaultMaxBody,
		evidenceCap:   hub.DefaultEvidenceCap,
		metricsWindow: DefaultMetricsWindow,
		statsWindow:   DefaultStatsWindow,
		logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		now:           time.Now,

		repos:            map[string]RepoRule{},
		defaultChecklist: DefaultChecklist,
		forges: map[string]Forge{
			hub.ForgeGitHub: {APIURL: DefaultGitHubAPI},
			hub.ForgeGitLab: {APIURL: DefaultGitLabAPI},
		},
		forgeHTTP:      &http.Client{Timeout: 30 * time.Second},
		cardRules:      hub.DefaultCardRules(),
		leaseTTL:       DefaultLeaseTTL,
		maxAttempts:    DefaultMaxAttempts,
		longPoll:       DefaultLongPoll,
		trustedAuthors: []string{"OWNER", "MEMBER", "COLLABORATOR"},
	}
}

// Defaults of the run-request options.
const (
	// DefaultChecklist is the checklist a request runs when its
	// repository names none: the shipped one.
	DefaultChecklist = "cgo-reliability"
	// DefaultLeaseTTL is how long a lease lasts without renewal.
	DefaultLeaseTTL = time.Minute
	// DefaultMaxAttempts bounds the leases of one request.
	DefaultMaxAttempts = 3
	// DefaultLongPoll is how long a lease request waits for work.
	DefaultLongPoll = 25 * time.Second
)

// WithGitHubWebhook sets the secret of the GitHub webhook
// (POST /api/v1/hooks/github). Default none: the endpoint answers 404.
func WithGitHubWebhook(secret string) Option { return func(o *options) { o.githubSecret = secret } }

// WithGitLabWebhook sets the secret token of the GitLab webhook
// (POST /api/v1/hooks/gitlab). Default none: the endpoint answers 404.
func WithGitLabWebhook(token string) Option { return func(o *options) { o.gitlabToken = token } }

// WithRepos allows repositories to queue runs from comments. Default
// none: every webhook event is refused as from an unknown repository.
func WithRepos(rules ...RepoRule) Option {
	return func(o *options) {
		for _, r := range rules {
			o.repos[r.Forge+":"+r.Repo] = r
		}
	}
}

// WithDefaultChecklist names the checklist a request runs when its
// repository's rule names none. Default DefaultChecklist.
func WithDefaultChecklist(name string) Option {
	return func(o *options) {
		if name != "" {
			o.defaultChecklist = name
		}
	}
}

// WithForge sets the API URL and token of a forge (hub.ForgeGitHub or
// hub.ForgeGitLab) for reading pull requests and posting comments.
// Default: DefaultGitHubAPI and DefaultGitLabAPI without tokens.
func WithForge(name string, f Forge) Option {
	return func(o *options) {
		if f.APIURL == "" {
			f.APIURL = o.forges[name].APIURL
		}
		f.APIURL = strings.TrimRight(f.APIURL, "/")
		o.forges[name] = f
	}
}

// WithForgeHTTPClient sets the HTTP client used to call the forges.
// Default: a client with a 30 s timeout.
func WithForgeHTTPClient(c *http.Client) Option {
	return func(o *options) {
		if c != nil {
			o.forgeHTTP = c
		}
	}
}

// WithPublicURL sets the hub's address as people reach it, for links in
// forge comments (e.g. "https://hub.example"). Default none: comments
// carry run ids without links.
func WithPublicURL(u string) Option {
	return func(o *options) { o.publicURL = strings.TrimRight(u, "/") }
}

// WithCardRules sets the rules of the value cards. Default
// hub.DefaultCardRules().
func WithCardRules(r hub.CardRules) Option { return func(o *options) { o.cardRules = r } }

// WithLeases sets how long an agent's lease lasts without renewal and how
// many leases one request gets before it is failed. Defaults
// DefaultLeaseTTL (1 minute) and DefaultMaxAttempts (3).
func WithLeases(ttl time.Duration, maxAttempts int) Option {
	return func(o *options) {
		if ttl > 0 {
			o.leaseTTL = ttl
		}
		if maxAttempts > 0 {
			o.maxAttempts = maxAttempts
		}
	}
}

// WithLongPoll sets the longest wait of an agent's lease request when
// nothing is queued. Default DefaultLongPoll (25 s).
func WithLongPoll(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.longPoll = d
		}
	}
}

// WithTrustedAuthors sets the GitHub author associations whose
// `/checklist run` comments queue runs. Default OWNER, MEMBER and
// COLLABORATOR: a stranger's comment on a public repository's pull
// request is refused (and logged). A comment without author_association
// counts as COLLABORATOR when GitHub says its author may push to the
// repository (admin, maintain or write permission), else as NONE;
// including NONE here trusts everyone and skips that lookup.
func WithTrustedAuthors(assoc ...string) Option { return func(o *options) { o.trustedAuthors = assoc } }

// WithAuthReads sets whether reading (pages and GET APIs) needs a token.
// Default true; false opens reads to everyone while writes still need a
// token with a role allowed to write.
func WithAuthReads(on bool) Option { return func(o *options) { o.authReads = on } }

// WithMaxBody caps the bytes of a request body; larger uploads get 413.
// Default DefaultMaxBody (32 MiB). Values below 1 KiB are raised to 1 KiB.
func WithMaxBody(n int64) Option {
	return func(o *options) { o.maxBody = max(n, 1<<10) }
}

// WithEvidenceCap bounds the evidence kept per check, in bytes; longer
// evidence is cut and ends with a marker. Default hub.DefaultEvidenceCap
// (256 KiB); negative keeps everything.
func WithEvidenceCap(n int) Option {
	return func(o *options) {
		if n != 0 {
			o.evidenceCap = n
		}
	}
}

// WithMetricsWindow sets the sliding window over which /metrics reports
// the per-check feedback metrics. Default DefaultMetricsWindow (7 days).
func WithMetricsWindow(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.metricsWindow = d
		}
	}
}

// WithStatsWindow sets the default window of the checks pages and of
// GET /api/v1/checks. Default DefaultStatsWindow (30 days).
func WithStatsWindow(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.statsWindow = d
		}
	}
}

// WithSecureCookies marks the session cookies Secure; set it when the hub
// is reached over HTTPS (behind a proxy). Default false, except that a
// request that arrived over TLS always gets Secure cookies.
func WithSecureCookies(on bool) Option { return func(o *options) { o.secureCookies = on } }

// WithLogger sets where the server logs refused requests and storage
// errors. Default: nowhere.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithMetricsAuth makes /metrics need a bearer token of any role (a
// Prometheus scrape config's authorization), whatever WithAuthReads says.
// Default false: /metrics is open, so that a scraper needs no token; its
// labels name checklists and checks, so turn this on when those names are
// not for everyone.
func WithMetricsAuth(on bool) Option { return func(o *options) { o.metricsAuth = on } }

// WithRegistry sets the Prometheus registry served on /metrics; the
// server registers its collectors there. Default: a new registry with
// the Go and process collectors.
func WithRegistry(r *prometheus.Registry) Option { return func(o *options) { o.registry = r } }

// WithClock replaces the clock (windows, waiver expiry, receipt times).
// Default time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}
