package agent

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard/hub"
	"github.com/cgoguard/cgoguard/hub/internal/forgestub"
	"github.com/cgoguard/cgoguard/hub/internal/pgtest"
	"github.com/cgoguard/cgoguard/hub/server"
	"github.com/cgoguard/cgoguard/hub/store"
)

// The kill test runs agents as child processes: this test binary
// re-executed with agentEnv set.
const agentEnv = "CGOGUARD_AGENT_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(agentEnv) != "" {
		os.Exit(agentChild())
	}
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// agentChild runs an agent until killed, with its settings from the
// environment, logging to stderr.
func agentChild() int {
	var cfg struct{ Hub, Token, Name, Clone, Workspace, Cache string }
	if err := json.Unmarshal([]byte(os.Getenv(agentEnv)), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	a, err := New(cfg.Hub, WithToken(cfg.Token), WithName(cfg.Name), WithClone("", cfg.Clone), WithWorkspace(cfg.Workspace),
		WithCache(cfg.Cache), WithWait(time.Second), WithParallelism(1),
		WithLog(func(f string, args ...any) { fmt.Fprintf(os.Stderr, f+"\n", args...) }))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Fprintln(os.Stderr, "agent ready")
	if err := a.Run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

const ghSecret = "secret"

// world is a hub with a forge stub, the team checklist approved and a
// git repository to check out.
type world struct {
	t       *testing.T
	srv     *httptest.Server
	st      store.Store
	stub    *forgestub.Stub
	runner  string
	clone   string
	head    string
	tmp     string
	marker  string
	viewer  string
	checkYA string
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func needGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("git is not installed, and CI is set")
		}
		t.Skip("skipping: git not installed")
	}
}

