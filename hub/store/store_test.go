package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/hub"
)

func TestPutRunIdempotentAndConflict(t *testing.T) {
	each(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		r := mkRun(t, "r1", hub.Context{Repo: "org/a"}, t0, chk{"A", checklist.Pass, 1, 1}, chk{"B", checklist.Fail, 1, 2})
		created, err := s.PutRun(ctx, r)
		if err != nil || !created {
			t.Fatalf("first put: created=%v err=%v", created, err)
		}
		again := mkRun(t, "r1", hub.Context{Repo: "org/a"}, t0, chk{"A", checklist.Pass, 1, 1}, chk{"B", checklist.Fail, 1, 2})
		created, err = s.PutRun(ctx, again)
		if err != nil || created {
			t.Fatalf("retry: created=%v err=%v, want false, nil", created, err)
		}
		other := mkRun(t, "r1", hub.Context{Repo: "org/a"}, t0, chk{"A", checklist.Pass, 1, 1}, chk{"B", checklist.Pass, 1, 2}, chk{"C", checklist.Pass, 1, 1})
		_, err = s.PutRun(ctx, other)
		if !errors.Is(err, hub.ErrConflict) {
			t.Fatalf("reused id with other content: err=%v, want ErrConflict", err)
		}
		if !strings.Contains(err.Error(), `"r1"`) {
			t.Errorf("conflict message does not name the run: %v", err)
		}
		got, err := s.Run(ctx, "r1")
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Checks) != 2 || got.Checks[1].Outcome != checklist.Fail || got.Digest != r.Digest {
			t.Fatalf("stored run changed by the refused upload: %+v", got)
		}
		// A batch with a conflict stores none of its runs.
		_, err = s.PutRuns(ctx, []*hub.Run{mkRun(t, "r2", hub.Context{}, t0), other})
		if !errors.Is(err, hub.ErrConflict) {
			t.Fatalf("batch with conflict: %v", err)
		}
		if _, err := s.Run(ctx, "r2"); !errors.Is(err, hub.ErrNotFound) {
			t.Fatalf("run of a refused batch was stored: %v", err)
		}
	})
}

func TestRunRoundTrip(t *testing.T) {
	each(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		exp := checklist.Date{Time: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)}
		res := &hub.Result{
			Checklist: "cgo-reliability", Env: "ci", Files: []string{"a.yaml"}, Packages: []string{"./...", "./x"},
			Started: t0, DurationSeconds: 12.5,
			Checks: []hub.Check{
				{ID: "CG-1", Title: "t1", Severity: "high", Kind: "vet", Prevents: "p", Fix: "f", File: "a.yaml", Line: 7,
					Outcome: checklist.Fail, Message: "1 finding", Attempts: 1, DurationSeconds: 0.25,
					Evidence: checklist.Evidence{Command: "cgoguard vet", ExitCode: 1, Stdout: "line1\nline2", Stderr: "warn \x00 nul"},
					Findings: []checklist.Finding{{Rule: "CG013", Severity: "warning", Message: "leak", File: "x.go", Line: 3, Column: 2}}},
				{ID: "CG-2", Outcome: checklist.Pass, Attempts: 3, DurationSeconds: 4,
					Tests: []checklist.TestResult{{Package: "p", Test: "TestX", Outcome: "pass", Elapsed: 0.5, Output: "ok"}}},
				{ID: "CG-3", Outcome: checklist.Waived, Attempts: 1, Waiver: &checklist.Waiver{Reason: "known", Expires: exp}},
			},
		}
		in := decode(t, "rt-1", hub.Context{Repo: "org/svc", Branch: "main", Commit: "abc", JobURL: "https://ci/1", Host: "h", CI: "github"}, res)
		in.UploadedBy = "ci-token"
		put(t, s, in)
		got, err := s.Run(ctx, "rt-1")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, in) {
			t.Fatalf("round trip differs:\n got %+v\nwant %+v", got, in)
		}
		if got.Checks[0].Evidence.Stderr != "warn \uFFFD nul" {
			t.Errorf("NUL not replaced: %q", got.Checks[0].Evidence.Stderr)
		}
		if got.Outcome != hub.OutcomeFail || got.Counts.Flaky != 1 || got.Counts.Waived != 1 {
			t.Errorf("summary: %+v", got.RunSummary)
		}
		if _, err := s.Run(ctx, "nope"); !errors.Is(err, hub.ErrNotFound) {
			t.Errorf("missing run: %v", err)
		}
	})
}

