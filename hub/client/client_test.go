package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/hub"
	"github.com/cgoguard/cgoguard/hub/server"
	"github.com/cgoguard/cgoguard/hub/store"
)

// hubEnv starts a real hub on SQLite and returns its URL, a runner token
// and the store.
func hubEnv(t *testing.T) (*httptest.Server, string, store.Store) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s, err := server.New(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := st.CreateToken(ctx, "ci", hub.RoleRunner)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv, tok, st
}

func sampleResult() *checklist.Result {
	return &checklist.Result{Checklist: "cl", Started: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Duration: time.Second,
		Checks: []checklist.CheckResult{
			{ID: "A", Title: "a", Kind: "command", Outcome: checklist.Pass, Attempts: 2, Duration: 1500 * time.Millisecond},
			{ID: "B", Title: "b", Kind: "command", Outcome: checklist.Fail, Attempts: 1, Evidence: checklist.Evidence{Stdout: "boom"}},
		}}
}

func fast() Option { return WithRetry(4, time.Millisecond) }

func TestSendAndRetryStoredOnce(t *testing.T) {
	srv, tok, st := hubEnv(t)
	c, err := New(srv.URL+"/", WithToken(tok), fast())
	if err != nil {
		t.Fatal(err)
	}
	up, err := FromResult(sampleResult(), hub.Context{Repo: "org/x"})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := c.Send(context.Background(), up)
	if err != nil || rc.Status != "created" || rc.URL != "/runs/"+up.ID {
		t.Fatalf("send: %+v %v", rc, err)
	}
	rc, err = c.Send(context.Background(), up)
	if err != nil || rc.Status != "duplicate" {
		t.Fatalf("resend: %+v %v", rc, err)
	}
	run, err := st.Run(context.Background(), up.ID)
	if err != nil || run.Checks[0].DurationSeconds != 1.5 || run.Checks[1].Evidence.Stdout != "boom" || run.Counts.Flaky != 1 {
		t.Fatalf("stored: %+v %v", run, err)
	}
}

// flakyProxy fails the first n requests with 503, then forwards.
func flakyProxy(t *testing.T, target http.Handler, n int32) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= n {
			w.Header().Set("Retry-After", "0")
			http.Error(w, `{"error":"restarting"}`, http.StatusServiceUnavailable)
			return
		}
		target.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p, &calls
}

func TestRetriesTemporaryFailures(t *testing.T) {
	srv, tok, _ := hubEnv(t)
	p, calls := flakyProxy(t, srv.Config.Handler, 2)
	var logged []string
	c, _ := New(p.URL, WithToken(tok), fast(), WithLog(func(f string, a ...any) { logged = append(logged, f) }))
	up := NewUpload([]byte(`{"checklist":"c","checks":[]}`), hub.Context{})
	if _, err := c.Send(context.Background(), up); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 3 || len(logged) != 2 {
		t.Errorf("%d calls, %d retry lines; want 3 and 2", calls.Load(), len(logged))
	}
	// Out of attempts: the last error is returned.
	p2, _ := flakyProxy(t, srv.Config.Handler, 100)
	c2, _ := New(p2.URL, WithToken(tok), WithRetry(2, time.Millisecond))
	_, err := c2.Send(context.Background(), up)
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 503 || se.Message != "restarting" || !se.Temporary() {
		t.Fatalf("err %v", err)
	}
}

