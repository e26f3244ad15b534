package chaos

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
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// DefaultAdminPath is the path where a process mounts Handler by
// convention (examples/service does): an admin URL without a path, the
// process's base URL such as http://127.0.0.1:8080, means the endpoint at
// this path. A URL with a path is used as given.
const DefaultAdminPath = "/debug/cgoguard/failpoints"

// AdminClient talks to a process's failpoint admin endpoint (Handler).
type AdminClient struct {
	// Base is the endpoint's URL, e.g. http://127.0.0.1:8080/debug/cgoguard/failpoints,
	// or the process's base URL, e.g. http://127.0.0.1:8080, which means
	// the endpoint at DefaultAdminPath.
	Base string
	// Token is sent as the bearer token.
	Token string
	// Client is the HTTP client; nil means http.DefaultClient.
	Client *http.Client
}

// ErrUnreachable says the admin endpoint did not accept a connection: the
// process is gone (and its failpoints with it) or the URL is wrong.
var ErrUnreachable = errors.New("cgoguard: admin endpoint unreachable")

// adminURL returns the admin endpoint's URL for base: base with the path
// DefaultAdminPath when it is an http(s) URL without a path (or with "/"),
// base as given otherwise.
func adminURL(base string) string {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return base
	}
	if u.Path != "" && u.Path != "/" {
		return base
	}
	u.Path, u.RawPath = DefaultAdminPath, ""
	return u.String()
}

// base is the endpoint's URL (Base, resolved by adminURL).
func (a *AdminClient) base() string { return adminURL(a.Base) }

func (a *AdminClient) do(ctx context.Context, method, rawURL, body string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, rawURL, strings.NewReader(body))
	if err != nil {
		return err
	}
	if a.Token != "" {
		req.Header.Set("Authorization", "Bearer "+a.Token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	}
	c := a.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("%w: %s %s: %v", ErrUnreachable, method, rawURL, err)
		}
		return fmt.Errorf("cgoguard: %s %s: %w", method, rawURL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("cgoguard: %s %s: reading the answer: %w", method, rawURL, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		msg := strings.TrimSpace(string(data))
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		return fmt.Errorf("cgoguard: %s %s: %s: %s", method, rawURL, resp.Status, msg)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("cgoguard: %s %s: the answer is not the admin endpoint's JSON: %w", method, rawURL, err)
		}
	}
	return nil
}

type adminList struct {
	Failpoints []Info `json:"failpoints"`
}

// Set sets spec with ttl and returns the failpoints listed afterwards.
func (a *AdminClient) Set(ctx context.Context, spec string, ttl time.Duration) ([]Info, error) {
	var l adminList
	u := a.base() + "?ttl=" + url.QueryEscape(ttl.String())
	err := a.do(ctx, http.MethodPut, u, spec, &l)
	return l.Failpoints, err
}

// List returns the failpoints set.
func (a *AdminClient) List(ctx context.Context) ([]Info, error) {
	var l adminList
	err := a.do(ctx, http.MethodGet, a.base(), "", &l)
	return l.Failpoints, err
}

// Clear clears target's failpoint, or every failpoint for "".
func (a *AdminClient) Clear(ctx context.Context, target string) error {
	u := a.base()
	if target != "" {
		u += "?target=" + url.QueryEscape(target)
	}
	return a.do(ctx, http.MethodDelete, u, "", nil)
}

// Reset resets the module (Module.Reset).
func (a *AdminClient) Reset(ctx context.Context, module string) error {
	return a.do(ctx, http.MethodPost, strings.TrimRight(a.base(), "/")+"/reset?module="+url.QueryEscape(module), "", nil)
}

// injector puts one experiment's fault in place and takes it away.
type injector interface {
	// inject returns the fault's id (a command's captured output).
	inject(ctx context.Context) (id string, err error)
	// renew keeps a fault with a TTL alive.
	renew(ctx context.Context) error
	// fired returns how many calls the fault acted on, when known.
	fired(ctx context.Context) (uint64, bool)
	revert(ctx context.Context) error
}

type failpointInjector struct {
	admin  *AdminClient
	spec   string
	target string
	ttl    time.Duration
}

func (f *failpointInjector) inject(ctx context.Context) (string, error) {
	fps, err := f.admin.Set(ctx, f.spec, f.ttl)
	if err != nil {
		return "", err
	}
	for _, in := range fps {
		if in.Target == f.target {
			return in.Target, nil
		}
	}
	return "", fmt.Errorf("cgoguard: the admin endpoint accepted %q but does not list %s", f.spec, f.target)
}

