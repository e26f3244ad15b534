package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/cgoguard/cgoguard/checklist"
	_ "github.com/cgoguard/cgoguard/checklist/kinds" // the check kinds a fetched checklist names
	"github.com/cgoguard/cgoguard/hub"
	"github.com/cgoguard/cgoguard/hub/client"
)

// ErrNoClone is returned for a request from a repository the agent has no
// clone of.
var ErrNoClone = errors.New("cgoguard: no clone configured for the repository")

// Agent runs the hub's run requests. It is safe for concurrent use, but
// one Agent runs one request at a time; start several agents (processes)
// to run several.
type Agent struct {
	base *url.URL
	o    options
	hub  *client.Client
}

// New returns an agent for the hub at hubURL.
func New(hubURL string, opts ...Option) (*Agent, error) {
	o := defaults()
	for _, opt := range opts {
		opt(&o)
	}
	u, err := url.Parse(strings.TrimRight(hubURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("cgoguard: hub URL %q must be http:// or https:// with a host", hubURL)
	}
	if len(o.clones) == 0 && o.defaultClone == "" {
		return nil, errors.New("cgoguard: the agent needs a clone of the repositories it runs (WithClone)")
	}
	c, err := client.New(hubURL, client.WithToken(o.token), client.WithHTTPClient(o.http), client.WithCache(o.cacheDir),
		client.WithLog(o.logf))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.workspace, 0o755); err != nil {
		return nil, fmt.Errorf("cgoguard: agent workspace: %w", err)
	}
	return &Agent{base: u, o: o, hub: c}, nil
}

// Run leases and runs requests one after another until ctx is done. A
// hub that cannot be reached is retried with a pause; a refused token
// ends Run.
func (a *Agent) Run(ctx context.Context) error {
	pause := time.Second
	for ctx.Err() == nil {
		_, err := a.Once(ctx)
		switch {
		case err == nil:
			pause = time.Second
			continue
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, hub.ErrUnauthorized), errors.Is(err, hub.ErrForbidden):
			return err
		}
		a.o.logf("cgoguard agent: %v; trying again in %s", err, pause)
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
		pause = min(2*pause, 30*time.Second)
	}
	return nil
}

// Once waits (long-polls) for one request and runs it. handled is false
// when the hub had nothing within its wait.
func (a *Agent) Once(ctx context.Context) (handled bool, err error) {
	var l hub.Lease
	code, err := a.call(ctx, http.MethodPost, "/api/v1/queue/lease?wait="+a.o.wait.String(), map[string]string{"agent": a.o.name}, &l)
	if err != nil {
		return false, err
	}
	if code == http.StatusNoContent {
		return false, nil
	}
	a.o.logf("cgoguard agent: leased %s: %s %s#%d at %s (attempt %d)", l.Request.ID, l.Request.Forge, l.Request.Repo,
		l.Request.Number, short(l.Request.Head), l.Request.Attempts)
	a.handle(ctx, &l)
	return true, nil
}

// handle runs one leased request while renewing its lease, then
// completes it, unless the lease was lost meanwhile.
func (a *Agent) handle(ctx context.Context, l *hub.Lease) {
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.renew(runCtx, l, cancel)
	}()
	up, runErr := a.execute(runCtx, l)
	cancel(nil)
	wg.Wait()
	if cause := context.Cause(runCtx); errors.Is(cause, hub.ErrLeaseLost) {
		a.o.logf("cgoguard agent: %s: %v; its result is dropped", l.Request.ID, cause)
		return
	}
	if ctx.Err() != nil {
		a.o.logf("cgoguard agent: %s: stopped before it finished; the lease expires and another agent takes it", l.Request.ID)
		return
	}
	comp := hub.Completion{Token: l.Token, Upload: up}
	if runErr != nil {
		comp.Upload, comp.Error = nil, runErr.Error()
		a.o.logf("cgoguard agent: %s could not run: %v", l.Request.ID, runErr)
	}
	var done hub.RunRequest
	for attempt := 0; ; attempt++ {
		_, err := a.call(ctx, http.MethodPost, "/api/v1/queue/"+url.PathEscape(l.Request.ID)+"/complete", comp, &done)
		if err == nil {
			a.o.logf("cgoguard agent: %s %s (run %s)", done.ID, done.State, done.RunID)
			return
		}
		var se *client.StatusError
		if (errors.As(err, &se) && !se.Temporary()) || attempt == 4 || ctx.Err() != nil {
			a.o.logf("cgoguard agent: complete %s: %v", l.Request.ID, err)
			return
		}
		time.Sleep(time.Duration(attempt+1) * 500 * time.Millisecond)
	}
}

// renew extends the lease every third of its TTL until ctx ends; a
// refusal (the lease went to another agent) cancels the run.
func (a *Agent) renew(ctx context.Context, l *hub.Lease, cancel context.CancelCauseFunc) {
	every := time.Duration(l.TTLSeconds * float64(time.Second) / 3)
	if every <= 0 {
		every = 10 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, err := a.call(ctx, http.MethodPost, "/api/v1/queue/"+url.PathEscape(l.Request.ID)+"/renew", map[string]string{"token": l.Token}, nil)
		var se *client.StatusError
		if errors.As(err, &se) && se.Code == http.StatusConflict {
			cancel(fmt.Errorf("%w: %s", hub.ErrLeaseLost, se.Message))
			return
		}
		if err != nil && ctx.Err() == nil {
			a.o.logf("cgoguard agent: renew %s: %v (retrying)", l.Request.ID, err)
		}
	}
}

