package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/hub"
)

var now0 = time.Now().UTC().Add(-time.Hour).Truncate(time.Second)

func TestAuthMatrix(t *testing.T) {
	e := newEnv(t, sqliteDSN(t))
	revoked, _, _ := e.st.CreateToken(context.Background(), "gone", hub.RoleAdmin)
	e.st.RevokeToken(context.Background(), "gone")
	body := func(i int) []byte {
		return uploadBody(t, fmt.Sprintf("auth-%d", i), result(now0, checklist.Pass), hub.Context{})
	}
	type req struct {
		method, path string
		write        bool
	}
	reqs := []req{
		{"POST", "/api/v1/runs", true},
		{"GET", "/api/v1/runs", false},
		{"GET", "/api/v1/checks", false},
		{"GET", "/api/v1/tokens", false},
		{"DELETE", "/api/v1/tokens/nobody", true},
	}
	// want[role] per request, in reqs order.
	want := map[string][]int{
		"none":      {401, 401, 401, 401, 401},
		"malformed": {401, 401, 401, 401, 401},
		"revoked":   {401, 401, 401, 401, 401},
		"admin":     {201, 200, 200, 200, 404},
		"author":    {403, 200, 200, 403, 403},
		"reviewer":  {403, 200, 200, 403, 403},
		"runner":    {201, 200, 200, 403, 403},
		"viewer":    {403, 200, 200, 403, 403},
	}
	tokens := map[string]string{"none": "", "malformed": "cgh_notatoken", "revoked": revoked}
	for _, r := range hub.Roles {
		tokens[string(r)] = e.tokens[r]
	}
	n := 0
	for who, codes := range want {
		for i, rq := range reqs {
			n++
			var b []byte
			if rq.method == "POST" {
				b = body(n)
			}
			got := e.do(rq.method, rq.path, tokens[who], b)
			if got.code != codes[i] {
				t.Errorf("%s %s as %s: %d, want %d (%s)", rq.method, rq.path, who, got.code, codes[i], got.body)
			}
			if got.code == 401 && got.h.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
			if got.code == 403 && !strings.Contains(got.body, "may not") {
				t.Errorf("403 does not say why: %s", got.body)
			}
		}
	}
	// Nothing was stored by a refused upload.
	page := decodeJSON[hub.RunPage](t, e.do("GET", "/api/v1/runs?limit=500", e.tokens[hub.RoleViewer], nil))
	if len(page.Runs) != 2 {
		t.Errorf("%d runs stored, want 2 (admin and runner)", len(page.Runs))
	}
	// A wrong scheme is refused.
	r := e.do("GET", "/api/v1/runs", "", nil, "Authorization", "Basic "+e.tokens[hub.RoleAdmin])
	mustCode(t, r, 401)
}

func TestUploadResponses(t *testing.T) {
	backends(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, WithMaxBody(64<<10))
		runner := e.tokens[hub.RoleRunner]
		good := uploadBody(t, "u-1", result(now0, checklist.Pass, checklist.Fail), hub.Context{Repo: "org/a"})

		r := e.do("POST", "/api/v1/runs", runner, good)
		mustCode(t, r, 201)
		ur := decodeJSON[hub.Receipt](t, r)
		if ur.Status != "created" || ur.URL != "/runs/u-1" || r.h.Get("Location") != "/runs/u-1" {
			t.Errorf("created response: %+v %v", ur, r.h)
		}
		r = e.do("POST", "/api/v1/runs", runner, good)
		mustCode(t, r, 200)
		if decodeJSON[hub.Receipt](t, r).Status != "duplicate" {
			t.Errorf("retry: %s", r.body)
		}
		other := uploadBody(t, "u-1", result(now0, checklist.Pass, checklist.Pass), hub.Context{Repo: "org/a"})
		r = e.do("POST", "/api/v1/runs", runner, other)
		mustCode(t, r, 409)
		contains(t, r.body, `run \"u-1\" was stored before with other content`)

		bad := []struct {
			name string
			body string
			code int
			msg  string
		}{
			{"malformed", `{"format_version":1,"id":"x",`, 400, "malformed JSON"},
			{"unknown version", `{"format_version":7,"id":"x","result":{"checklist":"c","checks":[]}}`, 400, "unknown format_version 7"},
			{"no checks", `{"format_version":1,"id":"x","result":{"checklist":"c"}}`, 400, "result.checks is missing"},
			{"too big", `{"format_version":1,"id":"x","result":{"checklist":"` + strings.Repeat("a", 70<<10) + `"}}`, 413, "larger than 65536 bytes"},
		}
		for _, b := range bad {
			t.Run(b.name, func(t *testing.T) {
				r := e.do("POST", "/api/v1/runs", runner, []byte(b.body))
				mustCode(t, r, b.code)
				contains(t, r.body, b.msg)
			})
		}
		r = e.do("POST", "/api/v1/runs", runner, good, "Content-Type", "text/plain")
		mustCode(t, r, 415)
		if _, err := e.st.Run(context.Background(), "x"); err == nil {
			t.Error("a refused upload was stored")
		}
		run := decodeJSON[hub.Run](t, e.do("GET", "/api/v1/runs/u-1", runner, nil))
		if len(run.Checks) != 2 || run.Checks[1].Outcome != checklist.Fail || run.UploadedBy != "tok-runner" {
			t.Errorf("stored run: %+v", run)
		}
		mustCode(t, e.do("GET", "/api/v1/runs/nope", runner, nil), 404)
	})
}

