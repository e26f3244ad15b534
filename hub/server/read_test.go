package server

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/hub"
)

// seed uploads a small history: 10 runs over 10 days on two branches;
// check A fails on even days, B passes after a retry on day 3, C is
// skipped once and waived later.
func seed(t *testing.T, e *env, now time.Time) {
	t.Helper()
	for d := range 10 {
		at := now.Add(-time.Duration(9-d)*24*time.Hour + time.Minute)
		a, b, c := checklist.Pass, checklist.Pass, checklist.Pass
		if d%2 == 0 {
			a = checklist.Fail
		}
		if d == 2 {
			c = checklist.Skip
		}
		res := result(at, a, b, c)
		if d == 3 {
			res.Checks[1].Attempts = 3
		}
		if d == 9 {
			res.Checks[2].Outcome = checklist.Waived
			res.Checks[2].Waiver = &checklist.Waiver{Reason: "vendor fix pending", Expires: checklist.Date{Time: now.AddDate(0, 0, 5).Truncate(24 * time.Hour)}}
		}
		branch := "main"
		if d%3 == 0 {
			branch = "dev"
		}
		mustCode(t, e.upload(fmt.Sprintf("day-%d", d), res, hub.Context{Repo: "org/svc", Branch: branch, Commit: fmt.Sprintf("c%039d", d)}), 201)
	}
}

func TestReadAPI(t *testing.T) {
	backends(t, func(t *testing.T, dsn string) {
		now := time.Now().UTC()
		e := newEnv(t, dsn, WithClock(func() time.Time { return now }))
		seed(t, e, now)
		v := e.tokens[hub.RoleViewer]

		page := decodeJSON[hub.RunPage](t, e.do("GET", "/api/v1/runs?limit=4&branch=main", v, nil))
		if len(page.Runs) != 4 || page.Runs[0].ID != "day-8" || page.Next == "" {
			t.Fatalf("page 1: %+v", page)
		}
		page2 := decodeJSON[hub.RunPage](t, e.do("GET", "/api/v1/runs?limit=4&branch=main&cursor="+page.Next, v, nil))
		if len(page2.Runs) != 2 || page2.Runs[0].ID != "day-2" || page2.Next != "" {
			t.Fatalf("page 2: %+v", page2)
		}
		page = decodeJSON[hub.RunPage](t, e.do("GET", "/api/v1/runs?outcome=fail&since=3d&checklist=cl&repo=org/svc", v, nil))
		if len(page.Runs) != 2 || page.Runs[0].ID != "day-8" || page.Runs[1].ID != "day-6" {
			t.Fatalf("filtered: %+v", page)
		}
		for _, q := range []string{"limit=0", "limit=x", "since=yesterday", "outcome=meh", "cursor=zz"} {
			r := e.do("GET", "/api/v1/runs?"+q, v, nil)
			mustCode(t, r, 400)
		}

		checks := decodeJSON[ChecksResponse](t, e.do("GET", "/api/v1/checks?checklist=cl", v, nil))
		if len(checks.Checks) != 3 {
			t.Fatalf("checks: %+v", checks)
		}
		a, b, c := checks.Checks[0], checks.Checks[1], checks.Checks[2]
		if a.Runs != 10 || a.Failures != 5 || a.FailureRate != 0.5 || a.LastFailureRun != "day-8" || a.MeanSeconds != 1 {
			t.Errorf("A: %+v", a)
		}
		if b.Flaky != 1 || b.Failures != 0 {
			t.Errorf("B: %+v", b)
		}
		if c.Skips != 1 || c.SkipRate != 0.1 || c.Waived != 1 {
			t.Errorf("C: %+v", c)
		}
		checks = decodeJSON[ChecksResponse](t, e.do("GET", "/api/v1/checks?window=2d&branch=main", v, nil))
		if len(checks.Checks) != 3 || checks.Checks[0].Runs != 2 || checks.Checks[0].Failures != 1 {
			t.Errorf("windowed: %+v", checks)
		}

		tr := decodeJSON[hub.Trend](t, e.do("GET", "/api/v1/checks/cl/A/trend?window=10d&bucket=1d", v, nil))
		if len(tr.Buckets) != 10 || tr.BucketSeconds != 86400 {
			t.Fatalf("trend: %d buckets, %v s", len(tr.Buckets), tr.BucketSeconds)
		}
		runs, fails := 0, 0
		for _, bk := range tr.Buckets {
			runs += bk.Runs
			fails += bk.Failures
			if bk.Start.Hour() != 0 || bk.Start.Minute() != 0 {
				t.Errorf("bucket not aligned to midnight: %v", bk.Start)
			}
		}
		if runs != 10 || fails != 5 {
			t.Errorf("trend totals: %d runs %d failures", runs, fails)
		}
		mustCode(t, e.do("GET", "/api/v1/checks/cl/A/trend?window=1d&bucket=2d", v, nil), 400)
		mustCode(t, e.do("GET", "/api/v1/checks/cl/A/trend?window=1000d&bucket=1h", v, nil), 400)
		mustCode(t, e.do("GET", "/api/v1/checks/cl/A/trend?window=bad", v, nil), 400)

		ws := decodeJSON[struct{ Waivers []hub.WaiverInfo }](t, e.do("GET", "/api/v1/waivers", v, nil))
		if len(ws.Waivers) != 1 || ws.Waivers[0].Reason != "vendor fix pending" || ws.Waivers[0].DaysLeft != 5 || ws.Waivers[0].Expired {
			t.Errorf("waivers: %+v", ws)
		}
		mustCode(t, e.do("GET", "/api/v1/nothing", v, nil), 404)
	})
}

