package server

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func newJar(t testing.TB) http.CookieJar {
	j, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func readAll(t testing.TB, r *http.Response) string {
	t.Helper()
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// loginClient logs in to e through the login form, as a browser does, and
// returns a client holding the session in jar.
func loginClient(t testing.TB, e *env, jar http.CookieJar, tok string) *http.Client {
	t.Helper()
	c := &http.Client{Jar: jar, CheckRedirect: noRedirect.CheckRedirect}
	res, err := c.Get(e.srv.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	m := csrfRe.FindStringSubmatch(readAll(t, res))
	if m == nil {
		t.Fatal("no CSRF field on the login form")
	}
	res, err = c.PostForm(e.srv.URL+"/login", url.Values{"token": {tok}, "csrf": {m[1]}})
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, res)
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Set-Cookie"), sessionCookie) {
		t.Fatalf("login: %d", res.StatusCode)
	}
	return c
}