func newWorld(t *testing.T, dsn string, checks string, leaseTTL time.Duration) *world {
	t.Helper()
	needGit(t)
	w := &world{t: t, tmp: t.TempDir()}
	w.marker = filepath.Join(w.tmp, "first-attempt")
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w.st = st
	w.stub = forgestub.New()
	t.Cleanup(w.stub.Close)
	s, err := server.New(ctx, st, server.WithGitHubWebhook(ghSecret),
		server.WithRepos(server.RepoRule{Forge: "github", Repo: "org/svc", Checklist: "team"}),
		server.WithForge(hub.ForgeGitHub, server.Forge{APIURL: w.stub.URL}), server.WithLeases(leaseTTL, 3),
		server.WithLongPoll(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	w.srv = httptest.NewServer(s)
	t.Cleanup(w.srv.Close)
	w.runner, _, _ = st.CreateToken(ctx, "agents", hub.RoleRunner)
	w.viewer, _, _ = st.CreateToken(ctx, "viewer", hub.RoleViewer)

	w.clone = filepath.Join(w.tmp, "clone")
	os.MkdirAll(w.clone, 0o755)
	git(t, w.clone, "init", "-q")
	os.WriteFile(filepath.Join(w.clone, "answer.txt"), []byte("42\n"), 0o644)
	git(t, w.clone, "add", ".")
	git(t, w.clone, "commit", "-q", "-m", "first")
	os.WriteFile(filepath.Join(w.clone, "answer.txt"), []byte("43\n"), 0o644)
	git(t, w.clone, "commit", "-q", "-am", "second")
	w.head = git(t, w.clone, "rev-parse", "HEAD~1") // not the checked-out commit
	w.stub.SetHead("org/svc", 5, w.head)

	yaml := "checklist: team\nchecks:\n" + checks
	cl, err := hub.ValidateChecklist("team.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	actx := hub.WithActor(ctx, hub.Actor{Name: "alice"})
	if _, _, err := st.PutChecklistVersion(actx, &hub.ChecklistVersion{Name: "team", YAML: yaml, Digest: hub.ChecklistDigest([]byte(yaml)), Checks: len(cl.Checks)}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ReviewChecklistVersion(hub.WithActor(ctx, hub.Actor{Name: "bob"}), "team", 1, true, ""); err != nil {
		t.Fatal(err)
	}
	return w
}

// comment posts "/checklist run ..." as a GitHub webhook delivery.
func (w *world) comment(id int64, body string) string {
	w.t.Helper()
	b, _ := json.Marshal(map[string]any{
		"action":     "created",
		"issue":      map[string]any{"number": 5, "pull_request": map[string]string{}},
		"comment":    map[string]any{"id": id, "body": body, "author_association": "MEMBER", "user": map[string]string{"login": "dev"}},
		"repository": map[string]string{"full_name": "org/svc"},
	})
	m := hmac.New(sha256.New, []byte(ghSecret))
	m.Write(b)
	req, _ := http.NewRequest("POST", w.srv.URL+"/api/v1/hooks/github", strings.NewReader(string(b)))
	req.Header.Set("X-GitHub-Event", "issue_comment")
	req.Header.Set("X-GitHub-Delivery", fmt.Sprint("delivery-", id))
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(m.Sum(nil)))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]string
	json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode != 202 {
		w.t.Fatalf("webhook: %d %v", res.StatusCode, out)
	}
	return out["request"]
}

func (w *world) request(id string) *hub.RunRequest {
	r, err := w.st.Request(context.Background(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

// waitFor polls cond for up to d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type child struct {
	name string
	cmd  *exec.Cmd
	mu   sync.Mutex
	log  strings.Builder
	done chan struct{}
}

func (c *child) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.log.String()
}

func (w *world) startAgent(name string) *child {
	w.t.Helper()
	cfg, _ := json.Marshal(map[string]string{"Hub": w.srv.URL, "Token": w.runner, "Name": name, "Clone": w.clone,
		"Workspace": filepath.Join(w.tmp, "ws-"+name), "Cache": filepath.Join(w.tmp, "cache-"+name)})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), agentEnv+"="+string(cfg))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		w.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	c := &child{name: name, cmd: cmd, done: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		once := sync.Once{}
		for sc.Scan() {
			c.mu.Lock()
			c.log.WriteString(sc.Text() + "\n")
			c.mu.Unlock()
			if sc.Text() == "agent ready" {
				once.Do(func() { close(ready) })
			}
		}
	}()
	go func() { cmd.Wait(); close(c.done) }()
	w.t.Cleanup(func() {
		cmd.Process.Kill()
		<-c.done
		if w.t.Failed() {
			w.t.Logf("agent %s said:\n%s", name, c.output())
		}
	})
	select {
	case <-ready:
	case <-c.done:
		w.t.Fatalf("agent %s exited: %s", name, c.output())
	case <-time.After(30 * time.Second):
		w.t.Fatalf("agent %s did not start", name)
	}
	return c
}

// TestKilledAgentRequestCompletesOnce starts two agent processes, kills
// (SIGKILL) the one that leased the request in the middle of its run, and
// checks that the other completes the request once: one run stored, one
// comment posted, the killed agent's attempt counted.
func TestKilledAgentRequestCompletesOnce(t *testing.T) {
	for _, b := range []string{"sqlite", "postgres"} {
		t.Run(b, func(t *testing.T) {
			dsn := filepath.Join(t.TempDir(), "hub.db")
			if b == "postgres" {
				dsn = pgtest.Need(t).NewDatabase(t)
			}
			killedAgentRun(t, dsn)
		})
	}
}

func killedAgentRun(t *testing.T, dsn string) {
	// The first attempt records the pid of its sleep and sleeps (it is
	// killed then); the second finds the marker and checks the commit.
	marker := filepath.Join(t.TempDir(), "first-attempt")
	checks := fmt.Sprintf(`  - id: SLOW
    title: the first attempt hangs
    kind: command
    timeout_seconds: 120
    with: {run: "if [ -e %s ]; then echo second attempt; else echo $$ > %s; exec sleep 60; fi"}
  - id: ANSWER
    title: the checked-out commit is the pull request's head
    kind: command
    with: {run: "grep -qx 42 answer.txt"}
  - id: OTHER
    title: not requested
    kind: command
    with: {run: "exit 1"}
`, marker, marker)
	w := newWorld(t, dsn, checks, 2*time.Second)
	a, b := w.startAgent("agent-a"), w.startAgent("agent-b")
	agents := map[string]*child{"agent-a": a, "agent-b": b}
	t.Cleanup(func() {
		if pid, err := os.ReadFile(marker); err == nil {
			if n, err := strconv.Atoi(strings.TrimSpace(string(pid))); err == nil {
				syscall.Kill(n, syscall.SIGKILL) // the orphaned sleep of the killed agent
			}
		}
	})

	id := w.comment(900, "/checklist run SLOW ANSWER")
	waitFor(t, 30*time.Second, "the first attempt to start", func() bool {
		_, err := os.Stat(marker)
		return err == nil && strings.HasPrefix(w.request(id).LeaseOwner, "agents (")
	})
	r := w.request(id)
	if r.State != hub.RequestLeased || r.Attempts != 1 {
		t.Fatalf("request while the first attempt runs: %+v", r)
	}
	var victim, survivor *child
	for name, c := range agents {
		if strings.Contains(r.LeaseOwner, "("+name+")") {
			victim = c
		} else {
			survivor = c
		}
	}
	if victim == nil {
		t.Fatalf("lease owner %q is neither agent", r.LeaseOwner)
	}
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-victim.done
	killedAt := time.Now()

	waitFor(t, 60*time.Second, "the request to complete and its comment", func() bool {
		r := w.request(id)
		return r.State == hub.RequestDone && r.CommentState == "posted"
	})
	r = w.request(id)
	if time.Since(killedAt) < time.Second {
		t.Errorf("the request completed %s after the kill, before the 2 s lease could expire", time.Since(killedAt))
	}
	if r.Attempts != 2 || !strings.Contains(r.LeaseOwner, "("+survivor.name+")") || r.RunID == "" || r.CommentState != "posted" {
		t.Fatalf("done: %+v", r)
	}
	// Exactly one run and one comment.
	page, err := w.st.Runs(context.Background(), store.RunFilter{Limit: store.MaxLimit})
	if err != nil || len(page.Runs) != 1 || page.Runs[0].ID != r.RunID || page.Runs[0].RequestID != id {
		t.Fatalf("runs: %+v %v", page, err)
	}
	run, _ := w.st.Run(context.Background(), r.RunID)
	if len(run.Checks) != 2 || run.Outcome != hub.OutcomePass || run.ChecklistVersion != 1 || run.Context.Commit != w.head {
		t.Fatalf("run: %+v %+v", run.RunSummary, run.Checks)
	}
	if !strings.Contains(run.Checks[0].Evidence.Stdout, "second attempt") {
		t.Errorf("SLOW evidence: %q", run.Checks[0].Evidence.Stdout)
	}
	cs := w.stub.Comments()
	if len(cs) != 1 || !strings.Contains(cs[0].Body, "team version 1 passed") || cs[0].Number != 5 {
		t.Fatalf("comments: %+v", cs)
	}
	// The survivor keeps polling; nothing else is left to run.
	time.Sleep(500 * time.Millisecond)
	if n := len(w.stub.Comments()); n != 1 {
		t.Errorf("%d comments", n)
	}
	audit, _ := w.st.Audit(context.Background(), store.AuditFilter{Action: "request", Limit: 50})
	var lines []string
	for _, e := range audit.Entries {
		lines = append(lines, e.Action+" "+e.Outcome)
	}
	if strings.Join(lines, ",") != "request.comment ok,request.complete ok,request.lease ok,request.lease ok" {
		t.Errorf("audit: %v", lines)
	}
}

// TestAgentReportsWhatCannotRun: an unknown check id and a commit the
// clone does not have end the request as failed, with the reason posted.
func TestAgentReportsWhatCannotRun(t *testing.T) {
	w := newWorld(t, filepath.Join(t.TempDir(), "hub.db"), `  - id: A
    title: a
    kind: command
    with: {run: "true"}
`, 10*time.Second)
	ag, err := New(w.srv.URL, WithToken(w.runner), WithClone("org/svc", w.clone), WithWorkspace(filepath.Join(w.tmp, "ws")),
		WithCache(filepath.Join(w.tmp, "cache")), WithWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	id := w.comment(1, "/checklist run A NOPE")
	if handled, err := ag.Once(context.Background()); !handled || err != nil {
		t.Fatalf("once: %v %v", handled, err)
	}
	r := w.request(id)
	if r.State != hub.RequestFailed || !strings.Contains(r.Error, `checklist team has no check "NOPE" (it has A)`) {
		t.Fatalf("unknown check: %+v", r)
	}
	w.stub.SetHead("org/svc", 5, strings.Repeat("ab", 20))
	id = w.comment(2, "/checklist run all")
	ag.Once(context.Background())
	waitFor(t, 10*time.Second, "the second comment", func() bool { return len(w.stub.Comments()) == 2 })
	if r := w.request(id); r.State != hub.RequestFailed || !strings.Contains(r.Error, "is not in") {
		t.Fatalf("missing commit: %+v", r)
	}
	cs := w.stub.Comments()
	if len(cs) != 2 || !strings.Contains(cs[0].Body, "could not run") || !strings.Contains(cs[1].Body, "abababababab") {
		t.Fatalf("comments: %+v", cs)
	}
	// Nothing queued: Once returns after the wait.
	if handled, err := ag.Once(context.Background()); handled || err != nil {
		t.Fatalf("empty queue: %v %v", handled, err)
	}
	// A viewer token cannot lease.
	bad, _ := New(w.srv.URL, WithToken(w.viewer), WithClone("", w.clone), WithWorkspace(filepath.Join(w.tmp, "ws2")))
	if err := bad.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("viewer agent: %v", err)
	}
}