func TestPages(t *testing.T) {
	now := time.Now().UTC()
	e := newEnv(t, sqliteDSN(t), WithClock(func() time.Time { return now }))
	seed(t, e, now)
	long := result(now.Add(-time.Minute), checklist.Fail)
	long.Checks[0].Evidence.Stdout = strings.Repeat("0123456789abcde\n", 1000) // 16000 bytes
	long.Checks[0].Evidence.Stderr = "short error"
	mustCode(t, e.upload("long", long, hub.Context{JobURL: "https://ci.example/job/1"}), 201)
	v := e.tokens[hub.RoleViewer]

	tests := []struct {
		path string
		want []string
	}{
		{"/runs", []string{"day-9", "org/svc", `<select name="checklist"><option value="">any</option><option>cl</option>`}},
		{"/runs?branch=dev", []string{`href="/runs/day-9"`, `value="dev"`}},
		{"/runs?since=nonsense", []string{"is not a time"}},
		{"/runs/day-8", []string{"o-fail", "check A", "<details class=\"evidence\">", "output of A", "make A", "c000000000000000000000000000000000000008"}},
		{"/runs/long", []string{"Showing the first 8192 of 16000 bytes", `href="/runs/long/checks/0/stdout" download`, "short error", `href="https://ci.example/job/1"`}},
		{"/checks", []string{`href="/checks/cl/A"`, "54.5%", `href="/runs/long"`}},
		{"/checks/cl/A", []string{"Failure rate", `<svg class="chart"`, "<polyline class=\"line s-fail\"", "Duration (mean and p95)", "Skip rate", `href="/runs/day-8"`}},
		{"/checks/cl/A?window=3d&bucket=12h", []string{"in buckets of 12h0m0s"}},
		{"/flaky", []string{`href="/checks/cl/B"`, "10.0%"}},
		{"/slowest", []string{`href="/checks/cl/C"`, "3.0s"}},
		{"/waivers", []string{"vendor fix pending", "5 days left"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := e.do("GET", tt.path, v, nil)
			mustCode(t, r, 200)
			contains(t, r.body, tt.want...)
			if r.h.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Errorf("content type %q", r.h.Get("Content-Type"))
			}
		})
	}
	// The download is the whole stored stream, as a text attachment.
	r := e.do("GET", "/runs/long/checks/0/stdout", v, nil)
	mustCode(t, r, 200)
	if r.body != long.Checks[0].Evidence.Stdout || !strings.HasPrefix(r.h.Get("Content-Disposition"), `attachment; filename="long-0-stdout.txt"`) ||
		r.h.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(r.h.Get("Content-Type"), "text/plain") {
		t.Errorf("download: %d bytes, %v", len(r.body), r.h)
	}
	for _, p := range []string{"/runs/long/checks/5/stdout", "/runs/long/checks/x/stdout", "/runs/long/checks/0/etc", "/runs/nope", "/checks/cl/nope"} {
		mustCode(t, e.do("GET", p, v, nil), 404)
	}
	mustCode(t, e.do("GET", "/admin/tokens", v, nil), 403)
	r = e.do("GET", "/admin/tokens", e.tokens[hub.RoleAdmin], nil)
	mustCode(t, r, 200)
	contains(t, r.body, "tok-viewer", `action="/admin/tokens/revoke"`)
	r = e.do("GET", "/", v, nil)
	if r.code != 302 || r.h.Get("Location") != "/runs" {
		t.Errorf("root: %d %s", r.code, r.h.Get("Location"))
	}
	r = e.do("GET", "/static/hub.css", "", nil)
	mustCode(t, r, 200)
	contains(t, r.body, "svg.chart")
}

