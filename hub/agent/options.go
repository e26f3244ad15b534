package agent

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/hub/client"
)

// Option configures an Agent. The defaults are set in one place,
// defaults below.
type Option func(*options)

type options struct {
	token        string
	name         string
	http         *http.Client
	clones       map[string]string
	defaultClone string
	workspace    string
	cacheDir     string
	wait         time.Duration
	parallel     int
	vet          []string
	runner       []checklist.Option
	keep         bool
	log          func(format string, args ...any)
}

func defaults() options {
	host, _ := os.Hostname()
	vet := []string{"cgoguard"}
	if exe, err := os.Executable(); err == nil && strings.HasPrefix(filepath.Base(exe), "cgoguard") && !strings.HasSuffix(exe, ".test") {
		vet = []string{exe}
	}
	return options{
		name:      fmt.Sprintf("%s:%d", host, os.Getpid()),
		http:      &http.Client{Timeout: 2 * time.Minute},
		clones:    map[string]string{},
		workspace: filepath.Join(os.TempDir(), "cgoguard-agent"),
		cacheDir:  client.DefaultCacheDir(),
		wait:      25 * time.Second,
		parallel:  max(runtime.GOMAXPROCS(0)/2, 1),
		vet:       vet,
	}
}

func (o *options) logf(format string, args ...any) {
	if o.log != nil {
		o.log(format, args...)
	}
}

// WithToken sets the runner token. Default none (the hub refuses).
func WithToken(tok string) Option { return func(o *options) { o.token = tok } }

// WithName names the agent on the hub's queue page. Default host:pid.
func WithName(name string) Option {
	return func(o *options) {
		if name != "" {
			o.name = name
		}
	}
}

// WithHTTPClient sets the HTTP client; its timeout must exceed the long
// poll. Default: a client with a 2 minute timeout.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) {
		if c != nil {
			o.http = c
		}
	}
}

// WithClone names the local clone of a repository ("owner/name" or
// "github:owner/name"); with repo empty, the clone of every repository
// without its own. Workspaces are shared clones of it; commits it lacks
// are fetched from its origin remote. No default: at least one is needed.
func WithClone(repo, dir string) Option {
	return func(o *options) {
		if repo == "" {
			o.defaultClone = dir
		} else {
			o.clones[repo] = dir
		}
	}
}

// WithWorkspace sets the directory where each request's commit is checked
// out (removed after the run). Default $TMPDIR/cgoguard-agent.
func WithWorkspace(dir string) Option {
	return func(o *options) {
		if dir != "" {
			o.workspace = dir
		}
	}
}

// WithKeepWorkspaces keeps each run's checkout (for debugging). Default
// false.
func WithKeepWorkspaces(on bool) Option { return func(o *options) { o.keep = on } }

// WithCache sets where fetched checklists are cached. Default
// client.DefaultCacheDir().
func WithCache(dir string) Option {
	return func(o *options) {
		if dir != "" {
			o.cacheDir = dir
		}
	}
}

// WithWait sets how long one lease request waits for work (the hub caps
// it). Default 25 s.
func WithWait(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.wait = d
		}
	}
}

// WithParallelism sets how many checks run at once. Default half the
// CPUs, at least 1.
func WithParallelism(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.parallel = n
		}
	}
}

// WithVetCommand sets the argv prefix of the vet kind. Default this
// executable when it is cgoguard, else "cgoguard".
func WithVetCommand(argv ...string) Option {
	return func(o *options) {
		if len(argv) > 0 {
			o.vet = argv
		}
	}
}

// WithRunnerOptions adds options of the checklist runner (environment,
// evidence limit, redactions).
func WithRunnerOptions(opts ...checklist.Option) Option {
	return func(o *options) { o.runner = append(o.runner, opts...) }
}

// WithLog receives a line per lease, run, renewal problem and completion.
// Default: silent.
func WithLog(f func(format string, args ...any)) Option { return func(o *options) { o.log = f } }