func TestConcurrentUploadsOverHTTP(t *testing.T) {
	backends(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		var wg sync.WaitGroup
		codes := make([]int, 120)
		for i := range 120 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id, at := fmt.Sprintf("c-%03d", i), now0.Add(time.Duration(i)*time.Second)
				if i >= 100 {
					id, at = "same", now0 // 20 identical uploads at once
				}
				codes[i] = e.upload(id, result(at, checklist.Pass, checklist.Fail), hub.Context{}).code
			}()
		}
		wg.Wait()
		created := 0
		for i, c := range codes {
			if c != 201 && c != 200 {
				t.Fatalf("upload %d: %d", i, c)
			}
			if i >= 100 && c == 201 {
				created++
			}
		}
		if created != 1 {
			t.Errorf("the same run was created %d times", created)
		}
		page := decodeJSON[hub.RunPage](t, e.do("GET", "/api/v1/runs?limit=500", e.tokens[hub.RoleViewer], nil))
		if len(page.Runs) != 101 {
			t.Fatalf("%d runs, want 101", len(page.Runs))
		}
	})
}

func TestEvidenceCappedWithMarker(t *testing.T) {
	e := newEnv(t, sqliteDSN(t), WithEvidenceCap(1000))
	res := result(now0, checklist.Fail)
	res.Checks[0].Evidence.Stdout = strings.Repeat("x", 5000)
	mustCode(t, e.upload("cap", res, hub.Context{}), 201)
	run := decodeJSON[hub.Run](t, e.do("GET", "/api/v1/runs/cap", e.tokens[hub.RoleViewer], nil))
	c := run.Checks[0]
	if !c.EvidenceTruncated || !strings.HasSuffix(c.Evidence.Stdout, hub.EvidenceMarker+": 1000 of 5000 bytes kept]") {
		t.Fatalf("evidence not capped: truncated=%v len=%d", c.EvidenceTruncated, len(c.Evidence.Stdout))
	}
	page := e.do("GET", "/runs/cap", e.tokens[hub.RoleViewer], nil)
	contains(t, page.body, "cut by the hub", "evidence truncated: 1000 of 5000 bytes kept")
}

// TestUploadedTextIsInert uploads script in every field that a page shows
// and checks that the page holds it only as text.
func TestUploadedTextIsInert(t *testing.T) {
	e := newEnv(t, sqliteDSN(t))
	x := `<script>document.title='pwned'</script>`
	res := result(now0, checklist.Fail, checklist.Pass)
	res.Checks[1].ID, res.Checks[1].Attempts = "flaky"+x, 2 // shown on /flaky
	res.Checklist = "cl" + x
	res.Checks[0].ID = "id" + x
	res.Checks[0].Title = "title" + x
	res.Checks[0].Message = "msg" + x
	res.Checks[0].Evidence.Stdout = "out" + x
	res.Checks[0].Evidence.Command = `"><img src=x onerror=alert(1)>`
	res.Checks[0].Findings = []checklist.Finding{{Rule: "R" + x, Message: "m" + x, File: "f" + x}}
	res.Checks[0].Waiver = &checklist.Waiver{Reason: "why" + x}
	c := hub.Context{Repo: "repo" + x, Branch: "br" + x, Commit: "c" + x, JobURL: "javascript:alert(1)", Host: "h" + x}
	mustCode(t, e.upload("xss", res, c), 201)
	v := e.tokens[hub.RoleViewer]
	pages := []string{"/runs", "/runs/xss", "/checks", "/checks/" + url.PathEscape(res.Checklist) + "/" + url.PathEscape(res.Checks[0].ID),
		"/waivers", "/slowest", "/flaky", "/runs?repo=" + url.QueryEscape(x)}
	for _, p := range pages {
		r := e.do("GET", p, v, nil)
		mustCode(t, r, 200)
		if strings.Contains(r.body, "<script") || strings.Contains(r.body, "<img") || strings.Contains(r.body, `href="javascript:`) {
			t.Errorf("%s carries live markup:\n%s", p, clip(r.body))
		}
		if !strings.Contains(r.body, "&lt;script&gt;") {
			t.Errorf("%s does not show the uploaded text escaped", p)
		}
		if csp := r.h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
			t.Errorf("%s: CSP %q", p, csp)
		}
	}
}

