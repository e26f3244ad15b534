//go:build cgo

package chaos_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/chaos"
	"github.com/cgoguard/cgoguard/internal/cfixture"
)

// syncBuffer is a log sink safe for the handler's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type listResp struct {
	Failpoints []chaos.Info `json:"failpoints"`
	Cleared    *int         `json:"cleared"`
	Error      string       `json:"error"`
}

func do(t *testing.T, method, url, token, body string) (int, listResp, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var lr listResp
	if err := json.Unmarshal(data, &lr); err != nil {
		t.Fatalf("%s %s: body %q is not JSON: %v", method, url, data, err)
	}
	return resp.StatusCode, lr, resp.Header
}

func TestHandlerAuth(t *testing.T) {
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	open := httptest.NewServer(chaos.Handler(chaos.WithToken(""), chaos.WithLogger(logger)))
	defer open.Close()
	guarded := httptest.NewServer(chaos.Handler(chaos.WithToken("s3cret"), chaos.WithLogger(logger)))
	defer guarded.Close()
	const spec = "handler-auth=errno(EIO)"
	defer chaos.ClearTarget("handler-auth")

	tests := []struct {
		name   string
		url    string
		method string
		token  string
		want   int
	}{
		{"no token configured: list served", open.URL, "GET", "", 200},
		{"no token configured: set refused", open.URL, "PUT", "", 403},
		{"no token configured: set refused even with a token", open.URL, "PUT", "anything", 403},
		{"no token configured: delete refused", open.URL, "DELETE", "", 403},
		{"no token sent", guarded.URL, "PUT", "", 401},
		{"no token sent: list refused", guarded.URL, "GET", "", 401},
		{"wrong token", guarded.URL, "PUT", "s3cre", 401},
		{"wrong token, longer", guarded.URL, "PUT", "s3cret2", 401},
		{"right token", guarded.URL, "PUT", "s3cret", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, lr, hdr := do(t, tt.method, tt.url, tt.token, spec)
			if code != tt.want {
				t.Fatalf("%s = %d (%s), want %d", tt.method, code, lr.Error, tt.want)
			}
			if code == 401 && !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("401 without a Bearer challenge: %v", hdr)
			}
		})
	}
	// Only the authorised PUT set anything.
	if n := len(findAll("handler-auth")); n != 1 {
		t.Fatalf("%d failpoints on handler-auth, want 1", n)
	}
	out := logs.String()
	for _, want := range []string{"no admin token configured", "no bearer token", "wrong bearer token", "cgoguard: failpoints set", `spec="handler-auth=errno(EIO)"`, "ttl=1m0s"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "s3cret") {
		t.Errorf("the token was logged:\n%s", out)
	}
}

func findAll(module string) []chaos.Info {
	var out []chaos.Info
	for _, in := range chaos.List() {
		if in.Module == module {
			out = append(out, in)
		}
	}
	return out
}

func TestHandlerTTLExpires(t *testing.T) {
	m, err := cgoguard.New("handler-ttl")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	srv := httptest.NewServer(chaos.Handler(chaos.WithToken("t"), chaos.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))))
	defer srv.Close()
	code, lr, _ := do(t, "PUT", srv.URL+"?ttl=200ms", "t", "handler-ttl=errno(EIO)")
	if code != 200 || len(lr.Failpoints) == 0 {
		t.Fatalf("PUT = %d %+v", code, lr)
	}
	in := findAll("handler-ttl")[0]
	if in.Expires == nil || in.TTLSeconds != 0.2 {
		t.Fatalf("info %+v: want a 200ms TTL", in)
	}
	if _, err := m.Call(context.Background(), cfixture.Empty, nil); err == nil {
		t.Fatal("failpoint did not fire while set")
	}
	// Renewed before it expires, it lives on.
	time.Sleep(120 * time.Millisecond)
	do(t, "PUT", srv.URL+"?ttl=200ms", "t", "handler-ttl=errno(EIO)")
	time.Sleep(120 * time.Millisecond)
	if len(findAll("handler-ttl")) != 1 {
		t.Fatal("a renewed failpoint expired at its first TTL")
	}
	waitFor(t, func() bool { return len(findAll("handler-ttl")) == 0 })
	_, lr, _ = do(t, "GET", srv.URL, "t", "")
	for _, in := range lr.Failpoints {
		if in.Module == "handler-ttl" {
			t.Fatalf("expired failpoint listed: %+v", in)
		}
	}
	if _, err := m.Call(context.Background(), cfixture.Empty, nil); err != nil || m.ChaosArmed() {
		t.Fatalf("after expiry: err %v, armed %v", err, m.ChaosArmed())
	}
}