func TestConcurrentUploadsStoredOnce(t *testing.T) {
	each(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make(chan error, 200)
		var createdSame sync.Map
		for i := range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := mkRun(t, runID(i), hub.Context{Repo: "org/a"}, t0.Add(time.Duration(i)*time.Minute),
					chk{"A", checklist.Pass, 1, 1}, chk{"B", checklist.Fail, 1, 1})
				if _, err := s.PutRun(ctx, r); err != nil {
					errs <- err
				}
			}()
		}
		// The same run sent 20 times at once (a client retrying while the
		// first attempt is still in flight) is stored once.
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := mkRun(t, "same", hub.Context{}, t0, chk{"A", checklist.Pass, 1, 1})
				created, err := s.PutRun(ctx, r)
				if err != nil {
					errs <- err
				}
				createdSame.Store(i, created)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		n := 0
		createdSame.Range(func(_, v any) bool {
			if v.(bool) {
				n++
			}
			return true
		})
		if n != 1 {
			t.Errorf("the same run was reported created %d times, want 1", n)
		}
		if got := countRuns(t, s); got != 101 {
			t.Fatalf("%d runs stored, want 101", got)
		}
		st, err := s.CheckStats(ctx, StatsFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(st) != 2 || st[0].Runs != 101 || st[1].Runs != 100 {
			t.Fatalf("check rows stored more or less than once: %+v", st)
		}
	})
}

func TestRunsFilterAndPaginate(t *testing.T) {
	each(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		var all []*hub.Run
		for i := range 30 {
			c := hub.Context{Repo: []string{"org/a", "org/b"}[i%2], Branch: []string{"main", "dev", "main"}[i%3]}
			out := checklist.Pass
			if i%4 == 0 {
				out = checklist.Fail
			}
			// Pairs share a start time, so the id breaks ties.
			all = append(all, mkRun(t, runID(i), c, t0.Add(time.Duration(i/2)*time.Hour), chk{"A", out, 1, 1}))
		}
		if n, err := s.PutRuns(ctx, all); err != nil || n != 30 {
			t.Fatalf("PutRuns: %d, %v", n, err)
		}
		// Every page, newest first, no run twice.
		var seen []string
		f := RunFilter{Limit: 7}
		for pages := 0; ; pages++ {
			p, err := s.Runs(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			seen = append(seen, ids(p)...)
			if p.Next == "" {
				break
			}
			f.Cursor = p.Next
			if pages > 10 {
				t.Fatal("pagination does not end")
			}
		}
		var want []string
		for i := 29; i >= 0; i-- {
			want = append(want, runID(i))
		}
		if !slices.Equal(seen, want) {
			t.Fatalf("pages:\n got %v\nwant %v", seen, want)
		}

		tests := []struct {
			f    RunFilter
			want func(i int) bool
		}{
			{RunFilter{Repo: "org/a"}, func(i int) bool { return i%2 == 0 }},
			{RunFilter{Repo: "org/b", Branch: "main"}, func(i int) bool { return i%2 == 1 && i%3 != 1 }},
			{RunFilter{Outcome: "fail"}, func(i int) bool { return i%4 == 0 }},
			{RunFilter{Outcome: "pass", Branch: "dev"}, func(i int) bool { return i%4 != 0 && i%3 == 1 }},
			{RunFilter{Since: t0.Add(10 * time.Hour)}, func(i int) bool { return i/2 >= 10 }},
			{RunFilter{Checklist: "other"}, func(int) bool { return false }},
		}
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%+v", tt.f), func(t *testing.T) {
				tt.f.Limit = MaxLimit
				p, err := s.Runs(ctx, tt.f)
				if err != nil {
					t.Fatal(err)
				}
				var want []string
				for i := 29; i >= 0; i-- {
					if tt.want(i) {
						want = append(want, runID(i))
					}
				}
				if !slices.Equal(ids(p), want) {
					t.Fatalf("got %v\nwant %v", ids(p), want)
				}
			})
		}
		for _, bad := range []RunFilter{{Outcome: "maybe"}, {Limit: MaxLimit + 1}, {Cursor: "not-a-cursor"}, {Cursor: "MDox"}} {
			if _, err := s.Runs(ctx, bad); !errors.Is(err, hub.ErrInvalid) {
				t.Errorf("Runs(%+v) = %v, want ErrInvalid", bad, err)
			}
		}
		cls, err := s.Checklists(ctx)
		if err != nil || !slices.Equal(cls, []string{"cl"}) {
			t.Errorf("Checklists = %v, %v", cls, err)
		}
	})
}

