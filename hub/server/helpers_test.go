package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/hub"
	"github.com/cgoguard/cgoguard/hub/internal/pgtest"
	"github.com/cgoguard/cgoguard/hub/store"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(serveChild())
	}
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// env is a hub under test: its server, store and one token per role.
type env struct {
	t      testing.TB
	srv    *httptest.Server
	st     store.Store
	tokens map[hub.Role]string
	s      *Server
}

func sqliteDSN(t testing.TB) string { return filepath.Join(t.TempDir(), "hub.db") }

func newEnv(t testing.TB, dsn string, opts ...Option) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s, err := New(ctx, st, append([]Option{WithLogger(testLogger(t))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: httptest.NewServer(s), st: st, tokens: map[hub.Role]string{}, s: s}
	t.Cleanup(e.srv.Close)
	for _, r := range hub.Roles {
		secret, _, err := st.CreateToken(hub.WithActor(ctx, hub.Actor{Name: "cli:root", From: "local hub-1"}), "tok-"+string(r), r)
		if errors.Is(err, hub.ErrInvalid) {
			continue // a second hub on the same database: the tokens exist
		}
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[r] = secret
	}
	return e
}

// backends runs f against a hub on SQLite and one on PostgreSQL.
func backends(t *testing.T, f func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { f(t, sqliteDSN(t)) })
	t.Run("postgres", func(t *testing.T) { f(t, pgtest.Need(t).NewDatabase(t)) })
}

type resp struct {
	code int
	body string
	h    http.Header
}

func (e *env) do(method, path, token string, body []byte, hdr ...string) resp {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := noRedirect.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, string(b), res.Header}
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (e *env) upload(id string, res *hub.Result, c hub.Context) resp {
	e.t.Helper()
	return e.do("POST", "/api/v1/runs", e.tokens[hub.RoleRunner], uploadBody(e.t, id, res, c))
}

func uploadBody(t testing.TB, id string, res *hub.Result, c hub.Context) []byte {
	t.Helper()
	rb, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(hub.Upload{FormatVersion: hub.FormatVersion, ID: id, Context: c, Result: rb})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// result builds a run result with checks "A".."" of the given outcomes.
func result(started time.Time, outcomes ...checklist.Outcome) *hub.Result {
	r := &hub.Result{Checklist: "cl", Started: started, DurationSeconds: 3, Checks: []hub.Check{}}
	for i, o := range outcomes {
		id := string(rune('A' + i))
		r.Checks = append(r.Checks, hub.Check{ID: id, Title: "check " + id, Kind: "command", Severity: "high", Outcome: o, Attempts: 1,
			DurationSeconds: float64(i + 1), Message: "saw " + string(o),
			Evidence: checklist.Evidence{Command: "make " + id, ExitCode: 0, Stdout: "output of " + id}})
	}
	return r
}

func mustCode(t testing.TB, r resp, want int) {
	t.Helper()
	if r.code != want {
		t.Fatalf("status %d, want %d; body: %s", r.code, want, r.body)
	}
}

func decodeJSON[T any](t testing.TB, r resp) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return v
}

func contains(t testing.TB, s string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("missing %q in:\n%s", w, clip(s))
		}
	}
}

func clip(s string) string {
	if len(s) > 3000 {
		return s[:3000] + fmt.Sprintf("… (%d bytes)", len(s))
	}
	return s
}

// testLogger sends the server's log to the test's log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, nil))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