func TestHandlerRequests(t *testing.T) {
	m, err := cgoguard.New("handler-req")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	defer chaos.ClearTarget("handler-req")
	srv := httptest.NewServer(chaos.Handler(chaos.WithToken("t"), chaos.WithMaxTTL(time.Minute), chaos.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))))
	defer srv.Close()
	tests := []struct {
		name, method, path, body string
		want                     int
		errHas                   string
	}{
		{"bad spec", "PUT", "", "handler-req=explode", 400, `unknown action "explode"`},
		{"empty spec", "PUT", "", "  ", 400, "empty spec"},
		{"bad ttl", "PUT", "?ttl=soon", "handler-req=segv", 400, "neither a duration"},
		{"zero ttl", "PUT", "?ttl=0", "handler-req=segv", 400, "must be positive"},
		{"ttl above max", "PUT", "?ttl=2h", "handler-req=segv", 400, "above the maximum"},
		{"ttl in seconds", "PUT", "?ttl=30", "handler-req.fx_empty=errno(EIO)", 200, ""},
		{"wrong method", "POST", "", "", 405, "not allowed"},
		{"reset needs module", "POST", "/reset", "", 400, "?module="},
		{"reset unknown module", "POST", "/reset?module=nope", "", 404, "no open module"},
		{"reset by GET", "GET", "/reset?module=handler-req", "", 405, "POST"},
		{"delete bad target", "DELETE", "?target=a=b", "", 400, "unexpected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, lr, _ := do(t, tt.method, srv.URL+tt.path, "t", tt.body)
			if code != tt.want || !strings.Contains(lr.Error, tt.errHas) {
				t.Fatalf("%s %s = %d %q, want %d containing %q", tt.method, tt.path, code, lr.Error, tt.want, tt.errHas)
			}
		})
	}
	in := findAll("handler-req")
	if len(in) != 1 || in[0].Function != "fx_empty" || in[0].TTLSeconds != 30 {
		t.Fatalf("failpoints %+v", in)
	}

	// JSON body.
	req, _ := http.NewRequest("PUT", srv.URL, strings.NewReader(`{"spec":"handler-req=1*segv","ttl":"10s"}`))
	req.Header.Set("Authorization", "Bearer t")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("JSON PUT: %v %v", resp.Status, err)
	}
	resp.Body.Close()
	if _, err := m.Call(context.Background(), cfixture.Ret, nil); err == nil || m.State() != cgoguard.Quarantined {
		t.Fatalf("err %v, state %v: want a crash and quarantine", err, m.State())
	}
	// Reset through the handler: the remediation of a quarantine.
	code, _, _ := do(t, "POST", srv.URL+"/reset?module=handler-req", "t", "")
	if code != 200 || m.State() != cgoguard.Closed {
		t.Fatalf("reset = %d, state %v", code, m.State())
	}
	// DELETE one target, then all.
	code, lr, _ := do(t, "DELETE", srv.URL+"?target=handler-req.fx_empty", "t", "")
	if code != 200 || lr.Cleared == nil || *lr.Cleared != 1 || len(findAll("handler-req")) != 1 {
		t.Fatalf("DELETE target = %d %+v; left %+v", code, lr, findAll("handler-req"))
	}
	code, _, _ = do(t, "DELETE", srv.URL, "t", "")
	if code != 200 || len(findAll("handler-req")) != 0 {
		t.Fatalf("DELETE = %d; left %+v", code, findAll("handler-req"))
	}
}