func (f *failpointInjector) renew(ctx context.Context) error {
	_, err := f.admin.Set(ctx, f.spec, f.ttl)
	return err
}

func (f *failpointInjector) fired(ctx context.Context) (uint64, bool) {
	fps, err := f.admin.List(ctx)
	if err != nil {
		return 0, false
	}
	for _, in := range fps {
		if in.Target == f.target {
			return in.Fired, true
		}
	}
	return 0, false
}

func (f *failpointInjector) revert(ctx context.Context) error { return f.admin.Clear(ctx, f.target) }

type commandInjector struct {
	r       *Runner
	e       *Experiment
	capture *regexp.Regexp
	id      string
	out     *string // where the last command's output goes, for the result
}

func (c *commandInjector) inject(ctx context.Context) (string, error) {
	out, err := c.r.shell(ctx, c.e.Inject, c.e.CommandTimeout.D(), c.env(""))
	*c.out = out.String()
	if err != nil {
		return "", fmt.Errorf("inject command: %w%s", err, out.tail())
	}
	c.id = captureID(c.capture, out.stdout)
	return c.id, nil
}

func captureID(re *regexp.Regexp, stdout string) string {
	if re != nil {
		m := re.FindStringSubmatch(stdout)
		switch {
		case m == nil:
			return ""
		case len(m) > 1:
			return m[1]
		}
		return m[0]
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func (c *commandInjector) env(id string) []string {
	return []string{"CHAOS_ID=" + id, "CHAOS_EXPERIMENT=" + c.e.Name}
}

func (c *commandInjector) renew(context.Context) error { return nil }

func (c *commandInjector) fired(context.Context) (uint64, bool) { return 0, false }

func (c *commandInjector) revert(ctx context.Context) error {
	out, err := c.r.shell(ctx, c.e.Revert, c.e.CommandTimeout.D(), c.env(c.id))
	*c.out += out.String()
	if err != nil {
		return fmt.Errorf("revert command: %w%s", err, out.tail())
	}
	return nil
}

// output is a command's bounded output.
type output struct {
	cmd            string
	stdout, stderr string
}

func (o output) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "$ %s\n", o.cmd)
	b.WriteString(o.stdout)
	if o.stderr != "" {
		b.WriteString(o.stderr)
	}
	return b.String()
}

// tail is the end of stderr (or stdout) for error messages.
func (o output) tail() string {
	s := strings.TrimSpace(o.stderr)
	if s == "" {
		s = strings.TrimSpace(o.stdout)
	}
	if s == "" {
		return ""
	}
	if len(s) > 400 {
		s = "..." + s[len(s)-400:]
	}
	return ": " + s
}

// maxOutput bounds what is kept of each stream of a command.
const maxOutput = 16 << 10

type boundedBuffer struct {
	b       bytes.Buffer
	dropped int
}

func (w *boundedBuffer) Write(p []byte) (int, error) {
	if room := maxOutput - w.b.Len(); room < len(p) {
		if room > 0 {
			w.b.Write(p[:room])
		}
		w.dropped += len(p) - max(room, 0)
		return len(p), nil
	}
	return w.b.Write(p)
}

func (w *boundedBuffer) String() string {
	if w.dropped > 0 {
		return w.b.String() + "\n[" + strconv.Itoa(w.dropped) + " bytes dropped]\n"
	}
	return w.b.String()
}

// shell runs cmd in the runner's directory.
func (r *Runner) shell(ctx context.Context, cmd string, timeout time.Duration, env []string) (output, error) {
	return runShell(ctx, r.o.dir, cmd, timeout, env)
}

// runShell runs cmd with sh -c in dir, in its own process group, killed
// (the whole group) on timeout or when ctx ends.
func runShell(ctx context.Context, dir, cmd string, timeout time.Duration, env []string) (output, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := exec.CommandContext(ctx, "/bin/sh", "-c", cmd)
	c.Dir = dir
	c.Env = append(os.Environ(), env...)
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
	c.WaitDelay = time.Second
	var so, se boundedBuffer
	c.Stdout, c.Stderr = &so, &se
	err := c.Run()
	o := output{cmd: cmd, stdout: so.String(), stderr: se.String()}
	if ctx.Err() == context.DeadlineExceeded {
		return o, fmt.Errorf("timed out after %v", timeout)
	}
	return o, err
}