func TestCheckStatsAndTrend(t *testing.T) {
	each(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		day := 24 * time.Hour
		// Check A over 4 days: day 0 pass 1s, day 0 fail 3s, day 1 flaky
		// pass 2s (3 attempts), day 2 skip, day 3 timeout 10s.
		runs := []*hub.Run{
			mkRun(t, "a0", hub.Context{Branch: "main"}, t0, chk{"A", checklist.Pass, 1, 1}, chk{"B", checklist.Pass, 1, 5}),
			mkRun(t, "a1", hub.Context{Branch: "main"}, t0.Add(time.Hour), chk{"A", checklist.Fail, 1, 3}),
			mkRun(t, "a2", hub.Context{Branch: "main"}, t0.Add(day), chk{"A", checklist.Pass, 3, 2}),
			mkRun(t, "a3", hub.Context{Branch: "dev"}, t0.Add(2*day), chk{"A", checklist.Skip, 0, 0}),
			mkRun(t, "a4", hub.Context{Branch: "dev"}, t0.Add(3*day), chk{"A", checklist.Timeout, 1, 10}),
		}
		if _, err := s.PutRuns(ctx, runs); err != nil {
			t.Fatal(err)
		}
		st, err := s.CheckStats(ctx, StatsFilter{Checklist: "cl"})
		if err != nil {
			t.Fatal(err)
		}
		if len(st) != 2 {
			t.Fatalf("stats: %+v", st)
		}
		a := st[0]
		last := t0.Add(3 * day)
		want := hub.CheckStats{Checklist: "cl", Check: "A", Title: "title of A", Runs: 5, Failures: 2, Skips: 1, Flaky: 1,
			FailureRate: 0.4, SkipRate: 0.2, MeanSeconds: 4, P95Seconds: 10, LastFailure: &last, LastFailureRun: "a4", LastRun: last}
		if !reflect.DeepEqual(a, want) {
			t.Fatalf("stats of A:\n got %+v\nwant %+v", a, want)
		}
		st, err = s.CheckStats(ctx, StatsFilter{Branch: "main", Since: t0.Add(30 * time.Minute)})
		if err != nil || len(st) != 1 || st[0].Runs != 2 || st[0].Failures != 1 || st[0].Flaky != 1 {
			t.Fatalf("filtered stats: %+v %v", st, err)
		}

		tr, err := s.Trend(ctx, TrendFilter{Checklist: "cl", Check: "A", Since: t0, Until: t0.Add(5 * day), Bucket: day})
		if err != nil {
			t.Fatal(err)
		}
		if len(tr.Buckets) != 5 {
			t.Fatalf("%d buckets, want 5", len(tr.Buckets))
		}
		type row struct {
			runs, fails, skips, flaky int
			rate                      float64
			mean                      float64
		}
		wantB := []row{{2, 1, 0, 0, 0.5, 2}, {1, 0, 0, 1, 0, 2}, {1, 0, 1, 0, 0, -1}, {1, 1, 0, 0, 1, 10}, {0, 0, 0, 0, -1, -1}}
		for i, w := range wantB {
			b := tr.Buckets[i]
			if !b.Start.Equal(t0.Add(time.Duration(i) * day)) {
				t.Errorf("bucket %d starts %v", i, b.Start)
			}
			got := row{b.Runs, b.Failures, b.Skips, b.Flaky, -1, -1}
			if b.FailureRate != nil {
				got.rate = *b.FailureRate
			}
			if b.MeanSeconds != nil {
				got.mean = *b.MeanSeconds
			}
			if got != w {
				t.Errorf("bucket %d = %+v, want %+v", i, got, w)
			}
		}
		for _, bad := range []TrendFilter{
			{Checklist: "cl", Check: "A", Since: t0, Until: t0.Add(day)},
			{Checklist: "cl", Check: "A", Since: t0, Until: t0.Add(5000 * time.Hour), Bucket: time.Hour},
			{Check: "A", Since: t0, Bucket: day},
		} {
			if _, err := s.Trend(ctx, bad); !errors.Is(err, hub.ErrInvalid) {
				t.Errorf("Trend(%+v) = %v, want ErrInvalid", bad, err)
			}
		}

		cr, err := s.CheckRuns(ctx, "cl", "A", 2)
		if err != nil || len(cr) != 2 || cr[0].RunID != "a4" || cr[0].Outcome != "timeout" || cr[1].Branch != "dev" {
			t.Fatalf("CheckRuns: %+v %v", cr, err)
		}
		oc, err := s.RunOutcomes(ctx, t0.Add(30*time.Minute))
		if err != nil || !reflect.DeepEqual(oc, map[string]int{"pass": 2, "fail": 2, "interrupted": 0}) {
			t.Fatalf("RunOutcomes: %v %v", oc, err)
		}
	})
}