func TestMetrics(t *testing.T) {
	now := time.Now().UTC()
	e := newEnv(t, sqliteDSN(t), WithClock(func() time.Time { return now }), WithMetricsWindow(5*24*time.Hour))
	seed(t, e, now)
	mustCode(t, e.do("POST", "/api/v1/runs", e.tokens[hub.RoleRunner], []byte("{")), 400)
	r := e.do("GET", "/metrics", "", nil)
	mustCode(t, r, 200)
	// The last 5 days hold days 4..9: A failed on 4, 6 and 8.
	contains(t, r.body,
		`cgoguard_hub_check_failure_ratio{check="A",checklist="cl"} 0.5`,
		`cgoguard_hub_check_skip_ratio{check="C",checklist="cl"} 0`,
		`cgoguard_hub_check_duration_seconds{check="B",checklist="cl"} 2`,
		`cgoguard_hub_check_flaky_total{check="B",checklist="cl"} 0`,
		`cgoguard_hub_check_runs{check="A",checklist="cl"} 6`,
		`cgoguard_hub_runs_total{outcome="fail"} 3`,
		`cgoguard_hub_runs_total{outcome="pass"} 3`,
		`cgoguard_hub_runs_total{outcome="interrupted"} 0`,
		`cgoguard_hub_feedback_window_seconds 432000`,
		`cgoguard_hub_uploads_total{result="created"} 10`,
		`cgoguard_hub_uploads_total{result="invalid"} 1`,
		`cgoguard_hub_http_requests_total{code="201",handler="api_runs_post",method="post"} 10`,
		`cgoguard_hub_http_request_duration_seconds_bucket{handler="api_runs_post",method="post",le="+Inf"} 11`,
		"go_goroutines", "process_cpu_seconds_total")
}

// TestMetricsAuth: with WithMetricsAuth a scrape needs a valid bearer
// token of any role, also when reads are open; without it, none.
func TestMetricsAuth(t *testing.T) {
	for _, tt := range []struct {
		name  string
		opts  []Option
		token string // role, "" none, "bad" an invalid token
		code  int
	}{
		{"open by default", nil, "", 200},
		{"no token", []Option{WithMetricsAuth(true)}, "", 401},
		{"no token, reads open", []Option{WithMetricsAuth(true), WithAuthReads(false)}, "", 401},
		{"invalid token", []Option{WithMetricsAuth(true)}, "bad", 401},
		{"viewer", []Option{WithMetricsAuth(true)}, string(hub.RoleViewer), 200},
		{"runner", []Option{WithMetricsAuth(true)}, string(hub.RoleRunner), 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, sqliteDSN(t), tt.opts...)
			tok := ""
			switch tt.token {
			case "":
			case "bad":
				tok = "cgh_nope_nope"
			default:
				tok = e.tokens[hub.Role(tt.token)]
			}
			r := e.do("GET", "/metrics", tok, nil)
			mustCode(t, r, tt.code)
			if tt.code == 200 {
				contains(t, r.body, "cgoguard_hub_runs_total")
			}
		})
	}
}

func TestHealthAndReady(t *testing.T) {
	e := newEnv(t, sqliteDSN(t))
	r := e.do("GET", "/healthz", "", nil)
	mustCode(t, r, 200)
	r = e.do("GET", "/readyz", "", nil)
	mustCode(t, r, 200)
	contains(t, r.body, "ok (sqlite)")
	e.st.Close()
	r = e.do("GET", "/readyz", "", nil)
	mustCode(t, r, 503)
	mustCode(t, e.do("GET", "/healthz", "", nil), 200)
}

// TestHubsShareOnePostgres runs two hubs on one PostgreSQL database: what
// one stores the other serves, the same run sent to both at once is stored
// once, and a browser session from one is valid on the other.
func TestHubsShareOnePostgres(t *testing.T) {
	backends(t, func(t *testing.T, dsn string) {
		if !strings.HasPrefix(dsn, "postgres") {
			t.Skip("several hubs share PostgreSQL, not a SQLite file")
		}
		a := newEnv(t, dsn)
		b := &env{t: t, tokens: a.tokens}
		bb := newEnv(t, dsn) // creates its own tokens too; a's work on b since they share the table
		b.srv, b.st = bb.srv, bb.st
		mustCode(t, a.upload("shared-1", result(now0, checklist.Fail), hub.Context{}), 201)
		run := decodeJSON[hub.Run](t, b.do("GET", "/api/v1/runs/shared-1", a.tokens[hub.RoleViewer], nil))
		if run.Outcome != "fail" {
			t.Fatalf("run via the other hub: %+v", run)
		}
		var wg sync.WaitGroup
		codes := make([]int, 20)
		for i := range codes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				h := a
				if i%2 == 1 {
					h = b
				}
				codes[i] = h.upload("shared-2", result(now0, checklist.Pass), hub.Context{}).code
			}()
		}
		wg.Wait()
		created := 0
		for _, c := range codes {
			if c == 201 {
				created++
			} else if c != 200 {
				t.Fatalf("code %d", c)
			}
		}
		if created != 1 {
			t.Fatalf("created %d times across two hubs", created)
		}
		// Sessions are signed with the shared key.
		jar := newJar(t)
		c := loginClient(t, a, jar, a.tokens[hub.RoleViewer])
		u, _ := url.Parse(b.srv.URL)
		ua, _ := url.Parse(a.srv.URL)
		jar.SetCookies(u, jar.Cookies(ua))
		res, err := c.Get(b.srv.URL + "/runs")
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, res)
		if res.StatusCode != 200 || !strings.Contains(body, "shared-2") && !strings.Contains(body, "/runs/shared") {
			t.Fatalf("session from hub a on hub b: %d", res.StatusCode)
		}
	})
}
