package chaos

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"regexp"
	"sync"
	"time"
)

// Event is a progress report of a run.
type Event struct {
	Time       time.Time
	Index      int // 1-based position of the experiment in the run
	Total      int
	Experiment string
	// Phase is "start", "steady", "inject", "poll", "remove",
	// "remediate", "verdict" or "cleanup".
	Phase   string
	Message string
	// Result is set on "verdict".
	Result *ExperimentResult
}

type runOptions struct {
	journal   string
	client    *http.Client
	progress  func(Event)
	lookupEnv func(string) (string, bool)
	dir       string
}

// RunOption configures a Runner.
type RunOption func(*runOptions)

// WithJournal sets the revert journal's path. Default DefaultJournalPath().
func WithJournal(path string) RunOption { return func(o *runOptions) { o.journal = path } }

// WithHTTPClient sets the client for admin endpoints, Prometheus and
// scrapes. Default: a client without a global timeout (every request has
// its own).
func WithHTTPClient(c *http.Client) RunOption { return func(o *runOptions) { o.client = c } }

// WithProgress receives an Event at every step of the run. Default: none.
func WithProgress(fn func(Event)) RunOption { return func(o *runOptions) { o.progress = fn } }

// WithLookupEnv sets where admin tokens (Target.TokenEnv) are read.
// Default os.LookupEnv.
func WithLookupEnv(fn func(string) (string, bool)) RunOption {
	return func(o *runOptions) { o.lookupEnv = fn }
}

// WithDir sets the working directory of inject, revert and remediation
// commands. Default: the current directory.
func WithDir(dir string) RunOption { return func(o *runOptions) { o.dir = dir } }

// Runner runs experiments: steady state, injection, the SLO watch, removal,
// remediation and the recovery clock, one experiment at a time. A Runner
// may run several files in turn; it is not for concurrent Runs.
type Runner struct {
	o       runOptions
	journal *Journal

	mu       sync.Mutex
	samplers map[string]*sampler
}

// NewRunner returns a Runner with the options applied over the defaults.
func NewRunner(opts ...RunOption) *Runner {
	o := runOptions{client: &http.Client{}, lookupEnv: os.LookupEnv}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.journal == "" {
		o.journal = DefaultJournalPath()
	}
	if o.dir == "" {
		o.dir, _ = os.Getwd()
	}
	return &Runner{o: o, journal: &Journal{Path: o.journal}, samplers: map[string]*sampler{}}
}

// JournalPath returns the path of the runner's revert journal.
func (r *Runner) JournalPath() string { return r.journal.Path }

// Run runs every experiment of the files in order. A cancelled ctx (the
// CLI cancels it on SIGINT and SIGTERM) removes the fault in place, marks
// the experiment aborted and the result interrupted, and skips the rest.
// The error is for what stops the run as a whole (the journal cannot be
// written); experiment failures are verdicts.
func (r *Runner) Run(ctx context.Context, files ...*File) (*Result, error) {
	res := &Result{Started: time.Now()}
	var exps []*Experiment
	for _, f := range files {
		res.Files = append(res.Files, f.Name)
		for i := range f.Experiments {
			exps = append(exps, &f.Experiments[i])
		}
	}
	defer r.stopSamplers()
	for i, e := range exps {
		if ctx.Err() != nil {
			res.Interrupted = true
			break
		}
		er, err := r.runOne(ctx, e, i+1, len(exps))
		res.Experiments = append(res.Experiments, er)
		r.emit(Event{Index: i + 1, Total: len(exps), Experiment: e.Name, Phase: "verdict", Message: er.Summary(), Result: &res.Experiments[len(res.Experiments)-1]})
		if err != nil {
			res.Duration = time.Since(res.Started)
			return res, err
		}
	}
	if ctx.Err() != nil {
		res.Interrupted = true
	}
	if err := r.journal.compact(); err != nil && !errors.Is(err, os.ErrNotExist) {
		res.Duration = time.Since(res.Started)
		return res, err
	}
	res.Duration = time.Since(res.Started)
	return res, nil
}

func (r *Runner) emit(ev Event) {
	if r.o.progress != nil {
		if ev.Time.IsZero() {
			ev.Time = time.Now()
		}
		r.o.progress(ev)
	}
}

func (r *Runner) stopSamplers() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.samplers {
		s.stop()
	}
	r.samplers = map[string]*sampler{}
}

