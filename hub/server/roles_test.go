package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/hub"
	"github.com/cgoguard/cgoguard/hub/store"
)

// TestRoleEndpointTable sends every write endpoint (API and page forms)
// and the admin-only reads as each role, and as nobody: a role the table
// allows gets past the role check (any answer but 401 and 403), every
// other gets 403 (401 without a token), and every refusal is audited.
func TestRoleEndpointTable(t *testing.T) {
	backends(t, roleEndpointTable)
}

func roleEndpointTable(t *testing.T, dsn string) {
	e := newEnv(t, dsn, WithLongPoll(1))
	mustCode(t, e.yaml(hub.RoleAuthor, teamV1), 201)
	csrfCookie, csrf := csrfPair(t, e)
	const (
		all      = "admin author reviewer runner viewer"
		admin    = "admin"
		author   = "admin author"
		reviewer = "admin reviewer"
		runner   = "admin runner"
	)
	n := 0
	type endpoint struct {
		method, path string
		allowed      string
		body         func() []byte
		form         url.Values // a page form (session or bearer, plus CSRF)
	}
	upload := func() []byte {
		n++
		return uploadBody(t, fmt.Sprintf("role-%d", n), result(now0, checklist.Pass), hub.Context{})
	}
	fixed := func(s string) func() []byte { return func() []byte { return []byte(s) } }
	endpoints := []endpoint{
		{"POST", "/api/v1/runs", runner, upload, nil},
		{"POST", "/api/v1/checklists", author, fixed(strings.Replace(teamV1, "builds", "builds fast", 1)), nil},
		{"POST", "/api/v1/checklists/team/versions/1/approve", reviewer, fixed(`{}`), nil},
		{"POST", "/api/v1/checklists/team/versions/1/reject", reviewer, fixed(`{"comment":"no"}`), nil},
		{"POST", "/api/v1/waivers", reviewer, fixed(`{"checklist":"team","check":"A","reason":"r","expires":"` + now0.AddDate(0, 0, 2).Format("2006-01-02") + `"}`), nil},
		{"DELETE", "/api/v1/waivers/team/A", reviewer, nil, nil},
		{"POST", "/api/v1/checks/team/A/votes", all, fixed(`{"vote":"useful","comment":"caught a leak"}`), nil},
		{"POST", "/api/v1/tokens", admin, func() []byte { n++; return []byte(fmt.Sprintf(`{"name":"t%d","role":"viewer"}`, n)) }, nil},
		{"DELETE", "/api/v1/tokens/nobody", admin, nil, nil},
		{"POST", "/api/v1/queue/lease?wait=0s", runner, fixed(`{}`), nil},
		{"POST", "/api/v1/queue/rq-0/renew", runner, fixed(`{"token":"x"}`), nil},
		{"POST", "/api/v1/queue/rq-0/complete", runner, fixed(`{"token":"x","error":"e"}`), nil},
		{"GET", "/api/v1/audit", admin, nil, nil},
		{"GET", "/admin/audit", admin, nil, nil},
		{"POST", "/checklists", author, nil, url.Values{"yaml": {teamV1}}},
		{"POST", "/checklists/team/versions/1/review", reviewer, nil, url.Values{"decision": {"reject"}, "comment": {"no"}}},
		{"POST", "/checks/team/A/vote", all, nil, url.Values{"vote": {"noisy"}}},
		{"POST", "/waivers", reviewer, nil, url.Values{"checklist": {"team"}, "check": {"B"}, "reason": {"r"}, "expires": {now0.AddDate(0, 0, 2).Format("2006-01-02")}}},
		{"POST", "/waivers/lift", reviewer, nil, url.Values{"checklist": {"team"}, "check": {"B"}}},
		{"POST", "/admin/tokens", admin, nil, url.Values{"name": {"formtok"}, "role": {"viewer"}}},
		{"POST", "/admin/tokens/revoke", admin, nil, url.Values{"name": {"nobody"}}},
	}
	// The table covers every write route of the server.
	routePatterns = e.s.patterns
	for _, rt := range writeRoutes(t) {
		if !slices.ContainsFunc(endpoints, func(ep endpoint) bool { return ep.method+" "+routePath(ep.method, ep.path) == rt }) && !strings.Contains(rt, "/hooks/") && rt != "POST /login" && rt != "POST /logout" {
			t.Errorf("write route %s is not in the role table", rt)
		}
	}
	whos := append([]string{"none"}, strings.Fields(all)...)
	denied := 0
	for _, ep := range endpoints {
		for _, who := range whos {
			tok := ""
			if who != "none" {
				tok = e.tokens[hub.Role(who)]
			}
			var code int
			var body string
			if ep.form != nil {
				form := url.Values{}
				for k, v := range ep.form {
					form[k] = v
				}
				form.Set("csrf", csrf)
				if ep.path == "/admin/tokens" {
					n++
					form.Set("name", fmt.Sprint("formtok", n))
				}
				req, _ := http.NewRequest(ep.method, e.srv.URL+ep.path, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.AddCookie(csrfCookie)
				if tok != "" {
					req.Header.Set("Authorization", "Bearer "+tok)
				}
				res, err := noRedirect.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				code, body = res.StatusCode, string(b)
			} else {
				var b []byte
				if ep.body != nil {
					b = ep.body()
				}
				r := e.do(ep.method, ep.path, tok, b)
				code, body = r.code, r.body
			}
			allowed := strings.Contains(" "+ep.allowed+" ", " "+who+" ")
			switch {
			case who == "none" && ep.method == "GET" && !strings.HasPrefix(ep.path, "/api/"):
				if code != 303 {
					t.Errorf("%s %s without a token: %d, want 303 to the login page", ep.method, ep.path, code)
				}
			case who == "none" && code != 401:
				t.Errorf("%s %s without a token: %d, want 401", ep.method, ep.path, code)
			case who != "none" && allowed && (code == 401 || code == 403):
				t.Errorf("%s %s as %s: %d, want allowed (%s)", ep.method, ep.path, who, code, clip(body))
			case who != "none" && !allowed && code != 403:
				t.Errorf("%s %s as %s: %d, want 403", ep.method, ep.path, who, code)
			}
			if !allowed && ep.method != "GET" {
				denied++
			}
		}
	}
	p, err := e.st.Audit(context.Background(), store.AuditFilter{Action: hub.AuditPermissionRefused, Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Entries) != denied {
		t.Errorf("%d refused writes audited, want %d", len(p.Entries), denied)
	}
	for _, en := range p.Entries {
		if en.Outcome != hub.AuditDenied || en.From == "" || !strings.Contains(en.Target, "/") {
			t.Errorf("refusal entry: %+v", en)
		}
	}
	// Allowed writes are audited with the token's name and role.
	p, _ = e.st.Audit(context.Background(), store.AuditFilter{Action: hub.AuditVote, Limit: store.MaxLimit})
	if len(p.Entries) != 10 {
		t.Errorf("%d votes audited, want 10 (5 roles, API and form)", len(p.Entries))
	}
	// The audit API filters.
	page := decodeJSON[hub.AuditPage](t, e.do("GET", "/api/v1/audit?actor=tok-viewer&action=check.vote", e.tokens[hub.RoleAdmin], nil))
	if len(page.Entries) != 2 || page.Entries[0].Role != hub.RoleViewer || page.Entries[0].Detail != "noisy" {
		t.Errorf("filtered audit: %+v", page.Entries)
	}
	mustCode(t, e.do("GET", "/api/v1/audit?outcome=maybe", e.tokens[hub.RoleAdmin], nil), 400)
	html := e.do("GET", "/admin/audit?outcome=denied", e.tokens[hub.RoleAdmin], nil)
	contains(t, html.body, "permission.refused", "tok-viewer")
}

var routePatterns []string

// writeRoutes lists the server's routes that change something (every
// method but GET and HEAD, and the admin-only reads) by reading routes().
func writeRoutes(t *testing.T) []string {
	var out []string
	for _, p := range routePatterns {
		m, _, ok := strings.Cut(p, " ")
		if ok && m != "GET" {
			out = append(out, p)
		}
	}
	if len(out) < 15 {
		t.Fatalf("only %d write routes found", len(out))
	}
	return out
}

// routePath turns a concrete path into the route pattern it matches.
func routePath(method, p string) string {
	p, _, _ = strings.Cut(p, "?")
	for _, rt := range routePatterns {
		m, pat, _ := strings.Cut(rt, " ")
		if m == method && matchPattern(pat, p) {
			return pat
		}
	}
	return p
}

func matchPattern(pat, p string) bool {
	ps, xs := strings.Split(pat, "/"), strings.Split(p, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if ps[i] == "{$}" || (!strings.HasPrefix(ps[i], "{") && ps[i] != xs[i]) {
			return false
		}
	}
	return true
}

// csrfPair fetches a CSRF cookie and its form token.
func csrfPair(t *testing.T, e *env) (*http.Cookie, string) {
	res, err := http.Get(e.srv.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, res)
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no CSRF field")
	}
	for _, c := range res.Cookies() {
		if c.Name == csrfCookie {
			return c, m[1]
		}
	}
	t.Fatal("no CSRF cookie")
	return nil, ""
}
