package store

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/hub"
	"github.com/cgoguard/cgoguard/hub/internal/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// backends runs f once per backend, each on a fresh database. The
// PostgreSQL run skips (fails under CI) without PostgreSQL.
func backends(t *testing.T, f func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) {
		f(t, filepath.Join(t.TempDir(), "hub.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		f(t, pgtest.Need(t).NewDatabase(t))
	})
}

func open(t testing.TB, dsn string) Store {
	t.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// each runs f for every backend with an opened store.
func each(t *testing.T, f func(t *testing.T, s Store)) {
	backends(t, func(t *testing.T, dsn string) { f(t, open(t, dsn)) })
}

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// chk is a check result for fixtures.
type chk struct {
	id       string
	outcome  checklist.Outcome
	attempts int
	seconds  float64
}

// mkRun decodes an upload built from the arguments, as the server does.
func mkRun(t testing.TB, id string, ctx hub.Context, started time.Time, checks ...chk) *hub.Run {
	t.Helper()
	res := hub.Result{Checklist: "cl", Started: started, DurationSeconds: 1, Checks: []hub.Check{}}
	for _, c := range checks {
		a := c.attempts
		if a == 0 {
			a = 1
		}
		res.Checks = append(res.Checks, hub.Check{ID: c.id, Title: "title of " + c.id, Kind: "command", Outcome: c.outcome,
			Attempts: a, DurationSeconds: c.seconds, Message: "msg " + string(c.outcome),
			Evidence: checklist.Evidence{Command: "true", Stdout: "out of " + c.id}})
	}
	return decode(t, id, ctx, &res)
}

func decode(t testing.TB, id string, ctx hub.Context, res *hub.Result) *hub.Run {
	t.Helper()
	rb, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(hub.Upload{FormatVersion: hub.FormatVersion, ID: id, Context: ctx, Result: rb})
	if err != nil {
		t.Fatal(err)
	}
	r, err := hub.Decode(body, hub.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r.Received = started(r)
	return r
}

func started(r *hub.Run) time.Time { return r.Started.Add(time.Second) }

func put(t testing.TB, s Store, r *hub.Run) {
	t.Helper()
	if _, err := s.PutRun(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

func countRuns(t testing.TB, s Store) int {
	t.Helper()
	n := 0
	f := RunFilter{Limit: MaxLimit}
	for {
		p, err := s.Runs(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		n += len(p.Runs)
		if p.Next == "" {
			return n
		}
		f.Cursor = p.Next
	}
}

func ids(p *hub.RunPage) []string {
	var out []string
	for _, r := range p.Runs {
		out = append(out, r.ID)
	}
	return out
}

func runID(i int) string { return fmt.Sprintf("run-%04d", i) }
