package checklist

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// Kind carries out one kind of check. Implementations live in package
// checklist/kinds and register themselves with RegisterKind.
type Kind interface {
	// Validate checks the `with` parameters before anything runs.
	Validate(with map[string]any) error
	// Run makes one attempt of the check. It must return when ctx ends,
	// having stopped every process it started.
	Run(ctx context.Context, env *Env, c *Check) Observation
}

var (
	kindsMu sync.RWMutex
	kinds   = map[string]Kind{}
)

// RegisterKind makes a kind available under name; it panics on a second
// registration of the same name.
func RegisterKind(name string, k Kind) {
	kindsMu.Lock()
	defer kindsMu.Unlock()
	if _, dup := kinds[name]; dup {
		panic("cgoguard: check kind registered twice: " + name)
	}
	kinds[name] = k
}

// LookupKind returns the kind registered under name.
func LookupKind(name string) (Kind, bool) {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	k, ok := kinds[name]
	return k, ok
}

// Env is what kinds share during one run: where and on what they act, and
// how evidence is bounded and redacted. Its methods are safe for
// concurrent use.
type Env struct {
	// Dir is the working directory of commands ("" = current).
	Dir string
	// Packages are the Go packages vet, gotest and leak checks act on.
	Packages []string
	// VetCommand is the argv prefix that runs the vet subcommand.
	VetCommand []string
	// Environ is the base environment of commands.
	Environ []string
	// EvidenceLimit bounds each captured stream in bytes.
	EvidenceLimit int
	// Checklist is the checklist being run.
	Checklist *Checklist

	runCtx context.Context
	redact []*regexp.Regexp
	memoMu sync.Mutex
	memo   map[string]*memoEntry
	memoWG sync.WaitGroup
}

type memoEntry struct {
	done chan struct{}
	val  any
}