func TestFormsNeedCSRF(t *testing.T) {
	e := newEnv(t, sqliteDSN(t))
	jar := newJar(t)
	c := &http.Client{Jar: jar, CheckRedirect: noRedirect.CheckRedirect}
	// The login page sets the CSRF cookie and puts the token in the form.
	res, err := c.Get(e.srv.URL + "/login?next=/checks")
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, res)
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF field on the login form:\n%s", body)
	}
	csrf := m[1]
	post := func(path string, form url.Values, hdr ...string) *http.Response {
		req, _ := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	tok := e.tokens[hub.RoleAdmin]
	if r := post("/login", url.Values{"token": {tok}}); r.StatusCode != 403 {
		t.Errorf("login without CSRF token: %d", r.StatusCode)
	}
	if r := post("/login", url.Values{"token": {tok}, "csrf": {csrf + "x"}}); r.StatusCode != 403 {
		t.Errorf("login with a wrong CSRF token: %d", r.StatusCode)
	}
	if r := post("/login", url.Values{"token": {tok}, "csrf": {csrf}}, "Sec-Fetch-Site", "cross-site"); r.StatusCode != 403 {
		t.Errorf("cross-site login post: %d", r.StatusCode)
	}
	if r := post("/login", url.Values{"token": {"cgh_wrong"}, "csrf": {csrf}}); r.StatusCode != 401 {
		t.Errorf("login with a bad token: %d", r.StatusCode)
	}
	r := post("/login", url.Values{"token": {tok}, "csrf": {csrf}, "next": {"/checks"}})
	if r.StatusCode != 303 || r.Header.Get("Location") != "/checks" {
		t.Fatalf("login: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	// An off-site next is ignored.
	r = post("/login", url.Values{"token": {tok}, "csrf": {csrf}, "next": {"//evil.example/"}})
	if r.Header.Get("Location") != "/runs" {
		t.Errorf("open redirect: %s", r.Header.Get("Location"))
	}
	res, _ = c.Get(e.srv.URL + "/admin/tokens")
	page := readAll(t, res)
	if res.StatusCode != 200 || !strings.Contains(page, "tok-runner") {
		t.Fatalf("session does not reach the admin page: %d", res.StatusCode)
	}
	// Token form: refused without the CSRF token, works with it.
	if r := post("/admin/tokens", url.Values{"name": {"new"}, "role": {"viewer"}}); r.StatusCode != 403 {
		t.Errorf("create token without CSRF: %d", r.StatusCode)
	}
	if r := post("/admin/tokens", url.Values{"name": {"new"}, "role": {"viewer"}, "csrf": {csrf}}); r.StatusCode != 200 {
		t.Errorf("create token: %d", r.StatusCode)
	}
	if r := post("/admin/tokens/revoke", url.Values{"name": {"new"}, "csrf": {csrf}}); r.StatusCode != 303 {
		t.Errorf("revoke token: %d", r.StatusCode)
	}
	// A session never authorizes an API write.
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/runs", strings.NewReader(string(uploadBody(t, "s", result(now0), hub.Context{}))))
	req.Header.Set("Content-Type", "application/json")
	res, _ = c.Do(req)
	readAll(t, res)
	if res.StatusCode != 401 {
		t.Errorf("API write with a session cookie: %d", res.StatusCode)
	}
	// Revoking the token ends its session.
	e.st.RevokeToken(context.Background(), "tok-admin")
	res, _ = c.Get(e.srv.URL + "/runs")
	readAll(t, res)
	if res.StatusCode != 303 {
		t.Errorf("session of a revoked token: %d", res.StatusCode)
	}
	if r := post("/logout", url.Values{"csrf": {csrf}}); r.StatusCode != 303 {
		t.Errorf("logout: %d", r.StatusCode)
	}
}

func TestReadsOpenOrProtected(t *testing.T) {
	e := newEnv(t, sqliteDSN(t))
	r := e.do("GET", "/runs?branch=main", "", nil)
	if r.code != 303 || r.h.Get("Location") != "/login?next=%2Fruns%3Fbranch%3Dmain" {
		t.Errorf("protected page: %d %s", r.code, r.h.Get("Location"))
	}
	mustCode(t, e.do("GET", "/api/v1/runs", "", nil), 401)

	open := newEnv(t, sqliteDSN(t), WithAuthReads(false))
	mustCode(t, open.do("GET", "/runs", "", nil), 200)
	mustCode(t, open.do("GET", "/api/v1/runs", "", nil), 200)
	mustCode(t, open.do("POST", "/api/v1/runs", "", uploadBody(t, "x", result(now0), hub.Context{})), 401)
	mustCode(t, open.do("GET", "/admin/tokens", "", nil), 303)
}
