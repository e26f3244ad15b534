package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard/hub"
	"github.com/cgoguard/cgoguard/hub/client"
	"github.com/cgoguard/cgoguard/hub/server"
	"github.com/cgoguard/cgoguard/hub/store"
)

func runCmd(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

var tokenRe = regexp.MustCompile(`^cgh_[0-9a-f]{16}_[A-Za-z0-9_-]{43}\n$`)

// TestHubTokenGolden covers hub token's errors; golden files are
// testdata/hub/<case>.exit<code>.<stream>.golden.
func TestHubTokenGolden(t *testing.T) {
	db := filepath.Join(t.TempDir(), "hub.db")
	tests := []struct {
		name string
		args []string
		exit int
	}{
		{"token-no-mode", []string{"hub", "token", "--db", db}, 2},
		{"token-two-modes", []string{"hub", "token", "--db", db, "--list", "--revoke", "x"}, 2},
		{"token-bad-role", []string{"hub", "token", "--db", db, "--role", "owner", "--name", "x"}, 2},
		{"token-no-name", []string{"hub", "token", "--db", db, "--role", "viewer"}, 2},
		{"token-bad-name", []string{"hub", "token", "--db", db, "--role", "viewer", "--name", "a b"}, 2},
		{"token-revoke-unknown", []string{"hub", "token", "--db", db, "--revoke", "nobody"}, 1},
		{"token-list-empty", []string{"hub", "token", "--db", db, "--list"}, 0},
		{"push-no-url", []string{"hub", "push", "testdata/check/passing.yaml"}, 2},
		{"push-missing-file", []string{"hub", "push", "--report-to", "http://127.0.0.1:1", "testdata/hub/none.json"}, 2},
		{"serve-bad-auth", []string{"hub", "--auth", "none"}, 2},
		{"serve-bad-dsn", []string{"hub", "--db", "mysql://u:secret@h/db"}, 2},
		{"token-bad-dsn", []string{"hub", "token", "--db", "sqlite://", "--list"}, 2},
		{"serve-bad-window", []string{"hub", "--metrics-window", "soon"}, 2},
		{"serve-extra-arg", []string{"hub", "serve"}, 2},
		{"check-bad-report-to", []string{"check", "--report-to", "hub:8420", "-list"}, 2},
		{"check-repo-without-report-to", []string{"check", "--repo", "x", "-list"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CGOGUARD_HUB_URL", "")
			code, stdout, stderr := runCmd(tt.args...)
			if code != tt.exit {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.exit, stdout, stderr)
			}
			for stream, out := range map[string]string{"stdout": stdout, "stderr": strings.ReplaceAll(stderr, db, "DB")} {
				path := filepath.Join("testdata", "hub", fmt.Sprintf("%s.exit%d.%s.golden", tt.name, tt.exit, stream))
				if *update {
					os.MkdirAll(filepath.Dir(path), 0o755)
					if out == "" {
						os.Remove(path)
						continue
					}
					if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if os.IsNotExist(err) {
					want = nil
				} else if err != nil {
					t.Fatal(err)
				}
				if out != string(want) {
					t.Errorf("%s differs from %s:\n got: %q\nwant: %q", stream, path, out, want)
				}
			}
		})
	}
}

func TestHubTokenLifecycle(t *testing.T) {
	db := filepath.Join(t.TempDir(), "hub.db")
	code, out, errOut := runCmd("hub", "token", "--db", db, "--role", "runner", "--name", "ci")
	if code != 0 || !tokenRe.MatchString(out) || !strings.Contains(errOut, "shown only now") {
		t.Fatalf("create: %d %q %q", code, out, errOut)
	}
	secret := strings.TrimSpace(out)
	if code, _, errOut := runCmd("hub", "token", "--db", db, "--role", "viewer", "--name", "ci"); code != 2 || !strings.Contains(errOut, "already called") {
		t.Errorf("duplicate name: %d %s", code, errOut)
	}
	code, out, _ = runCmd("hub", "token", "--db", db, "--list")
	if code != 0 || !regexp.MustCompile(`(?m)^ci +runner +\S+ \S+ +active$`).MatchString(out) || strings.Contains(out, secret) {
		t.Errorf("list: %d\n%s", code, out)
	}
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if tok, err := st.VerifyToken(context.Background(), secret); err != nil || tok.Role != hub.RoleRunner {
		t.Fatalf("printed token does not verify: %v", err)
	}
	if code, out, _ := runCmd("hub", "token", "--db", db, "--revoke", "ci"); code != 0 || out != "revoked token \"ci\"\n" {
		t.Errorf("revoke: %d %q", code, out)
	}
	if _, err := st.VerifyToken(context.Background(), secret); err == nil {
		t.Error("revoked token still verifies")
	}
	// The command line's token changes are in the audit log.
	p, err := st.Audit(context.Background(), store.AuditFilter{Action: "token"})
	if err != nil || len(p.Entries) != 2 || p.Entries[0].Action != hub.AuditTokenRevoke || !strings.HasPrefix(p.Entries[0].Actor, "cli") ||
		!strings.HasPrefix(p.Entries[1].From, "local ") || p.Entries[1].Detail != "role runner" {
		t.Errorf("audit of hub token: %+v %v", p, err)
	}
}

// hubServer is an in-process hub with a runner token for the upload tests.
func hubServer(t *testing.T) (*httptest.Server, store.Store, string) {
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
	return srv, st, tok
}

func allRuns(t *testing.T, st store.Store) []hub.RunSummary {
	t.Helper()
	p, err := st.Runs(context.Background(), store.RunFilter{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	return p.Runs
}

// TestCheckReportTo runs check --report-to against a hub, then against a
// hub that is down (the run is spooled; the exit code stays the
// checklist's), then sends the spool with hub push.
func TestCheckReportTo(t *testing.T) {
	srv, st, tok := hubServer(t)
	spool := t.TempDir()
	t.Setenv("CGOGUARD_HUB_TOKEN", tok)
	t.Setenv("CGOGUARD_HUB_SPOOL", spool)
	t.Setenv("GITHUB_ACTIONS", "true")
	t.Setenv("GITHUB_REPOSITORY", "org/from-ci")
	t.Setenv("GITHUB_RUN_ID", "77")
	t.Setenv("GITHUB_SHA", "ci-sha")

	code, _, errOut := runCmd("check", "-f", "testdata/check/mixed.yaml", "-q", "--report-to", srv.URL, "--branch", "feature-x")
	if code != checkExitFailed {
		t.Fatalf("exit %d, want the checklist's %d\n%s", code, checkExitFailed, errOut)
	}
	runs := allRuns(t, st)
	if len(runs) != 1 || !strings.Contains(errOut, "stored: "+srv.URL+"/runs/"+runs[0].ID) {
		t.Fatalf("runs %+v\n%s", runs, errOut)
	}
	r := runs[0]
	want := hub.Context{Repo: "org/from-ci", Branch: "feature-x", Commit: "ci-sha", JobURL: "https://github.com/org/from-ci/actions/runs/77", CI: "github", Host: r.Context.Host}
	if r.Context != want || r.Context.Host == "" || r.Checklist != "mixed" || r.Outcome != "fail" || r.UploadedBy != "ci" {
		t.Errorf("stored run: %+v", r)
	}
	full, err := st.Run(context.Background(), r.ID)
	if err != nil || len(full.Checks) != r.Counts.Checks || r.Counts.Checks == 0 {
		t.Fatalf("checks: %+v %v", full, err)
	}

	// The hub is down: the exit code does not change and the run is kept.
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	code, _, errOut = runCmd("check", "-f", "testdata/check/passing.yaml", "-q", "--report-to", downURL)
	if code != checkExitPassed && code != checkExitFailed {
		t.Fatalf("exit %d", code)
	}
	passCode, _, _ := runCmd("check", "-f", "testdata/check/passing.yaml", "-q")
	if code != passCode {
		t.Errorf("exit %d with a failed upload, %d without an upload", code, passCode)
	}
	if !strings.Contains(errOut, "is kept in") || !strings.Contains(errOut, "hub push") {
		t.Errorf("stderr does not say where the run is:\n%s", errOut)
	}
	files, _ := filepath.Glob(filepath.Join(spool, "*", "*.json"))
	if len(files) != 1 {
		t.Fatalf("spool holds %v", files)
	}
	// hub push sends it to the hub (a spool file names its run and hub).
	code, out, errOut := runCmd("hub", "push", "--report-to", srv.URL, files[0])
	if code != 0 || !strings.Contains(out, " created: "+srv.URL+"/runs/") {
		t.Fatalf("push: %d\n%s\n%s", code, out, errOut)
	}
	if len(allRuns(t, st)) != 2 {
		t.Fatal("pushed run not stored")
	}
	// Pushing a result file twice stores it once.
	res := filepath.Join(t.TempDir(), "res.json")
	runCmd("check", "-f", "testdata/check/passing.yaml", "-q", "-o", "json="+res)
	for i, want := range []string{" created: ", " duplicate: "} {
		code, out, errOut := runCmd("hub", "push", "--report-to", srv.URL, "--repo", "org/pushed", res)
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("push %d: %d %q %s", i, code, out, errOut)
		}
	}
	if n := len(allRuns(t, st)); n != 3 {
		t.Fatalf("%d runs, want 3", n)
	}
	// The next check --report-to first sends what is spooled for its hub.
	var up hub.Upload
	b, _ := os.ReadFile(files[0])
	json.Unmarshal(b, &up)
	up.ID = "spooled-later"
	b, _ = json.Marshal(up)
	// Put a run in this hub's spool directory.
	c := spoolDirFor(t, srv.URL, spool)
	os.MkdirAll(c, 0o700)
	os.WriteFile(filepath.Join(c, "spooled-later.json"), b, 0o600)
	ok := false
	_, _, errOut = runCmd("check", "-f", "testdata/check/passing.yaml", "-q", "--report-to", srv.URL)
	for _, r := range allRuns(t, st) {
		ok = ok || r.ID == "spooled-later"
	}
	if !ok || !strings.Contains(errOut, "sent 1 spooled run(s)") {
		t.Errorf("spool not flushed by the next check:\n%s", errOut)
	}
}

// TestHubPushRecordedURL spools a run while its hub answers 503, then
// sends it with hub push FILE and with a bare hub push, without giving
// the URL: the spool recorded it.
func TestHubPushRecordedURL(t *testing.T) {
	srv, st, tok := hubServer(t)
	target, _ := url.Parse(srv.URL)
	var down atomic.Bool
	proxy := httputil.NewSingleHostReverseProxy(target)
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, `{"error":"maintenance"}`, http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(flaky.Close)
	spool := t.TempDir()
	t.Setenv("CGOGUARD_HUB_TOKEN", tok)
	t.Setenv("CGOGUARD_HUB_SPOOL", spool)
	t.Setenv("CGOGUARD_HUB_URL", "")

	spoolOne := func() string {
		t.Helper()
		down.Store(true)
		_, _, errOut := runCmd("check", "-f", "testdata/check/passing.yaml", "-q", "--report-to", flaky.URL, "--repo", "org/svc")
		down.Store(false)
		files, _ := filepath.Glob(filepath.Join(spool, "*", "*.json"))
		if len(files) != 1 || !strings.Contains(errOut, "kept in") {
			t.Fatalf("spool holds %v\n%s", files, errOut)
		}
		u, err := client.SpoolHub(files[0])
		if err != nil || u != flaky.URL {
			t.Fatalf("SpoolHub(%s) = %q, %v; want %s", files[0], u, err, flaky.URL)
		}
		return files[0]
	}

	// hub push FILE: the URL recorded in the spool.
	file := spoolOne()
	code, out, errOut := runCmd("hub", "push", file)
	// The spool is sent first (the file with it), then the file again:
	// the hub answers duplicate.
	if code != 0 || !strings.Contains(out, ": "+flaky.URL+"/runs/") || !strings.Contains(errOut, "sent 1 spooled run(s)") {
		t.Fatalf("push FILE: %d\n%s\n%s", code, out, errOut)
	}
	if n := len(allRuns(t, st)); n != 1 {
		t.Fatalf("%d runs stored, want 1", n)
	}
	// hub push: every hub with spooled runs.
	spoolOne()
	if hubs, err := client.SpooledHubs(spool); err != nil || len(hubs) != 1 || hubs[0] != flaky.URL {
		t.Fatalf("SpooledHubs = %v, %v", hubs, err)
	}
	code, out, errOut = runCmd("hub", "push")
	if code != 0 || !strings.Contains(errOut, "sent 1 spooled run(s)") {
		t.Fatalf("push: %d\n%s\n%s", code, out, errOut)
	}
	if n := len(allRuns(t, st)); n != 2 {
		t.Fatalf("%d runs stored, want 2", n)
	}
	if hubs, _ := client.SpooledHubs(spool); len(hubs) != 0 {
		t.Errorf("still spooled for %v", hubs)
	}
	code, out, _ = runCmd("hub", "push")
	if code != 0 || !strings.Contains(out, "no spooled runs") {
		t.Errorf("empty spool: %d %q", code, out)
	}

	// An explicit URL wins over the recorded one.
	file = spoolOne()
	other, otherSt, otherTok := hubServer(t)
	t.Setenv("CGOGUARD_HUB_TOKEN", otherTok)
	code, out, errOut = runCmd("hub", "push", "--report-to", other.URL, file)
	if code != 0 || !strings.Contains(out, other.URL+"/runs/") || len(allRuns(t, otherSt)) != 1 {
		t.Fatalf("push --report-to: %d\n%s\n%s", code, out, errOut)
	}
	os.Remove(file)

	// A spool without a recorded URL (written by an older cgoguard), and a
	// result file: the URL has to be given.
	t.Setenv("CGOGUARD_HUB_TOKEN", tok)
	file = spoolOne()
	os.Remove(filepath.Join(filepath.Dir(file), client.SpoolHubFile))
	for _, args := range [][]string{{"hub", "push", file}, {"hub", "push"}} {
		code, _, errOut = runCmd(args...)
		if code != 2 || !strings.Contains(errOut, "pass --report-to URL") {
			t.Errorf("%v without a recorded URL: %d\n%s", args, code, errOut)
		}
	}
	res := filepath.Join(t.TempDir(), "res.json")
	runCmd("check", "-f", "testdata/check/passing.yaml", "-q", "-o", "json="+res)
	code, _, errOut = runCmd("hub", "push", res)
	if code != 2 || !strings.Contains(errOut, res+": no hub URL is recorded") || !strings.Contains(errOut, "pass --report-to URL") {
		t.Errorf("result file without URL: %d\n%s", code, errOut)
	}
}

// spoolDirFor asks the client which directory it uses for url.
func spoolDirFor(t *testing.T, url, root string) string {
	t.Helper()
	c, err := hubClient(url, &bytes.Buffer{}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.SpoolDir(), root) {
		t.Fatalf("spool %s not under %s", c.SpoolDir(), root)
	}
	return c.SpoolDir()
}

// TestHubServeProcess runs `cgoguard hub` as a process (this test binary),
// uploads through it, and stops it with SIGTERM.
func TestHubServeProcess(t *testing.T) {
	if os.Getenv("CGOGUARD_HUB_HELPER") != "" {
		t.Skip("helper")
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "hub.db")
	code, out, _ := runCmd("hub", "token", "--db", db, "--role", "admin", "--name", "me")
	if code != 0 {
		t.Fatal("token")
	}
	tok := strings.TrimSpace(out)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHubHelperProcess$")
	cmd.Env = append(os.Environ(), "CGOGUARD_HUB_HELPER=1", "CGOGUARD_HUB_ARGS=hub\n--addr\n127.0.0.1:0\n--db\n"+db)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`listening on (\S+) \(database: sqlite, schema \d+`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	var a string
	select {
	case a = <-addr:
	case <-time.After(30 * time.Second):
		t.Fatal("hub did not say where it listens")
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		res, err := http.Get("http://" + a + p)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("%s: %v %v", p, res, err)
		}
		res.Body.Close()
	}
	req, _ := http.NewRequest("GET", "http://"+a+"/api/v1/tokens", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("tokens: %v %v", res, err)
	}
	res.Body.Close()
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("hub did not stop cleanly on SIGTERM: %v", err)
	}
}

func TestHubHelperProcess(t *testing.T) {
	if os.Getenv("CGOGUARD_HUB_HELPER") == "" {
		t.Skip("run by TestHubServeProcess")
	}
	os.Exit(run(strings.Split(os.Getenv("CGOGUARD_HUB_ARGS"), "\n"), os.Stdout, os.Stderr))
}