// execute checks the commit out, runs the requested checks of the
// checklist version and returns the run as an upload.
func (a *Agent) execute(ctx context.Context, l *hub.Lease) (*hub.Upload, error) {
	r := &l.Request
	if !hub.ValidID(r.ID) {
		return nil, fmt.Errorf("cgoguard: request id %q cannot name a workspace", r.ID)
	}
	ws, err := a.checkout(ctx, r, l.Request.Attempts)
	if err != nil {
		return nil, err
	}
	if !a.o.keep {
		defer os.RemoveAll(ws)
	}
	f, err := a.hub.FetchChecklist(ctx, r.Checklist, l.Version)
	if err != nil {
		return nil, err
	}
	cl, err := f.Load(checklist.LoadOptions{Vars: map[string]string{"PACKAGES": "./..."}})
	if err != nil {
		return nil, err
	}
	if cl, err = Select(cl, r.Checks); err != nil {
		return nil, err
	}
	ropts := append([]checklist.Option{checklist.WithDir(ws), checklist.WithPackages("./..."),
		checklist.WithParallelism(a.o.parallel), checklist.WithVetCommand(a.o.vet...)}, a.o.runner...)
	res, err := checklist.NewRunner(ropts...).Run(ctx, cl)
	if err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	host, _ := os.Hostname()
	return client.FromResult(res, hub.Context{Repo: r.Repo, Branch: r.HeadRef, Commit: r.Head, Host: host, CI: "cgoguard-agent"})
}

// Select keeps the checks with the given ids and the checks they depend
// on; no ids keeps all. An unknown id is an error listing the known ones.
func Select(cl *checklist.Checklist, ids []string) (*checklist.Checklist, error) {
	if len(ids) == 0 {
		return cl, nil
	}
	byID := map[string]*checklist.Check{}
	for i := range cl.Checks {
		byID[cl.Checks[i].ID] = &cl.Checks[i]
	}
	keep := map[string]bool{}
	var add func(id string) error
	add = func(id string) error {
		if keep[id] {
			return nil
		}
		c, ok := byID[id]
		if !ok {
			known := make([]string, 0, len(cl.Checks))
			for _, c := range cl.Checks {
				known = append(known, c.ID)
			}
			return fmt.Errorf("cgoguard: checklist %s has no check %q (it has %s)", cl.Name, id, strings.Join(known, ", "))
		}
		keep[id] = true
		for _, d := range c.DependsOn {
			if err := add(d); err != nil {
				return err
			}
		}
		return nil
	}
	for _, id := range ids {
		if err := add(id); err != nil {
			return nil, err
		}
	}
	out := *cl
	out.Checks = nil
	for _, c := range cl.Checks {
		if keep[c.ID] {
			out.Checks = append(out.Checks, c)
		}
	}
	return &out, nil
}

// checkout makes a workspace of the request's head commit: a shared
// clone of the configured clone (no copy of its objects), the commit
// fetched from the forge's pull or merge request ref when the clone lacks
// it, checked out detached.
func (a *Agent) checkout(ctx context.Context, r *hub.RunRequest, attempt int) (string, error) {
	clone := a.o.clones[r.Forge+":"+r.Repo]
	if clone == "" {
		clone = a.o.clones[r.Repo]
	}
	if clone == "" {
		clone = a.o.defaultClone
	}
	if clone == "" {
		return "", fmt.Errorf("%w %s:%s (cgoguard agent --clone)", ErrNoClone, r.Forge, r.Repo)
	}
	if _, err := a.git(ctx, clone, "cat-file", "-e", r.Head+"^{commit}"); err != nil {
		if _, ferr := a.git(ctx, clone, "fetch", "--quiet", "origin", r.HeadRef); ferr != nil {
			return "", fmt.Errorf("cgoguard: commit %s is not in %s and fetching %s failed: %v", short(r.Head), clone, r.HeadRef, ferr)
		}
		if _, err := a.git(ctx, clone, "cat-file", "-e", r.Head+"^{commit}"); err != nil {
			return "", fmt.Errorf("cgoguard: commit %s is not in %s, even after fetching %s", short(r.Head), clone, r.HeadRef)
		}
	}
	ws := filepath.Join(a.o.workspace, fmt.Sprintf("%s-%d", r.ID, attempt))
	os.RemoveAll(ws)
	if _, err := a.git(ctx, "", "clone", "--quiet", "--shared", "--no-checkout", clone, ws); err != nil {
		return "", err
	}
	if _, err := a.git(ctx, ws, "checkout", "--quiet", "--detach", r.Head); err != nil {
		os.RemoveAll(ws)
		return "", err
	}
	return ws, nil
}

func (a *Agent) git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("cgoguard: git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// call sends one JSON request to the hub and decodes a 2xx answer into
// out; other answers are a *client.StatusError.
func (a *Agent) call(ctx context.Context, method, path string, body, out any) (int, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base.String()+path, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "cgoguard-agent")
	if a.o.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.o.token)
	}
	res, err := a.o.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	rb, _ := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if res.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		msg := strings.TrimSpace(string(rb))
		if json.Unmarshal(rb, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		return res.StatusCode, &client.StatusError{Code: res.StatusCode, Message: msg}
	}
	if out != nil && res.StatusCode != http.StatusNoContent {
		if err := json.Unmarshal(rb, out); err != nil {
			return res.StatusCode, fmt.Errorf("cgoguard: hub answered %s %s with an unreadable body: %w", method, path, err)
		}
	}
	return res.StatusCode, nil
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