func TestWaivers(t *testing.T) {
	each(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		mk := func(id string, at time.Time, check, reason, expires string, out checklist.Outcome) *hub.Run {
			d, _ := time.Parse(time.DateOnly, expires)
			return decode(t, id, hub.Context{}, &hub.Result{Checklist: "cl", Started: at, Checks: []hub.Check{
				{ID: check, Outcome: out, Attempts: 1, Waiver: &checklist.Waiver{Reason: reason, Expires: checklist.Date{Time: d}}}}})
		}
		now := time.Date(2026, 11, 10, 15, 0, 0, 0, time.UTC)
		runs := []*hub.Run{
			mk("w1", t0, "A", "old reason", "2026-11-05", checklist.Waived),
			mk("w2", t0.Add(time.Hour), "A", "new reason", "2026-11-20", checklist.Waived),
			mk("w3", t0.Add(time.Hour), "B", "expired", "2026-11-09", checklist.Fail),
			mk("w4", t0.Add(time.Hour), "C", "last day", "2026-11-10", checklist.Waived),
		}
		if _, err := s.PutRuns(ctx, runs); err != nil {
			t.Fatal(err)
		}
		ws, err := s.Waivers(ctx, time.Time{}, now)
		if err != nil {
			t.Fatal(err)
		}
		type row struct {
			check, reason string
			expired       bool
			days          int
		}
		var got []row
		for _, w := range ws {
			got = append(got, row{w.Check, w.Reason, w.Expired, w.DaysLeft})
		}
		want := []row{{"B", "expired", true, -1}, {"C", "last day", false, 0}, {"A", "new reason", false, 10}}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("waivers:\n got %+v\nwant %+v", got, want)
		}
	})
}

func TestTokens(t *testing.T) {
	each(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		secret, tok, err := s.CreateToken(ctx, "ci", hub.RoleRunner)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(secret, "cgh_") || len(secret) != tokenLen {
			t.Fatalf("token %q", secret)
		}
		got, err := s.VerifyToken(ctx, secret)
		if err != nil || got.Name != "ci" || got.Role != hub.RoleRunner || got.ID != tok.ID {
			t.Fatalf("verify: %+v %v", got, err)
		}
		// The secret is not stored, only its hash.
		raw := s.(*sqlStore)
		var hash string
		if err := raw.r.QueryRowContext(ctx, `SELECT secret_hash FROM tokens WHERE id = $1`, tok.ID).Scan(&hash); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(secret, hash) || strings.Contains(hash, secret[len(secret)-secretLen:]) {
			t.Fatal("the secret is stored")
		}
		flip := func(s string, i int) string {
			b := []byte(s)
			if b[i] == 'A' {
				b[i] = 'B'
			} else {
				b[i] = 'A'
			}
			return string(b)
		}
		for name, bad := range map[string]string{
			"empty": "", "garbage": "hello", "last byte": flip(secret, len(secret)-1),
			"first secret byte": flip(secret, len(tokenPrefix)+tokenIDLen+1), "unknown id": "cgh_0000000000000000_" + secret[len(secret)-secretLen:],
			"longer": secret + "x", "shorter": secret[:len(secret)-1],
		} {
			if _, err := s.VerifyToken(ctx, bad); !errors.Is(err, hub.ErrUnauthorized) {
				t.Errorf("%s token accepted: %v", name, err)
			}
		}
		if _, _, err := s.CreateToken(ctx, "ci", hub.RoleViewer); !errors.Is(err, hub.ErrInvalid) {
			t.Errorf("duplicate active name: %v", err)
		}
		for _, bad := range []string{"", "has space", "x'; DROP TABLE tokens; --", strings.Repeat("a", 65)} {
			if _, _, err := s.CreateToken(ctx, bad, hub.RoleViewer); !errors.Is(err, hub.ErrInvalid) {
				t.Errorf("bad name %q: %v", bad, err)
			}
		}
		if _, _, err := s.CreateToken(ctx, "x", hub.Role("root")); err == nil {
			t.Error("unknown role accepted")
		}
		if err := s.RevokeToken(ctx, "ci"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.VerifyToken(ctx, secret); !errors.Is(err, hub.ErrUnauthorized) || !strings.Contains(err.Error(), "revoked") {
			t.Errorf("revoked token: %v", err)
		}
		if _, err := s.TokenByID(ctx, tok.ID); !errors.Is(err, hub.ErrUnauthorized) {
			t.Errorf("revoked token by id: %v", err)
		}
		if err := s.RevokeToken(ctx, "ci"); !errors.Is(err, hub.ErrNotFound) {
			t.Errorf("second revoke: %v", err)
		}
		// The name is free again.
		secret2, _, err := s.CreateToken(ctx, "ci", hub.RoleAdmin)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.VerifyToken(ctx, secret2); err != nil || got.Role != hub.RoleAdmin {
			t.Fatalf("new token: %+v %v", got, err)
		}
		list, err := s.Tokens(ctx)
		if err != nil || len(list) != 2 || list[0].Active() || !list[1].Active() {
			t.Fatalf("Tokens: %+v %v", list, err)
		}
	})
}