func TestRefusalsAreNotRetried(t *testing.T) {
	srv, tok, _ := hubEnv(t)
	p, calls := flakyProxy(t, srv.Config.Handler, 0)
	c, _ := New(p.URL, WithToken(tok), fast())
	up := NewUpload([]byte(`{"checklist":"c","checks":[]}`), hub.Context{})
	if _, err := c.Send(context.Background(), up); err != nil {
		t.Fatal(err)
	}
	up.Result = []byte(`{"checklist":"other","checks":[]}`)
	calls.Store(0)
	_, err := c.Send(context.Background(), up)
	if !errors.Is(err, hub.ErrConflict) || calls.Load() != 1 || !Rejected(err) {
		t.Fatalf("conflict: %v after %d calls", err, calls.Load())
	}
	bad, _ := New(p.URL, WithToken("cgh_bad"), fast())
	calls.Store(0)
	if _, err := bad.Send(context.Background(), NewUpload([]byte(`{}`), hub.Context{})); !errors.Is(err, hub.ErrUnauthorized) || calls.Load() != 1 || Rejected(err) {
		t.Fatalf("bad token: %v after %d calls", err, calls.Load())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	down, _ := New("http://127.0.0.1:1", WithRetry(5, time.Hour))
	start := time.Now()
	if _, err := down.Send(ctx, up); err == nil || time.Since(start) > time.Minute {
		t.Fatalf("cancelled send: %v", err)
	}
}

func TestSpoolKeepsWhatCannotBeSent(t *testing.T) {
	srv, tok, st := hubEnv(t)
	spool := t.TempDir()
	// The hub is "down": every request fails with 503 until we flip it.
	var down atomic.Bool
	down.Store(true)
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		srv.Config.Handler.ServeHTTP(w, r)
	}))
	defer p.Close()
	c, _ := New(p.URL, WithToken(tok), WithRetry(2, time.Millisecond), WithSpool(spool))
	var ids []string
	for i := range 3 {
		up := NewUpload([]byte(`{"checklist":"c","checks":[{"id":"A","outcome":"pass","attempts":1}],"duration_seconds":`+string(rune('1'+i))+`}`), hub.Context{})
		ids = append(ids, up.ID)
		_, err := c.Deliver(context.Background(), up)
		var se *SpoolError
		if !errors.Is(err, ErrSpooled) || !errors.As(err, &se) {
			t.Fatalf("deliver while down: %v", err)
		}
		info, err := os.Stat(se.Path)
		if err != nil || info.Mode().Perm() != 0o600 || filepath.Dir(se.Path) != c.SpoolDir() {
			t.Fatalf("spool file %s: %v %v", se.Path, info, err)
		}
		time.Sleep(10 * time.Millisecond) // distinct modification times keep the order
	}
	if res, err := c.Flush(context.Background()); err == nil || res.Left != 3 {
		t.Fatalf("flush while down: %+v %v", res, err)
	}
	// A spooled run that the hub will refuse (its id holds other content)
	// is set aside; the others are sent in order.
	conflict := &hub.Upload{FormatVersion: 1, ID: ids[1], Result: json.RawMessage(`{"checklist":"x","checks":[]}`)}
	down.Store(false)
	if _, err := c.Send(context.Background(), conflict); err != nil {
		t.Fatal(err)
	}
	res, err := c.Flush(context.Background())
	if err != nil || len(res.Sent) != 2 || res.Sent[0] != ids[0] || res.Sent[1] != ids[2] || len(res.Rejected) != 1 {
		t.Fatalf("flush: %+v %v", res, err)
	}
	if left, _ := c.Spooled(); len(left) != 0 {
		t.Fatalf("spool not emptied: %v", left)
	}
	if _, err := os.Stat(res.Rejected[0]); err != nil || !strings.Contains(res.Rejected[0], "rejected") {
		t.Fatalf("rejected file not kept: %v", err)
	}
	// The spool says which hub its runs (also the rejected ones) go to.
	for _, path := range []string{c.SpoolDir(), res.Rejected[0]} {
		if u, err := SpoolHub(path); err != nil || u != p.URL {
			t.Errorf("SpoolHub(%s) = %q, %v; want %s", path, u, err, p.URL)
		}
	}
	if _, err := SpoolHub(t.TempDir()); !errors.Is(err, ErrNoSpoolHub) {
		t.Errorf("SpoolHub of a directory without %s: %v", SpoolHubFile, err)
	}
	for _, id := range []string{ids[0], ids[2]} {
		if _, err := st.Run(context.Background(), id); err != nil {
			t.Errorf("spooled run %s not stored: %v", id, err)
		}
	}
	// Another hub URL has its own spool.
	other, _ := New("http://elsewhere:1", WithSpool(spool))
	if other.SpoolDir() == c.SpoolDir() {
		t.Error("two hubs share a spool directory")
	}
}

