package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/hub"
	"github.com/cgoguard/cgoguard/hub/internal/pgtest"
	"github.com/cgoguard/cgoguard/hub/server"
	"github.com/cgoguard/cgoguard/hub/store"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

const teamYAML = `checklist: team
checks:
  - id: A
    title: builds
    kind: command
    with: {run: "true"}
  - id: B
    title: tests
    kind: command
    with: {run: "true"}
`

// codes records the status of each answer of a handler.
type codes struct {
	mu   sync.Mutex
	list []int
}

func (c *codes) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &statusWriter{ResponseWriter: w, code: 200}
		h.ServeHTTP(rw, r)
		c.mu.Lock()
		c.list = append(c.list, rw.code)
		c.mu.Unlock()
	})
}

func (c *codes) last() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.list[len(c.list)-1]
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) { w.code = code; w.ResponseWriter.WriteHeader(code) }

// reviewedHub is a hub on dsn with the team checklist uploaded by an
// author and approved by a reviewer, and a runner token.
func reviewedHub(t *testing.T, dsn string) (*httptest.Server, *codes, store.Store, string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s, err := server.New(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, _ := st.CreateToken(ctx, "ci", hub.RoleRunner)
	cs := &codes{}
	srv := httptest.NewServer(cs.wrap(s))
	t.Cleanup(srv.Close)
	put(t, st, "alice", teamYAML)
	review(t, st, 1)
	return srv, cs, st, tok
}

func put(t *testing.T, st store.Store, author, yaml string) {
	t.Helper()
	cl, err := hub.ValidateChecklist("team.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	ctx := hub.WithActor(context.Background(), hub.Actor{Name: author})
	if _, _, err := st.PutChecklistVersion(ctx, &hub.ChecklistVersion{Name: cl.Name, YAML: yaml, Digest: hub.ChecklistDigest([]byte(yaml)), Checks: len(cl.Checks)}); err != nil {
		t.Fatal(err)
	}
}

func review(t *testing.T, st store.Store, v int) {
	t.Helper()
	if _, err := st.ReviewChecklistVersion(hub.WithActor(context.Background(), hub.Actor{Name: "bob"}), "team", v, true, ""); err != nil {
		t.Fatal(err)
	}
}

func TestFetchChecklistCacheAndOffline(t *testing.T) {
	for _, b := range []string{"sqlite", "postgres"} {
		t.Run(b, func(t *testing.T) {
			dsn := filepath.Join(t.TempDir(), "hub.db")
			if b == "postgres" {
				dsn = pgtest.Need(t).NewDatabase(t)
			}
			srv, cs, st, tok := reviewedHub(t, dsn)
			cache := t.TempDir()
			var logs []string
			c, err := New(srv.URL, WithToken(tok), WithCache(cache), WithFetchTimeout(2*time.Second),
				WithLog(func(f string, a ...any) { logs = append(logs, f) }))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			f, err := c.FetchChecklist(ctx, "team", 0)
			if err != nil {
				t.Fatal(err)
			}
			if f.Document.Version != 1 || f.Source.Cached || f.Source.Version != 1 || f.Source.Hub != srv.URL || cs.last() != 200 {
				t.Fatalf("first fetch: %+v (status %d)", f.Source, cs.last())
			}
			// Unchanged: the hub answers 304 and the cached copy is used.
			if f, err = c.FetchChecklist(ctx, "team", 0); err != nil || cs.last() != 304 || f.Document.YAML != teamYAML || f.Source.Cached {
				t.Fatalf("second fetch: %v status %d %+v", err, cs.last(), f)
			}
			// A newly approved version is fetched at the next run.
			put(t, st, "alice", strings.Replace(teamYAML, "tests", "unit tests", 1))
			if f, _ = c.FetchChecklist(ctx, "team", 0); f.Document.Version != 1 {
				t.Fatalf("a pending version ran: %+v", f.Source)
			}
			review(t, st, 2)
			if f, _ = c.FetchChecklist(ctx, "team", 0); f.Document.Version != 2 || cs.last() != 200 {
				t.Fatalf("after approval: %+v status %d", f.Source, cs.last())
			}
			// A given version, and a hub waiver applied on load.
			if _, err := c.FetchChecklist(ctx, "team", 1); err != nil {
				t.Fatal(err)
			}
			rev := hub.WithActor(ctx, hub.Actor{Name: "bob"})
			if err := st.GrantWaiver(rev, hub.Waiver{Checklist: "team", Check: "B", Reason: "runner image broken", Expires: time.Now().AddDate(0, 0, 5).Format(time.DateOnly)}); err != nil {
				t.Fatal(err)
			}
			f, err = c.FetchChecklist(ctx, "team", 0)
			if err != nil {
				t.Fatal(err)
			}
			cl, err := f.Load(checklist.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if cl.Checks[1].Waiver == nil || !strings.Contains(cl.Checks[1].Waiver.Reason, "runner image broken (hub waiver by bob)") || cl.Source == nil || cl.Source.Version != 2 {
				t.Fatalf("loaded: %+v %+v", cl.Checks[1], cl.Source)
			}
			// Refusals are errors even with a cached copy.
			if _, err := c.FetchChecklist(ctx, "nope", 0); !errors.Is(err, hub.ErrNotFound) {
				t.Errorf("unknown checklist: %v", err)
			}
			bad, _ := New(srv.URL, WithToken("cgh_0000000000000000_"+strings.Repeat("x", 43)), WithCache(cache))
			if _, err := bad.FetchChecklist(ctx, "team", 0); !errors.Is(err, hub.ErrUnauthorized) {
				t.Errorf("bad token: %v", err)
			}
			// The hub goes away: the cached copy runs, and says so.
			srv.Close()
			f, err = c.FetchChecklist(ctx, "team", 0)
			if err != nil {
				t.Fatal(err)
			}
			if !f.Source.Cached || f.Source.Offline == "" || f.Document.Version != 2 || len(f.Document.Waivers) != 1 {
				t.Fatalf("offline: %+v", f.Source)
			}
			if f1, err := c.FetchChecklist(ctx, "team", 1); err != nil || !f1.Source.Cached || f1.Document.Version != 1 {
				t.Fatalf("offline @1: %+v %v", f1, err)
			}
			if _, err := c.FetchChecklist(ctx, "team", 3); err == nil || !strings.Contains(err.Error(), "no cached copy") {
				t.Errorf("offline without a cached copy: %v", err)
			}
			if len(logs) == 0 || !strings.Contains(logs[len(logs)-1], "cached copy") {
				t.Errorf("no log of the fallback: %v", logs)
			}
			// A corrupt cache entry is not used.
			files, _ := filepath.Glob(filepath.Join(cache, "*", "*-active.json"))
			if len(files) != 1 {
				t.Fatalf("cache files: %v", files)
			}
			os.WriteFile(files[0], []byte("{not json"), 0o600)
			if _, err := c.FetchChecklist(ctx, "team", 0); err == nil {
				t.Error("a corrupt cache entry ran")
			}
		})
	}
}

func TestParseChecklistRef(t *testing.T) {
	good := map[string]ChecklistRef{
		"http://hub:8420/team":            {Hub: "http://hub:8420", Name: "team"},
		"https://h.example/prefix/team@3": {Hub: "https://h.example/prefix", Name: "team", Version: 3},
	}
	for in, want := range good {
		got, err := ParseChecklistRef(in)
		if err != nil || got != want || got.String() != in {
			t.Errorf("%s: %+v %v", in, got, err)
		}
	}
	for _, in := range []string{"team", "hub:8420/team", "http://hub/", "http://hub/team@", "http://hub/team@0", "http://hub/team@x", "ftp://h/team"} {
		if _, err := ParseChecklistRef(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}
