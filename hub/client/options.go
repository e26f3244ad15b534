package client

import (
	"net/http"
	"time"
)

// Option configures a Client. The defaults are set in one place, defaults
// below.
type Option func(*options)

type options struct {
	token        string
	http         *http.Client
	attempts     int
	backoff      time.Duration
	maxBackoff   time.Duration
	spoolDir     string
	cacheDir     string
	fetchTimeout time.Duration
	log          func(format string, args ...any)
}

func defaults() options {
	return options{
		http:       &http.Client{Timeout: 60 * time.Second},
		attempts:   4,
		backoff:    500 * time.Millisecond,
		maxBackoff: 10 * time.Second,

		cacheDir:     DefaultCacheDir(),
		fetchTimeout: 15 * time.Second,
	}
}

// WithCache sets where FetchChecklist caches checklists (one
// subdirectory per hub URL). Default DefaultCacheDir().
func WithCache(dir string) Option {
	return func(o *options) {
		if dir != "" {
			o.cacheDir = dir
		}
	}
}

// WithFetchTimeout bounds one FetchChecklist request; past it the cached
// copy runs. Default 15 s.
func WithFetchTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.fetchTimeout = d
		}
	}
}

// WithToken sets the bearer token (a runner or admin token). Default none.
func WithToken(tok string) Option { return func(o *options) { o.token = tok } }

// WithHTTPClient sets the HTTP client. Default: a client with a 60 s
// timeout per request.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) {
		if c != nil {
			o.http = c
		}
	}
}

// WithRetry sets the attempts per upload (at least 1) and the first
// backoff, which doubles per attempt up to 10 s with jitter. Default 4
// attempts from 500 ms (about 3.5 s of waiting in all).
func WithRetry(attempts int, backoff time.Duration) Option {
	return func(o *options) {
		o.attempts = max(attempts, 1)
		if backoff > 0 {
			o.backoff = backoff
		}
	}
}

// WithSpool keeps failed uploads as files under dir (one subdirectory per
// hub URL), sent by the next Deliver or Flush. Default: no spool; the CLI
// uses DefaultSpoolDir.
func WithSpool(dir string) Option { return func(o *options) { o.spoolDir = dir } }

// WithLog receives a line for each retry and each spooled or flushed run.
// Default: silent.
func WithLog(f func(format string, args ...any)) Option { return func(o *options) { o.log = f } }
