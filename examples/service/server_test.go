package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestEndpoints(t *testing.T) {
	s, err := newServer(defaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.handler())
	defer ts.Close()
	if code := get(t, ts.URL+"/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz before self-test = %d, want 503", code)
	}
	if err := s.selfTest(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path   string
		status int
		body   string
	}{
		{"/healthz", 200, `"status": "alive"`},
		{"/readyz", 200, `"zlib": "serving"`},
		{"/debug/cgoguard", 200, `"name": "zlib"`},
		{"/metrics", 200, `cgoguard_calls_total{module="zlib",outcome="ok"} 2`},
		{"/debug/cgoguard/failpoints", 200, `"failpoints": []`},
		{"/nope", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := http.Get(ts.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.body) {
				t.Fatalf("GET %s = %d %q, want %d containing %q", tt.path, resp.StatusCode, body, tt.status, tt.body)
			}
		})
	}
}

func TestCompressRoundTrip(t *testing.T) {
	s, _ := newServer(defaultConfig())
	ts := httptest.NewServer(s.handler())
	defer ts.Close()
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

func get(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func post(t *testing.T, url string, body []byte, status int) []byte {
	t.Helper()
	resp, err := http.Post(url, "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("POST %s = %d %s, want %d", url, resp.StatusCode, out, status)
	}
	return out
}
