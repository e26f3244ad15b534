package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cgoguard/cgoguard/hub"
)

const fromHubYAML = `checklist: team
checks:
  - id: OK
    title: passes
    kind: command
    with: {run: "true"}
  - id: BAD
    title: fails
    kind: command
    with: {run: "exit 3"}
`

// TestCheckFromHub runs check --from-hub against a hub (the run records
// the version), then with the hub down (the cached copy runs and the
// report says so).
func TestCheckFromHub(t *testing.T) {
	srv, st, tok := hubServer(t)
	cl, err := hub.ValidateChecklist("team.yaml", []byte(fromHubYAML))
	if err != nil {
		t.Fatal(err)
	}
	ctx := hub.WithActor(context.Background(), hub.Actor{Name: "alice"})
	if _, _, err := st.PutChecklistVersion(ctx, &hub.ChecklistVersion{Name: "team", YAML: fromHubYAML,
		Digest: hub.ChecklistDigest([]byte(fromHubYAML)), Checks: len(cl.Checks)}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CGOGUARD_HUB_TOKEN", tok)
	t.Setenv("CGOGUARD_HUB_SPOOL", t.TempDir())
	t.Setenv("XDG_CACHE_HOME", t.TempDir())

	// Not approved yet: nothing runs.
	code, _, errOut := runCmd("check", "--from-hub", srv.URL+"/team", "-q")
	if code != checkExitUsage || !strings.Contains(errOut, "no approved version") {
		t.Fatalf("before approval: exit %d\n%s", code, errOut)
	}
	if _, err := st.ReviewChecklistVersion(hub.WithActor(context.Background(), hub.Actor{Name: "bob"}), "team", 1, true, ""); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd("check", "--from-hub", srv.URL+"/team", "-q", "--report-to", srv.URL, "--repo", "org/svc")
	if code != checkExitFailed {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, checkExitFailed, out, errOut)
	}
	contains(t, errOut, "running team@1 from "+srv.URL+" (approved by bob)")
	contains(t, out, "checklist team version 1 from "+srv.URL+"\n")
	runs := allRuns(t, st)
	if len(runs) != 1 || runs[0].ChecklistVersion != 1 || runs[0].Source == nil || runs[0].Source.Cached || runs[0].Checklist != "team" {
		t.Fatalf("stored run: %+v", runs)
	}

	// The hub is down: the cached copy runs, the report says so, and the
	// upload is spooled with the same source.
	url := srv.URL
	srv.Close()
	code, out, errOut = runCmd("check", "--from-hub", url+"/team", "-q", "-o", "json=-")
	if code != checkExitFailed {
		t.Fatalf("offline: exit %d\n%s", code, errOut)
	}
	contains(t, errOut, "WARNING: the hub is unreachable; running the CACHED copy of team@1")
	contains(t, out, `"source": {`, `"cached": true`, `"version": 1`)
	code, out, _ = runCmd("check", "--from-hub", url+"/team", "-q")
	if code != checkExitFailed || !strings.Contains(out, "checklist team version 1 from "+url+": CACHED COPY fetched ") {
		t.Fatalf("offline text report (exit %d):\n%s", code, out)
	}
	// A version never fetched has no cached copy.
	code, _, errOut = runCmd("check", "--from-hub", url+"/team@2", "-q")
	if code != checkExitUsage || !strings.Contains(errOut, "no cached copy") {
		t.Fatalf("offline, unknown version: %d %s", code, errOut)
	}
}

func TestCheckFromHubUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		msg  string
	}{
		{[]string{"check", "--from-hub", "team", "-list"}, "want URL/NAME"},
		{[]string{"check", "--from-hub", "http://h/team@x", "-list"}, "the version must be a positive number"},
		{[]string{"check", "--from-hub", "http://h/team", "-f", "testdata/check/passing.yaml", "-list"}, "cannot be combined"},
		{[]string{"agent"}, "--hub URL"},
		{[]string{"agent", "--hub", "http://h"}, "--clone"},
		{[]string{"agent", "--hub", "http://h", "--clone", filepath.Join("testdata", "none")}, "is not a directory"},
		{[]string{"hub", "--allow-repo", "bitbucket:x/y"}, "github:OWNER/NAME"},
		{[]string{"hub", "--card-rules", filepath.Join("testdata", "none.yaml")}, "--card-rules"},
	} {
		t.Setenv("CGOGUARD_HUB_URL", "")
		code, _, errOut := runCmd(tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.msg) {
			t.Errorf("%v: exit %d, want 2 with %q:\n%s", tt.args, code, tt.msg, errOut)
		}
	}
}

func contains(t *testing.T, s string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("missing %q in:\n%s", w, s)
		}
	}
}