func TestReadUpload(t *testing.T) {
	dir := t.TempDir()
	res := filepath.Join(dir, "res.json")
	os.WriteFile(res, []byte(`{"checklist":"c","checks":[]}`+"\n"), 0o644)
	a, err := ReadUpload(res, hub.Context{Repo: "r"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ReadUpload(res, hub.Context{Repo: "r"})
	c, _ := ReadUpload(res, hub.Context{Repo: "other"})
	if a.ID != b.ID || a.ID == c.ID || !hub.ValidID(a.ID) || a.FormatVersion != hub.FormatVersion {
		t.Fatalf("ids: %s %s %s", a.ID, b.ID, c.ID)
	}
	env := filepath.Join(dir, "up.json")
	raw, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(env, raw, 0o644)
	if u, err := ReadUpload(env, hub.Context{Repo: "ignored"}); err != nil || u.ID != a.ID || u.Context.Repo != "r" {
		t.Fatalf("envelope: %+v %v", u, err)
	}
	for name, content := range map[string]string{"notjson": "{", "other": `{"a":1}`} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o644)
		if _, err := ReadUpload(p, hub.Context{}); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if _, err := ReadUpload(filepath.Join(dir, "missing"), hub.Context{}); err == nil {
		t.Error("missing file accepted")
	}
}

func TestDetectContext(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want hub.Context
	}{
		{"none", map[string]string{}, hub.Context{}},
		{"github push", map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "org/svc", "GITHUB_REF_NAME": "main",
			"GITHUB_SHA": "abc", "GITHUB_RUN_ID": "42", "GITHUB_SERVER_URL": "https://github.example"},
			hub.Context{CI: "github", Repo: "org/svc", Branch: "main", Commit: "abc", JobURL: "https://github.example/org/svc/actions/runs/42"}},
		{"github pull request retry", map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "org/svc", "GITHUB_REF_NAME": "7/merge",
			"GITHUB_HEAD_REF": "feature", "GITHUB_SHA": "abc", "GITHUB_RUN_ID": "42", "GITHUB_RUN_ATTEMPT": "2"},
			hub.Context{CI: "github", Repo: "org/svc", Branch: "feature", Commit: "abc", JobURL: "https://github.com/org/svc/actions/runs/42/attempts/2"}},
		{"gitlab merge request", map[string]string{"GITLAB_CI": "true", "CI_PROJECT_PATH": "grp/svc", "CI_COMMIT_REF_NAME": "x",
			"CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feat", "CI_COMMIT_SHA": "def", "CI_JOB_URL": "https://gl/job/1"},
			hub.Context{CI: "gitlab", Repo: "grp/svc", Branch: "feat", Commit: "def", JobURL: "https://gl/job/1"}},
		{"jenkins", map[string]string{"JENKINS_URL": "https://j/", "GIT_URL": "https://git/svc.git", "GIT_BRANCH": "origin/main",
			"GIT_COMMIT": "123", "BUILD_URL": "https://j/job/svc/9/"},
			hub.Context{CI: "jenkins", Repo: "svc", Branch: "main", Commit: "123", JobURL: "https://j/job/svc/9/"}},
		// Without the marker variable (a container that passes on only
		// some variables), the context variables still name the CI.
		{"github without GITHUB_ACTIONS", map[string]string{"GITHUB_REPOSITORY": "org/svc", "GITHUB_REF_NAME": "main",
			"GITHUB_SHA": "abc", "GITHUB_RUN_ID": "42", "GITHUB_SERVER_URL": "https://ghe.example/"},
			hub.Context{CI: "github", Repo: "org/svc", Branch: "main", Commit: "abc", JobURL: "https://ghe.example/org/svc/actions/runs/42"}},
		{"github pull request without marker", map[string]string{"GITHUB_HEAD_REF": "feature", "GITHUB_REF_NAME": "7/merge", "GITHUB_SHA": "abc"},
			hub.Context{CI: "github", Branch: "feature", Commit: "abc"}},
		{"gitlab without GITLAB_CI", map[string]string{"CI_PROJECT_PATH": "grp/sub/svc", "CI_COMMIT_REF_NAME": "main",
			"CI_COMMIT_SHA": "def", "CI_JOB_URL": "https://gl/grp/sub/svc/-/jobs/5"},
			hub.Context{CI: "gitlab", Repo: "grp/sub/svc", Branch: "main", Commit: "def", JobURL: "https://gl/grp/sub/svc/-/jobs/5"}},
		{"gitlab merge request without marker", map[string]string{"CI_COMMIT_REF_NAME": "x", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feat", "CI_COMMIT_SHA": "def"},
			hub.Context{CI: "gitlab", Branch: "feat", Commit: "def"}},
		{"jenkins without JENKINS_URL", map[string]string{"GIT_URL": "https://git.example/org/svc.git", "GIT_BRANCH": "origin/release/1.2",
			"GIT_COMMIT": "123", "BUILD_URL": "https://j/job/svc/9/"},
			hub.Context{CI: "jenkins", Repo: "org/svc", Branch: "release/1.2", Commit: "123", JobURL: "https://j/job/svc/9/"}},
		{"jenkins GIT_URL with credentials", map[string]string{"JENKINS_URL": "https://j/", "GIT_URL": "https://user:tok3n@git.example/org/svc.git",
			"GIT_COMMIT": "123", "BUILD_URL": "https://builder:pw@j/job/svc/9/"},
			hub.Context{CI: "jenkins", Repo: "org/svc", Commit: "123", JobURL: "https://j/job/svc/9/"}},
		{"jenkins GIT_URL with credentials, no marker", map[string]string{"GIT_URL": "https://x-access-token:ghs_SECRET@github.com/org/svc"},
			hub.Context{CI: "jenkins", Repo: "org/svc"}},
		{"jenkins scp-like GIT_URL", map[string]string{"JENKINS_URL": "https://j/", "GIT_URL": "git@git.example:org/svc.git"},
			hub.Context{CI: "jenkins", Repo: "org/svc"}},
		// The marker decides when variables of several CIs are present.
		{"marker wins", map[string]string{"GITLAB_CI": "true", "CI_PROJECT_PATH": "grp/svc", "GITHUB_REPOSITORY": "org/other", "GIT_URL": "https://x/y.git"},
			hub.Context{CI: "gitlab", Repo: "grp/svc"}},
		{"GITHUB_ACTIONS=false is no marker", map[string]string{"GITHUB_ACTIONS": "false"}, hub.Context{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DetectContext(func(k string) string { return tt.env[k] }); got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestRepoName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"https://git.example/org/svc.git", "org/svc"},
		{"https://user:token@git.example/org/svc.git", "org/svc"},
		{"https://token@git.example:8443/grp/sub/svc/", "grp/sub/svc"},
		{"ssh://git@git.example:22/org/svc", "org/svc"},
		{"git@git.example:org/svc.git", "org/svc"},
		{"https://user:secret@git.example", "https://git.example"},
		{"org/svc", "org/svc"},
		{"/srv/git/svc.git", "/srv/git/svc.git"},
	}
	for _, tt := range tests {
		got := RepoName(tt.in)
		if got != tt.want || strings.Contains(got, "token") || strings.Contains(got, "secret") {
			t.Errorf("RepoName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFillFromGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@x", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@x")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", "trunk")
	git("remote", "add", "origin", "https://user:secret@git.example/org/svc.git")
	git("commit", "-q", "--allow-empty", "-m", "x")
	head := git("rev-parse", "HEAD")
	var c hub.Context
	FillFromGit(context.Background(), &c, dir)
	if c.Repo != "org/svc" || c.Branch != "trunk" || c.Commit != head {
		t.Fatalf("%+v", c)
	}
	c = hub.Context{Branch: "given"}
	FillFromGit(context.Background(), &c, dir)
	if c.Branch != "given" {
		t.Error("a given field was overwritten")
	}
	c = hub.Context{}
	FillFromGit(context.Background(), &c, t.TempDir())
	if c != (hub.Context{}) {
		t.Errorf("outside a checkout: %+v", c)
	}
}

func TestNewRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "hub:8420", "ftp://x", "http://"} {
		if _, err := New(u); err == nil {
			t.Errorf("New(%q) accepted", u)
		}
	}
	if id := NewID(); !hub.ValidID(id) || len(id) != 36 || id[14] != '4' {
		t.Errorf("NewID %q", id)
	}
}

// TestSpoolPathsComeFromValidIDsOnly: a run id is the only value that names
// a spool file, and one that could leave the directory is refused.
func TestSpoolPathsComeFromValidIDsOnly(t *testing.T) {
	root := t.TempDir()
	c, _ := New("http://127.0.0.1:1", WithSpool(filepath.Join(root, "spool")), WithRetry(1, time.Millisecond))
	for _, id := range []string{"../escape", "/etc/passwd", "a/b", ".hidden", ""} {
		up := &hub.Upload{FormatVersion: 1, ID: id, Result: json.RawMessage(`{}`)}
		if _, err := c.Spool(up); err == nil {
			t.Errorf("spooled id %q", id)
		}
		if _, err := c.Deliver(context.Background(), up); errors.Is(err, ErrSpooled) {
			t.Errorf("delivered id %q to the spool", id)
		}
	}
	var found []string
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			found = append(found, p)
		}
		return nil
	})
	if len(found) != 0 {
		t.Errorf("files written: %v", found)
	}
}
