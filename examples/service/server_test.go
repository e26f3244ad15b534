package main

import (
	"bufio"
	"bytes"
	stdzlib "compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/chaos"
	"github.com/cgoguard/cgoguard/examples/service/zlib"
)

func TestEndpoints(t *testing.T) {
	s, ts := testServer(t)
	if code := get(t, ts.URL+"/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz before self-test = %d, want 503", code)
	}
	m, err := zlib.Module()
	if err != nil {
		t.Fatal(err)
	}
	okBefore := m.Stats().OK // the module is the process's: other tests count too
	if err := s.selfTest(); err != nil {
		t.Fatal(err)
	}
	// The self-test compresses once and inflates into a buffer grown once.
	okAfter := m.Stats().OK
	if okAfter-okBefore != 3 {
		t.Fatalf("self-test made %d successful calls, want 3", okAfter-okBefore)
	}
	tests := []struct {
		path   string
		status int
		body   string
	}{
		{"/healthz", 200, `"status": "alive"`},
		{"/readyz", 200, `"zlib": "serving"`},
		{"/debug/cgoguard", 200, `"name": "zlib"`},
		{"/metrics", 200, fmt.Sprintf("cgoguard_calls_total{module=\"zlib\",outcome=\"ok\"} %d\n", okAfter)},
		{"/debug/cgoguard/failpoints", 200, `"failpoints": []`},
		{"/nope", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			code, body := roundTrip(t, "GET", ts.URL+tt.path, nil)
			if code != tt.status || !strings.Contains(body, tt.body) {
				t.Fatalf("GET %s = %d %q, want %d containing %q", tt.path, code, body, tt.status, tt.body)
			}
		})
	}
}

func TestCompressRoundTrip(t *testing.T) {
	_, ts := testServer(t)
	in := bytes.Repeat([]byte("round trip "), 500)
	z := post(t, ts.URL+"/compress", in, 200)
	if len(z) >= len(in) {
		t.Fatalf("compressed %d bytes into %d", len(in), len(z))
	}
	if out := post(t, ts.URL+"/decompress", z, 200); !bytes.Equal(out, in) {
		t.Fatal("round trip changed the data")
	}
	post(t, ts.URL+"/decompress", []byte("not zlib"), 400)
}

func TestRunPrintsAddress(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	cfg := defaultConfig()
	cfg.addr = "127.0.0.1:0"
	go func() { done <- run(ctx, cfg, pw) }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
	if code := get(t, "http://"+addr+"/healthz"); code != 200 {
		t.Fatalf("/healthz = %d", code)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop")
	}
}

// testServer serves a new server's handler until the test ends.
func testServer(t *testing.T) (*server, *httptest.Server) {
	t.Helper()
	s, err := newServer(defaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.handler())
	t.Cleanup(ts.Close)
	return s, ts
}

// roundTrip sends a request (a POST's body as application/octet-stream) and
// returns the status code and the body.
func roundTrip(t *testing.T, method, url string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

func get(t *testing.T, url string) int {
	t.Helper()
	code, _ := roundTrip(t, "GET", url, nil)
	return code
}

func post(t *testing.T, url string, body []byte, status int) []byte {
	t.Helper()
	code, out := roundTrip(t, "POST", url, body)
	if code != status {
		t.Fatalf("POST %s = %d %s, want %d", url, code, out, status)
	}
	return []byte(out)
}

// TestErrorStatus: a failed zlib call is answered by what failed, with real
// faults injected at the boundary; only data zlib rejects is the client's
// fault.
func TestErrorStatus(t *testing.T) {
	_, ts := testServer(t)
	var z bytes.Buffer
	zw := stdzlib.NewWriter(&z)
	if _, err := zw.Write(make([]byte, maxBody+1)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, failpoint, path string
		body                  []byte
		status                int
		says                  string
	}{
		{"not zlib data", "", "/decompress", []byte("not zlib"), 400, "data error"},
		{"inflates past the limit", "", "/decompress", z.Bytes(), 413, "more than"},
		{"crash in inflate", "zlib." + zlib.FailpointInflate + "=segv", "/decompress", z.Bytes(), 500, "SIGSEGV"},
		{"abort in deflate", "zlib." + zlib.FailpointDeflate + "=abort", "/compress", []byte("x"), 500, "SIGABRT"},
		{"errno from inflate", "zlib." + zlib.FailpointInflate + "=errno(EIO)", "/decompress", z.Bytes(), 500, "input/output error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.failpoint != "" {
				if err := chaos.Set(tt.failpoint); err != nil {
					t.Fatal(err)
				}
				defer chaos.Clear()
			}
			code, body := roundTrip(t, "POST", ts.URL+tt.path, tt.body)
			if code != tt.status || !strings.Contains(body, tt.says) {
				t.Errorf("POST %s = %d %q, want %d saying %q", tt.path, code, body, tt.status, tt.says)
			}
		})
	}
}

// TestErrorStatusOfModuleStates covers the refusals a failpoint cannot
// cause in this module (its crash policy is Restart, it has no timeout).
func TestErrorStatusOfModuleStates(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want int
	}{
		{fmt.Errorf("x: %w", cgoguard.ErrQuarantined), 503},
		{fmt.Errorf("x: %w", cgoguard.ErrOpen), 503},
		{fmt.Errorf("x: %w", cgoguard.ErrBusy), 503},
		{fmt.Errorf("x: %w", cgoguard.ErrClosed), 503},
		{fmt.Errorf("x: %w", cgoguard.ErrTimeout), 504},
		{errors.New("anything else"), 500},
	} {
		rec := httptest.NewRecorder()
		writeError(rec, tt.err)
		if rec.Code != tt.want {
			t.Errorf("%v: %d, want %d", tt.err, rec.Code, tt.want)
		}
		if (rec.Code == 503) != (rec.Header().Get("Retry-After") != "") {
			t.Errorf("%v: Retry-After %q with %d", tt.err, rec.Header().Get("Retry-After"), rec.Code)
		}
	}
}