// Memo runs fn once per key for the whole run and returns its value to
// every caller; callers whose ctx ends stop waiting. Kinds use it to share
// one expensive run (e.g. one vet pass) between checks. A caller that
// waits for a run another check started gives its -j place to a waiting
// check (the run already holds one); what is left of its attempt is
// reading the shared result, and its next attempt, if any, waits for a
// place again.
func (e *Env) Memo(ctx context.Context, key string, fn func(runCtx context.Context) any) (any, error) {
	e.memoMu.Lock()
	if e.memo == nil {
		e.memo = map[string]*memoEntry{}
	}
	m, ok := e.memo[key]
	if !ok {
		m = &memoEntry{done: make(chan struct{})}
		e.memo[key] = m
		e.memoWG.Add(1)
		go func() {
			defer e.memoWG.Done()
			m.val = fn(e.RunContext())
			close(m.done)
		}()
	}
	e.memoMu.Unlock()
	if ok {
		select {
		case <-m.done:
			return m.val, nil
		default:
		}
		if p, _ := ctx.Value(placeKey{}).(*place); p != nil {
			p.give()
		}
	}
	select {
	case <-m.done:
		return m.val, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// RunContext is the context of the whole run (not of one attempt): it ends
// when the run is cancelled.
func (e *Env) RunContext() context.Context {
	if e.runCtx == nil {
		return context.Background()
	}
	return e.runCtx
}

// Redact replaces secrets in s by "[REDACTED]".
func (e *Env) Redact(s string) string {
	for _, re := range e.redact {
		s = re.ReplaceAllStringFunc(s, func(m string) string {
			sm := re.FindStringSubmatchIndex(m)
			// With a capture group, only the group (the secret value)
			// is replaced and its label kept.
			if len(sm) >= 4 && sm[2] >= 0 {
				return m[:sm[2]] + "[REDACTED]" + m[sm[3]:]
			}
			return "[REDACTED]"
		})
	}
	return s
}

// DefaultRedactions are the secret patterns always redacted from evidence:
// key=value and key: value pairs whose key names a secret, bearer and basic
// credentials, credentials in URLs, AWS access keys, GitHub and Slack
// tokens and PEM private keys.
var DefaultRedactions = []string{
	`(?i)(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|client[_-]?secret|credentials?)["']?\s*[:=]\s*["']?([^\s"',;&]+)`,
	`(?i)\b(?:bearer|basic)\s+([A-Za-z0-9._~+/=-]{8,})`,
	`[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:([^@\s/]+)@`,
	`\b(?:AKIA|ASIA)[A-Z0-9]{16}\b`,
	`\bgh[pousr]_[A-Za-z0-9]{36,}\b`,
	`\bxox[abprs]-[A-Za-z0-9-]{10,}\b`,
	`(?s)-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----`,
}

// EventType tells what an Event reports.
type EventType int

// Event types.
const (
	// CheckStarted is sent when a check's first attempt begins.
	CheckStarted EventType = iota
	// CheckFinished is sent when a check has its outcome.
	CheckFinished
)

// Event reports progress of a run to a progress function.
type Event struct {
	Type   EventType
	Check  *Check
	Result *CheckResult // set for CheckFinished
	Done   int          // checks finished so far
	Total  int
}

// Option configures a Runner.
type Option func(*Runner)

// WithParallelism sets how many checks run at once (default: GOMAXPROCS,
// at least 1).
func WithParallelism(n int) Option { return func(r *Runner) { r.parallel = n } }

// WithPackages sets the packages vet, gotest and leak checks act on
// (default: "./...").
func WithPackages(pkgs ...string) Option { return func(r *Runner) { r.packages = pkgs } }

// WithDir sets the working directory of commands (default: the current
// directory).
func WithDir(dir string) Option { return func(r *Runner) { r.dir = dir } }

// WithVetCommand sets the argv prefix that runs the vet subcommand; the
// kind appends "vet -format json ..." (default: "cgoguard").
func WithVetCommand(argv ...string) Option { return func(r *Runner) { r.vet = argv } }

// WithEnviron sets the base environment of commands (default:
// os.Environ()). CGOGUARD_CHECK=1 is always added.
func WithEnviron(env []string) Option { return func(r *Runner) { r.environ = env } }

// WithEvidenceLimit bounds each captured stream, in bytes (default 16 KiB;
// the first and last halves are kept).
func WithEvidenceLimit(n int) Option { return func(r *Runner) { r.limit = n } }

// WithRedact adds regular expressions whose matches are redacted from
// evidence, beside DefaultRedactions and the checklist's own `redact:`.
// With a capture group only the group is replaced.
func WithRedact(patterns ...string) Option {
	return func(r *Runner) { r.redact = append(r.redact, patterns...) }
}

// WithProgress sets a function called on each Event, from one goroutine at
// a time (default: none).
func WithProgress(fn func(Event)) Option { return func(r *Runner) { r.progress = fn } }

// WithClock sets the clock used for waiver expiry (default: time.Now).
func WithClock(now func() time.Time) Option { return func(r *Runner) { r.now = now } }

// WithEnvName records the name of the chosen environment in the result
// (default: none).
func WithEnvName(name string) Option { return func(r *Runner) { r.envName = name } }

// Runner runs checklists. A Runner may run several checklists, one after
// another or at once.
type Runner struct {
	parallel int
	packages []string
	dir      string
	vet      []string
	environ  []string
	limit    int
	redact   []string
	progress func(Event)
	now      func() time.Time
	envName  string
}

// NewRunner returns a runner with the given options over the defaults.
func NewRunner(opts ...Option) *Runner {
	r := &Runner{
		parallel: runtime.GOMAXPROCS(0),
		packages: []string{"./..."},
		vet:      []string{"cgoguard"},
		limit:    16 << 10,
		now:      time.Now,
	}
	for _, o := range opts {
		o(r)
	}
	if r.parallel < 1 {
		r.parallel = 1
	}
	if r.environ == nil {
		r.environ = os.Environ()
	}
	// Commands can tell they run under a checklist (tests that must only
	// run there, such as planted hazards, look for it).
	r.environ = append(append([]string{}, r.environ...), "CGOGUARD_CHECK=1")
	if len(r.packages) == 0 {
		r.packages = []string{"./..."}
	}
	return r
}

// Validate checks every check's `with` parameters against its kind. Errors
// are a *ConfigError naming the check's line.
func (r *Runner) Validate(cl *Checklist) error {
	cerr := &ConfigError{File: cl.File}
	for i := range cl.Checks {
		c := &cl.Checks[i]
		k, ok := LookupKind(c.Kind)
		if !ok {
			cerr.add(c.Line, "check %s: kind %q is not available in this build", c.ID, c.Kind)
			continue
		}
		if err := k.Validate(c.With); err != nil {
			cerr.add(c.Line, "check %s: with: %v", c.ID, err)
		}
	}
	return cerr.orNil()
}

// Run runs every check of cl and returns the result. It returns an error
// only for a configuration error found before anything ran; a cancelled
// ctx yields a result marked Interrupted whose unfinished checks are
// errors. Every process a check started has ended when Run returns.
func (r *Runner) Run(ctx context.Context, cl *Checklist) (*Result, error) {
	if err := r.Validate(cl); err != nil {
		return nil, err
	}
	// Shared work (Memo) runs under runCtx, cancelled when the last check
	// has finished so that nothing outlives Run.
	runCtx, stopShared := context.WithCancel(ctx)
	defer stopShared()
	env := &Env{
		Dir:           r.dir,
		Packages:      r.packages,
		VetCommand:    r.vet,
		Environ:       r.environ,
		EvidenceLimit: r.limit,
		Checklist:     cl,
		runCtx:        runCtx,
	}
	pats := append(append(append([]string{}, DefaultRedactions...), cl.Redact...), r.redact...)
	for _, p := range pats {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("%w: redact pattern %q: %v", ErrInvalid, p, err)
		}
		env.redact = append(env.redact, re)
	}

	res := &Result{
		Checklist: cl.Name,
		Env:       r.envName,
		Packages:  r.packages,
		Started:   r.now(),
		Checks:    make([]CheckResult, len(cl.Checks)),
		Source:    cl.Source,
	}
	if cl.File != "" {
		res.Files = uniqueFiles(cl)
	}
	start := time.Now()
	done := make(map[string]chan struct{}, len(cl.Checks))
	for _, c := range cl.Checks {
		done[c.ID] = make(chan struct{})
	}
	places := newGate(r.parallel)
	var (
		progMu   sync.Mutex
		finished int
		wg       sync.WaitGroup
	)
	emit := func(ev Event) {
		if r.progress == nil {
			return
		}
		progMu.Lock()
		defer progMu.Unlock()
		if ev.Type == CheckFinished {
			finished++
		}
		ev.Done, ev.Total = finished, len(cl.Checks)
		r.progress(ev)
	}
	index := map[string]int{}
	for i, c := range cl.Checks {
		index[c.ID] = i
	}
	for i := range cl.Checks {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := &cl.Checks[i]
			out := &res.Checks[i]
			*out = CheckResult{
				ID: c.ID, Title: c.Title, Severity: c.Severity.Or(), Kind: c.Kind,
				Prevents: c.Prevents, Fix: c.Fix, File: c.File, Line: c.Line, Waiver: c.Waiver,
				Evidence: Evidence{ExitCode: -1},
			}
			if out.File == "" {
				out.File = cl.File
			}
			defer close(done[c.ID])
			defer func() { emit(Event{Type: CheckFinished, Check: c, Result: out}) }()
			// Wait for dependencies, in order.
			for _, d := range c.DependsOn {
				select {
				case <-done[d]:
				case <-ctx.Done():
					out.Outcome, out.Message = Error, "run cancelled before the check started"
					return
				}
				dep := res.Checks[index[d]]
				if dep.Outcome != Pass && dep.Outcome != Waived {
					out.Outcome = Skip
					out.Message = fmt.Sprintf("dependency %s did not pass (%s)", d, dep.Outcome)
					return
				}
			}
			pl := &place{g: places, rank: kindRank(c.Kind), index: i}
			if !pl.take(ctx) {
				out.Outcome, out.Message = Error, "run cancelled before the check started"
				return
			}
			defer pl.give()
			emit(Event{Type: CheckStarted, Check: c})
			r.runCheck(context.WithValue(ctx, placeKey{}, pl), env, c, out)
		}(i)
	}
	wg.Wait()
	stopShared()
	env.memoWG.Wait()
	res.Duration = time.Since(start)
	res.Interrupted = ctx.Err() != nil
	return res, nil
}