// source builds the evaluator of c.
func (r *Runner) source(c *Condition) (source, error) {
	if c.Prometheus != "" {
		return newPromSource(c, r.o.client)
	}
	r.mu.Lock()
	s := r.samplers[c.Scrape]
	if s == nil {
		s = newSampler(c.Scrape, r.o.client, 15*time.Second)
		r.samplers[c.Scrape] = s
	}
	r.mu.Unlock()
	return newScrapeSource(c, s)
}

// poll evaluates c once.
func poll(ctx context.Context, c *Condition, src source, phase string) Poll {
	p := Poll{T: time.Now(), Phase: phase}
	v, err := src.eval(ctx)
	switch {
	case errors.Is(err, errNoData):
		p.OK = c.NoData == "ok"
		p.Err = "no data"
	case err != nil:
		p.Err = err.Error()
	default:
		p.Value = &v
		p.OK = c.Holds(v)
	}
	return p
}

// runOne runs one experiment. The error is only for a journal that cannot
// be written (nothing may be injected then).
func (r *Runner) runOne(ctx context.Context, e *Experiment, idx, total int) (ExperimentResult, error) {
	res := ExperimentResult{
		Name: e.Name, File: e.File, Line: e.Line, FaultType: e.FaultType,
		SLOTarget: e.SLOTarget.String(), Op: opNames[e.SLOTarget.Op], Threshold: e.SLOTarget.Threshold.Value,
		RecoverySLA: e.RecoverySLA, Interval: e.Interval, ConsecutiveOK: e.ConsecutiveOK,
		Remediation: e.Remediation.String(), Started: time.Now(),
	}
	steadyCond := e.SteadyState
	if steadyCond == nil {
		steadyCond = e.SLOTarget
	}
	res.SteadyState = steadyCond.String()
	if e.IsCommand() {
		res.Fault = e.Inject
	} else {
		res.Fault = e.Spec()
	}
	say := func(phase, format string, args ...any) {
		r.emit(Event{Index: idx, Total: total, Experiment: e.Name, Phase: phase, Message: fmt.Sprintf(format, args...)})
	}
	abort := func(format string, args ...any) (ExperimentResult, error) {
		res.Verdict, res.Reason = Aborted, fmt.Sprintf(format, args...)
		res.Ended = time.Now()
		return res, nil
	}
	say("start", "%s fault, SLO %s, recovery SLA %s", e.FaultType, res.SLOTarget, e.RecoverySLA)

	slo, err := r.source(e.SLOTarget)
	if err != nil {
		return abort("slo_target: %v", err)
	}
	steady := slo
	if e.SteadyState != nil {
		if steady, err = r.source(e.SteadyState); err != nil {
			return abort("steady_state: %v", err)
		}
	}
	for _, s := range []source{steady, slo} {
		if err := s.prime(ctx); err != nil {
			return abort("interrupted before the steady state check: %v", err)
		}
	}

	// 1. The steady state must hold before anything is injected.
	sp := poll(ctx, steadyCond, steady, PhaseSteady)
	if e.SteadyState == nil {
		res.Polls = append(res.Polls, sp)
	}
	if !sp.OK {
		say("steady", "steady state does not hold: %s", sp.describe())
		return abort("steady state did not hold (%s: %s); nothing was injected", steadyCond, sp.describe())
	}
	say("steady", "steady state holds: %s", sp.describe())

	// 2. Inject, journalled first.
	inj, entry, err := r.injector(e, &res)
	if err != nil {
		return abort("%v", err)
	}
	if err := r.journal.append(entry); err != nil {
		res.Verdict, res.Reason, res.Ended = Aborted, "cannot write the revert journal, so nothing was injected: "+err.Error(), time.Now()
		return res, err
	}
	ictx, cancel := context.WithTimeout(ctx, max(e.CommandTimeout.D(), 30*time.Second))
	id, err := inj.inject(ictx)
	cancel()
	if err != nil {
		// It may have half-happened: revert what can be.
		rerr := r.removeFault(inj, entry, &res)
		if rerr != nil {
			return abort("injector failed: %v; and the revert failed too (it stays in the journal for cgoguard chaos cleanup): %v", err, rerr)
		}
		return abort("injector failed: %v", err)
	}
	injected := time.Now()
	res.Injected = &injected
	if e.IsCommand() && id != "" {
		res.FaultID = id
		if err := r.journal.append(JournalEntry{ID: entry.ID, Op: opID, FaultID: id}); err != nil {
			res.logf("journal: %v", err)
		}
	}
	say("inject", "injected %s%s", res.Fault, map[bool]string{true: " (id " + id + ")", false: ""}[e.IsCommand() && id != ""])

	// 3. Watch the SLO while the fault is in place; keep its TTL renewed.
	stopRenew := r.renewLoop(ctx, inj, e, &res)
	interrupted := false
	end := injected.Add(e.Duration.D())
	for k := 1; ; k++ {
		at := injected.Add(time.Duration(k) * e.Interval.D())
		if !at.Before(end) {
			interrupted = !sleepUntil(ctx, end)
			break
		}
		if !sleepUntil(ctx, at) {
			interrupted = true
			break
		}
		p := poll(ctx, e.SLOTarget, slo, PhaseFault)
		r.note(&res, p, e.SLOTarget)
		say("poll", "fault in place: %s", p.describe())
	}
	stopRenew()

	// 4. Remove the fault; the recovery clock starts.
	fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	if n, ok := inj.fired(fctx); ok {
		res.Fired = &n
	}
	cancel()
	if err := r.removeFault(inj, entry, &res); err != nil {
		return abort("could not remove the fault (it stays in the journal for cgoguard chaos cleanup): %v", err)
	}
	removed := time.Now()
	res.Removed = &removed
	say("remove", "fault removed; recovery clock started")
	if interrupted {
		return abort("interrupted; the fault was removed")
	}

	// 5. Poll until ConsecutiveOK healthy polls in a row, or past the SLA.
	remediated := false
	remediate := func() {
		if remediated || e.Remediation.Kind == "none" {
			return
		}
		remediated = true
		res.Remediated = true
		if err := r.remediate(ctx, e, &res); err != nil {
			res.logf("remediation failed: %v", err)
			say("remediate", "remediation failed: %v", err)
			return
		}
		say("remediate", "remediation ran: %s", e.Remediation)
	}
	if res.Breached {
		remediate()
	}
	sla := e.RecoverySLA.D()
	streak := 0
	var streakStart time.Time
	for k := 0; ; k++ {
		if !sleepUntil(ctx, removed.Add(time.Duration(k)*e.Interval.D())) {
			return abort("interrupted during the recovery watch")
		}
		p := poll(ctx, e.SLOTarget, slo, PhaseRecovery)
		r.note(&res, p, e.SLOTarget)
		say("poll", "recovering: %s", p.describe())
		if p.OK {
			if streak == 0 {
				streakStart = p.T
			}
			streak++
		} else {
			streak = 0
			remediate()
		}
		if streak > 0 && streakStart.Sub(removed) > sla {
			break // healthy again, but too late
		}
		if streak >= e.ConsecutiveOK {
			break
		}
		if streak == 0 && time.Since(removed) > sla {
			break
		}
	}
	res.Ended = time.Now()
	switch {
	case streak >= e.ConsecutiveOK && !res.Breached:
		res.Verdict = Held
	case streak > 0 && streakStart.Sub(removed) <= sla:
		res.Verdict = Recovered
		rec, closed := Duration(streakStart.Sub(removed)), Duration(res.Ended.Sub(removed))
		res.Recovery, res.Closed = &rec, &closed
		res.RecoveredT = &streakStart
	default:
		res.Verdict = SLAMissed
		if streak > 0 {
			rec := Duration(streakStart.Sub(removed))
			res.Recovery = &rec
		}
	}
	r.fillSeries(ctx, slo, &res, e)
	return res, nil
}