func TestSQLTextStaysData(t *testing.T) {
	each(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		evil := `x'); DROP TABLE runs; --`
		r := mkRun(t, "evil", hub.Context{Repo: evil, Branch: `" OR 1=1 --`}, t0, chk{evil, checklist.Fail, 1, 1})
		r.Checklist = evil
		put(t, s, r)
		put(t, s, mkRun(t, "plain", hub.Context{Repo: "org/a"}, t0, chk{"A", checklist.Pass, 1, 1}))
		p, err := s.Runs(ctx, RunFilter{Repo: evil})
		if err != nil || !slices.Equal(ids(p), []string{"evil"}) {
			t.Fatalf("filter by a quote-laden repo: %v %v", ids(p), err)
		}
		p, err = s.Runs(ctx, RunFilter{Branch: `" OR 1=1 --`, Repo: "org/a"})
		if err != nil || len(p.Runs) != 0 {
			t.Fatalf("injection through a filter matched: %v %v", ids(p), err)
		}
		st, err := s.CheckStats(ctx, StatsFilter{Checklist: evil})
		if err != nil || len(st) != 1 || st[0].Check != evil {
			t.Fatalf("stats: %+v %v", st, err)
		}
		if n := countRuns(t, s); n != 2 {
			t.Fatalf("%d runs, want 2", n)
		}
	})
}

func TestKeySharedAndStable(t *testing.T) {
	backends(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		a, b := open(t, dsn), open(t, dsn)
		ka, err := a.Key(ctx, "session")
		if err != nil {
			t.Fatal(err)
		}
		kb, err := b.Key(ctx, "session")
		if err != nil || string(ka) != string(kb) || len(ka) != 32 {
			t.Fatalf("keys differ: %x %x %v", ka, kb, err)
		}
		other, _ := a.Key(ctx, "other")
		if string(other) == string(ka) {
			t.Fatal("different names share a key")
		}
	})
}

func TestMigrations(t *testing.T) {
	backends(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		// Several hubs starting at once on a new database migrate it once.
		var wg sync.WaitGroup
		stores := make([]Store, 4)
		errs := make([]error, 4)
		for i := range stores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				stores[i], errs[i] = Open(ctx, dsn)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("open %d: %v", i, err)
			}
			defer stores[i].Close()
		}
		v, err := stores[0].SchemaVersion(ctx)
		if err != nil || v != len(migrations) {
			t.Fatalf("schema version %d, %v; want %d", v, err, len(migrations))
		}
		// A database migrated further by a newer cgoguard is refused.
		raw := stores[0].(*sqlStore)
		if _, err := raw.w.ExecContext(ctx, qRecordMigration, 999, "from the future", 0); err != nil {
			t.Fatal(err)
		}
		_, err = Open(ctx, dsn)
		if !errors.Is(err, ErrSchemaTooNew) {
			t.Fatalf("open of a newer schema: %v", err)
		}
		for _, want := range []string{"999", fmt.Sprint(len(migrations)), "newer cgoguard"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("message %q lacks %q", err, want)
			}
		}
		// Steps out of order are refused before anything runs.
		raw.w.ExecContext(ctx, `DELETE FROM schema_migrations WHERE version = 999`)
		bad := append(slices.Clone(migrations), Migration{Version: len(migrations) + 2, Name: "gap", SQL: "SELECT 1"})
		if err := raw.migrate(ctx, bad); err == nil || !strings.Contains(err.Error(), "out of order") {
			t.Fatalf("gap in versions: %v", err)
		}
		// A new step applies once, with its backend's own SQL.
		next := append(slices.Clone(migrations), Migration{Version: len(migrations) + 1, Name: "extra",
			SQL: "CREATE TABLE extra (x TEXT)", SQLite: "CREATE TABLE extra_sqlite (x TEXT)", Postgres: "CREATE TABLE extra_pg (x TEXT)"})
		for range 2 {
			if err := raw.migrate(ctx, next); err != nil {
				t.Fatal(err)
			}
		}
		table := map[string]string{"sqlite": "extra_sqlite", "postgres": "extra_pg"}[raw.backend]
		var n int
		if err := raw.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
			t.Fatalf("backend override not applied: %v", err)
		}
	})
}