func uniqueFiles(cl *Checklist) []string {
	seen := map[string]bool{}
	var files []string
	add := func(f string) {
		if f != "" && !seen[f] {
			seen[f] = true
			files = append(files, f)
		}
	}
	for _, c := range cl.Checks {
		add(c.File)
	}
	add(cl.File)
	sort.Strings(files)
	return files
}

// runCheck makes the attempts of one check and fills out.
func (r *Runner) runCheck(ctx context.Context, env *Env, c *Check, out *CheckResult) {
	k, _ := LookupKind(c.Kind)
	start := time.Now()
	attempts := c.Attempts()
	var obs Observation
	outcome := Error
	pl, _ := ctx.Value(placeKey{}).(*place)
	for a := 1; a <= attempts; a++ {
		out.Attempts = a
		if pl != nil && !pl.holding() && !pl.take(ctx) {
			outcome = Error
			obs.Message = "run cancelled between attempts"
			break
		}
		actx, cancel := context.WithTimeout(ctx, c.Timeout())
		obs = k.Run(actx, env, c)
		timedOut := errors.Is(actx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
		cancel()
		switch {
		case ctx.Err() != nil:
			outcome = Error
			obs.Message = "run cancelled: " + firstLine(obs.Message)
		case timedOut:
			outcome = Timeout
			obs.Message = fmt.Sprintf("timed out after %s; the process group was killed", c.Timeout())
		case obs.Err != nil:
			outcome = Error
			obs.Message = obs.Err.Error()
		case obs.Passed:
			outcome = Pass
		default:
			outcome = Fail
		}
		if outcome == Pass || outcome == Error || a == attempts {
			break
		}
		if c.Retry != nil && c.Retry.DelaySeconds > 0 {
			t := time.NewTimer(time.Duration(c.Retry.DelaySeconds * float64(time.Second)))
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
		if ctx.Err() != nil {
			outcome = Error
			obs.Message = "run cancelled between attempts"
			break
		}
	}
	if outcome == Pass && out.Attempts > 1 {
		obs.Message = strings.TrimSpace(fmt.Sprintf("passed on attempt %d of %d. %s", out.Attempts, attempts, obs.Message))
	}
	if c.Evidence == "required" && outcome == Pass && obs.Evidence.Stdout == "" && obs.Evidence.Stderr == "" &&
		len(obs.Tests) == 0 && len(obs.Findings) == 0 {
		outcome = Error
		obs.Message = "evidence is required but the check captured none"
	}
	if c.Waiver != nil && ctx.Err() == nil {
		if c.Waiver.Expired(r.now()) {
			prev := outcome
			outcome = Fail
			obs.Message = fmt.Sprintf("waiver expired on %s (check was %s): %s", c.Waiver.Expires, prev, firstLine(obs.Message))
		} else if outcome != Pass {
			obs.Message = fmt.Sprintf("waived until %s (%s): %s", c.Waiver.Expires, c.Waiver.Reason, firstLine(obs.Message))
			outcome = Waived
		}
	}
	out.Outcome = outcome
	out.Message = env.Redact(strings.TrimSpace(obs.Message))
	out.Duration = time.Since(start)
	out.Evidence = Evidence{
		Command:  env.Redact(obs.Evidence.Command),
		ExitCode: obs.Evidence.ExitCode,
		Stdout:   env.Redact(obs.Evidence.Stdout),
		Stderr:   env.Redact(obs.Evidence.Stderr),
	}
	out.Findings = obs.Findings
	for i := range out.Findings {
		out.Findings[i].Message = env.Redact(out.Findings[i].Message)
	}
	out.Tests = obs.Tests
	for i := range out.Tests {
		out.Tests[i].Output = env.Redact(out.Tests[i].Output)
	}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// Merge joins checklists into one run. Check ids must be unique across
// them; each check keeps the file it came from.
func Merge(lists ...*Checklist) (*Checklist, error) {
	if len(lists) == 1 {
		for i := range lists[0].Checks {
			lists[0].Checks[i].File = lists[0].File
		}
		return lists[0], nil
	}
	out := &Checklist{used: map[string]bool{}}
	var names []string
	seen := map[string]string{}
	cerr := &ConfigError{}
	for _, l := range lists {
		names = append(names, l.Name)
		out.Redact = append(out.Redact, l.Redact...)
		for k := range l.used {
			out.used[k] = true
		}
		for _, c := range l.Checks {
			c.File = l.File
			if f, dup := seen[c.ID]; dup {
				cerr.add(0, "check id %s is in both %s and %s", c.ID, f, l.File)
				continue
			}
			seen[c.ID] = l.File
			out.Checks = append(out.Checks, c)
		}
	}
	if err := cerr.orNil(); err != nil {
		return nil, err
	}
	out.Name = strings.Join(names, "+")
	return out, nil
}