// note records a poll in the result and tracks breaches.
func (r *Runner) note(res *ExperimentResult, p Poll, c *Condition) {
	res.Polls = append(res.Polls, p)
	if p.OK {
		return
	}
	res.Breached = true
	if p.Value == nil {
		return
	}
	v := *p.Value
	if res.Worst == nil {
		res.Worst = &v
		return
	}
	// Furthest past the threshold: the largest for < and <=, the smallest
	// for > and >=.
	switch opNames[c.Op] {
	case ">", ">=":
		if v < *res.Worst {
			res.Worst = &v
		}
	default:
		if math.Abs(v-c.Threshold.Value) > math.Abs(*res.Worst-c.Threshold.Value) {
			res.Worst = &v
		}
	}
}

// injector builds the experiment's injector and its journal entry.
func (r *Runner) injector(e *Experiment, res *ExperimentResult) (injector, JournalEntry, error) {
	entry := JournalEntry{ID: newEntryID(), Op: opInject, Experiment: e.Name, PID: os.Getpid(), PIDStart: processStart(os.Getpid())}
	if e.IsCommand() {
		var re *regexp.Regexp
		if e.Capture != "" {
			re = regexp.MustCompile(e.Capture) // validated on load
		}
		entry.Kind, entry.Revert, entry.Dir, entry.CommandTimeout = "command", e.Revert, r.o.dir, e.CommandTimeout.D().Seconds()
		out := new(string)
		ci := &commandInjector{r: r, e: e, capture: re, out: out}
		return &logged{injector: ci, out: out, res: res}, entry, nil
	}
	fps, err := Parse(e.Spec())
	if err != nil || len(fps) != 1 {
		return nil, entry, fmt.Errorf("failpoint %q: %v", e.Spec(), err)
	}
	tok, ok := r.o.lookupEnv(e.Target.TokenEnv)
	if !ok || tok == "" {
		return nil, entry, fmt.Errorf("no admin token: set %s (the admin endpoint refuses writes without one)", e.Target.TokenEnv)
	}
	target := fps[0].Target()
	entry.Kind, entry.Admin, entry.Target, entry.TokenEnv = "failpoint", e.Target.Admin, target, e.Target.TokenEnv
	return &failpointInjector{
		admin:  &AdminClient{Base: e.Target.Admin, Token: tok, Client: r.o.client},
		spec:   fps[0].String(),
		target: target,
		ttl:    e.TTL.D(),
	}, entry, nil
}