func TestOpenBadDSN(t *testing.T) {
	for _, dsn := range []string{"", "sqlite:", "a?b.db", "file:x.db"} {
		if _, err := Open(context.Background(), dsn); !errors.Is(err, ErrBadDSN) {
			t.Errorf("Open(%q) = %v, want ErrBadDSN", dsn, err)
		}
	}
	if got := redactDSN("postgres://u:secret@h:5/db"); strings.Contains(got, "secret") {
		t.Errorf("password shown: %s", got)
	}
}

// TestOpenSQLiteDSNForms opens every SQLite DSN form from a working
// directory and checks which file each one created.
func TestOpenSQLiteDSNForms(t *testing.T) {
	wd := t.TempDir()
	t.Chdir(wd)
	abs := filepath.Join(t.TempDir(), "abs.db")
	tests := []struct {
		dsn, file string
	}{
		{"bare.db", filepath.Join(wd, "bare.db")},
		{"sqlite:colon.db", filepath.Join(wd, "colon.db")},
		{"sqlite://slashes.db", filepath.Join(wd, "slashes.db")},
		{"SQLite://upper.db", filepath.Join(wd, "upper.db")},
		{"sqlite://", ""},
		{"sqlite:" + abs, abs},
		{"sqlite://" + abs, abs},
	}
	if err := os.Mkdir(filepath.Join(wd, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests = append(tests, struct{ dsn, file string }{"sqlite://sub/nested.db", filepath.Join(wd, "sub", "nested.db")})
	for _, tt := range tests {
		t.Run(tt.dsn, func(t *testing.T) {
			st, err := Open(context.Background(), tt.dsn)
			if tt.file == "" {
				if !errors.Is(err, ErrBadDSN) {
					t.Fatalf("Open(%q) = %v, want ErrBadDSN", tt.dsn, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			st.Close()
			if _, err := os.Stat(tt.file); err != nil {
				t.Errorf("Open(%q) did not create %s: %v", tt.dsn, tt.file, err)
			}
		})
	}
}

func TestParseDSN(t *testing.T) {
	tests := []struct {
		dsn, backend, target, errHas string
	}{
		{"hub.db", "sqlite", "hub.db", ""},
		{"/var/lib/hub.db", "sqlite", "/var/lib/hub.db", ""},
		{"sqlite:hub.db", "sqlite", "hub.db", ""},
		{"sqlite://hub.db", "sqlite", "hub.db", ""},
		{"sqlite:///var/lib/hub.db", "sqlite", "/var/lib/hub.db", ""},
		{"postgres://u@h/db", "postgres", "postgres://u@h/db", ""},
		{"postgresql://u@h/db?sslmode=disable", "postgres", "postgresql://u@h/db?sslmode=disable", ""},
		{"mysql://u:secret@h/db", "", "", `unknown scheme "mysql" in --db "mysql://u:xxxxx@h/db"`},
		{"http://hub:8420", "", "", `"http://hub:8420"`},
	}
	for _, tt := range tests {
		b, target, err := ParseDSN(tt.dsn)
		if tt.errHas != "" {
			if !errors.Is(err, ErrBadDSN) || !strings.Contains(err.Error(), tt.errHas) || strings.Contains(err.Error(), "secret") {
				t.Errorf("ParseDSN(%q) = %v, want ErrBadDSN with %s", tt.dsn, err, tt.errHas)
			}
			continue
		}
		if err != nil || b != tt.backend || target != tt.target {
			t.Errorf("ParseDSN(%q) = %q, %q, %v; want %q, %q", tt.dsn, b, target, err, tt.backend, tt.target)
		}
	}
	if _, err := Open(context.Background(), "mysql://u@h/db"); !errors.Is(err, ErrBadDSN) {
		t.Errorf("unknown scheme opened: %v", err)
	}
}
