//go:build cgo && linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard/isolate"
)

func TestMain(m *testing.M) {
	isolate.Main() // the pool's workers are this test binary
	os.Exit(m.Run())
}

// TestCrashKeepsServing: a request that crashes zlib kills a worker, not
// the service; the next requests are served by its replacement.
func TestCrashKeepsServing(t *testing.T) {
	s, ts := startServer(t)
	if code := get(t, ts.URL+"/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz before self-test = %d, want 503", code)
	}
	if err := s.selfTest(context.Background()); err != nil {
		t.Fatal(err)
	}
	in := bytes.Repeat([]byte("isolated zlib "), 2000)
	roundTrip := func() {
		t.Helper()
		z := post(t, ts.URL+"/compress", in, 200)
		if len(z) >= len(in) {
			t.Fatalf("compressed %d bytes into %d", len(in), len(z))
		}
		if out := post(t, ts.URL+"/decompress", z, 200); !bytes.Equal(out, in) {
			t.Fatal("round trip changed the data")
		}
	}
	roundTrip()
	post(t, ts.URL+"/decompress", []byte("not zlib"), 400)

	for i := 1; i <= 3; i++ {
		var crash struct {
			Crashed  bool
			Signal   string
			Frames   []string
			Restarts uint64
			Error    string
		}
		if err := json.Unmarshal(post(t, ts.URL+"/crash", nil, 500), &crash); err != nil {
			t.Fatal(err)
		}
		if !crash.Crashed || crash.Signal != "SIGSEGV" || len(crash.Frames) == 0 || !strings.HasPrefix(crash.Frames[0], "inflate") || !strings.Contains(crash.Frames[0], "libz") || crash.Restarts != uint64(i) {
			t.Fatalf("crash %d: %+v", i, crash)
		}
		// Served at once, by the other worker or the spare, while the
		// crashed one is replaced.
		roundTrip()
	}
	tests := []struct {
		path   string
		status int
		body   string
	}{
		{"/healthz", 200, `"status": "alive"`},
		{"/readyz", 200, `"zlib": "serving"`},
		{"/debug/cgoguard", 200, `"name": "zlib"`},
		{"/metrics", 200, `cgoguard_worker_restarts_total{module="zlib",reason="crash"} 3`},
		{"/metrics", 200, `cgoguard_calls_total{module="zlib",outcome="crash"} 3`},
	}
	for _, tt := range tests {
		resp, err := http.Get(ts.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.body) {
			t.Fatalf("GET %s = %d %q, want %d containing %q", tt.path, resp.StatusCode, body, tt.status, tt.body)
		}
	}
}

// TestFailpointsInWorkers: failpoints set through the admin handler act in
// the workers: a segv on compress crashes a worker (counted as fired and as
// a restart), a hang holds a request until the failpoint is cleared.
func TestFailpointsInWorkers(t *testing.T) {
	t.Setenv("CGOGUARD_ADMIN_TOKEN", "example-token")
	s, ts := startServer(t)
	if err := s.selfTest(context.Background()); err != nil {
		t.Fatal(err)
	}
	admin := func(method, query, body string) {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL+"/debug/cgoguard/failpoints"+query, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer example-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s failpoints%s: %d %s", method, query, resp.StatusCode, out)
		}
	}
	in := bytes.Repeat([]byte("failpoint "), 500)
	admin("PUT", "?ttl=1m", "zlib.deflate=1*segv") // the name examples/service/zlib gives exz_compress
	body, err := postStatus(ts.URL+"/compress", in, http.StatusServiceUnavailable)
	if err != nil || !strings.Contains(string(body), "SIGSEGV") {
		t.Fatalf("compress with the failpoint: %v %s", err, body)
	}
	z := post(t, ts.URL+"/compress", in, 200) // used up: served by another worker
	if out := post(t, ts.URL+"/decompress", z, 200); !bytes.Equal(out, in) {
		t.Fatal("round trip changed the data")
	}
	admin("PUT", "?ttl=1m", "zlib.exz_uncompress=hang")
	done := make(chan error, 1)
	go func() {
		out, err := postStatus(ts.URL+"/decompress", z, 200)
		if err == nil && !bytes.Equal(out, in) {
			err = fmt.Errorf("round trip changed the data")
		}
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("the hang returned at once: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	admin("DELETE", "?target=zlib.exz_uncompress", "")
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("clearing the failpoint did not release the request")
	}
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`cgoguard_failpoints_fired_total{action="segv",module="zlib"} 1`,
		`cgoguard_failpoints_fired_total{action="hang",module="zlib"} 1`,
		`cgoguard_worker_restarts_total{module="zlib",reason="crash"} 1`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestConcurrentRequests: more requests at once than buffer slots and
// workers, with crashes among them.
func TestConcurrentRequests(t *testing.T) {
	_, ts := startServer(t)
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := bytes.Repeat([]byte{byte('a' + g)}, 10000+g)
			for i := 0; i < 5; i++ {
				if g%8 == 0 && i == 2 {
					if _, err := postStatus(ts.URL+"/crash", nil, 500); err != nil {
						t.Error(err)
						return
					}
					continue
				}
				z, err := postStatus(ts.URL+"/compress", in, 200)
				if err != nil {
					t.Error(err)
					return
				}
				if out, err := postStatus(ts.URL+"/decompress", z, 200); err != nil || !bytes.Equal(out, in) {
					t.Errorf("goroutine %d: round trip: %v", g, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestRunPrintsAddress(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1:0", 1, pw) }()
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
	if len(isolate.Pools()) != 0 {
		t.Fatal("the pool outlived run")
	}
}

// startServer serves a new server with two workers on a test listener.
func startServer(t *testing.T) (*server, *httptest.Server) {
	t.Helper()
	s, err := newServer(2)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.handler())
	t.Cleanup(func() {
		ts.Close()
		s.close()
	})
	return s, ts
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
	out, err := postStatus(url, body, status)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// postStatus posts body and checks the status; safe in any goroutine.
func postStatus(url string, body []byte, status int) ([]byte, error) {
	resp, err := http.Post(url, "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		return out, fmt.Errorf("POST %s = %d %s, want %d", url, resp.StatusCode, out, status)
	}
	return out, nil
}