// logged copies a command injector's output into the result's log.
type logged struct {
	injector
	out *string
	res *ExperimentResult
}

func (l *logged) inject(ctx context.Context) (string, error) {
	id, err := l.injector.inject(ctx)
	l.res.logf("inject:\n%s", *l.out)
	return id, err
}

func (l *logged) revert(ctx context.Context) error {
	*l.out = ""
	err := l.injector.revert(ctx)
	l.res.logf("revert:\n%s", *l.out)
	return err
}

// removeFault reverts the fault (even when ctx was cancelled: a fault
// must not outlive the run) and marks it in the journal.
func (r *Runner) removeFault(inj injector, entry JournalEntry, res *ExperimentResult) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = inj.revert(ctx)
		cancel()
		if err == nil || errors.Is(err, ErrUnreachable) && attempt > 0 {
			break
		}
		res.logf("removing the fault: %v (retrying)", err)
		time.Sleep(time.Duration(attempt+1) * 500 * time.Millisecond)
	}
	if err != nil && !errors.Is(err, ErrUnreachable) {
		return err
	}
	if err != nil {
		res.logf("the target process is gone, and its failpoints with it: %v", err)
	}
	return r.journal.append(JournalEntry{ID: entry.ID, Op: opReverted})
}

// renewLoop renews the fault's TTL every third of it until stopped.
func (r *Runner) renewLoop(ctx context.Context, inj injector, e *Experiment, res *ExperimentResult) func() {
	if e.IsCommand() {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var logs []string
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(max(e.TTL.D()/3, 10*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				rctx, cancel := context.WithTimeout(ctx, max(e.TTL.D()/3, time.Second))
				if err := inj.renew(rctx); err != nil {
					mu.Lock()
					logs = append(logs, err.Error())
					mu.Unlock()
				}
				cancel()
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
		for _, l := range logs {
			res.logf("renewing the failpoint's TTL: %s", l)
		}
	}
}

func (r *Runner) remediate(ctx context.Context, e *Experiment, res *ExperimentResult) error {
	switch e.Remediation.Kind {
	case "reset":
		tok, _ := r.o.lookupEnv(e.Target.TokenEnv)
		a := &AdminClient{Base: e.Target.Admin, Token: tok, Client: r.o.client}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := a.Reset(cctx, e.Target.Module); err != nil {
			return err
		}
		res.logf("remediation: reset module %s", e.Target.Module)
	case "command":
		out, err := r.shell(ctx, e.Remediation.Command, e.CommandTimeout.D(), []string{"CHAOS_ID=" + res.FaultID, "CHAOS_EXPERIMENT=" + e.Name})
		res.logf("remediation:\n%s", out.String())
		if err != nil {
			return fmt.Errorf("%w%s", err, out.tail())
		}
	}
	return nil
}

// fillSeries asks the source for the SLO series over the experiment.
func (r *Runner) fillSeries(ctx context.Context, src source, res *ExperimentResult, e *Experiment) {
	from := res.Started
	if res.Injected != nil {
		from = res.Injected.Add(-2 * e.Interval.D())
		if from.Before(res.Started) {
			from = res.Started
		}
	}
	step := max(res.Ended.Sub(from)/300, time.Second)
	pts, err := src.series(ctx, from, res.Ended, step)
	if err != nil {
		res.logf("series for the plot: %v", err)
		return
	}
	res.Series = pts
}

// sleepUntil waits until t; false when ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
