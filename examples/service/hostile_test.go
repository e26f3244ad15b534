package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// 200 concurrent tiny /decompress requests must not each cost the largest
// output the service accepts: buffers are sized from the input, and only
// maxInflight requests hold one at a time.
func TestDecompressMemoryIsBounded(t *testing.T) {
	_, ts := testServer(t)
	z := post(t, ts.URL+"/compress", []byte("tiny"), 200)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Post(ts.URL+"/decompress", "application/zlib", bytes.NewReader(z))
			if err != nil {
				errs <- err
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 && resp.StatusCode != http.StatusServiceUnavailable {
				errs <- fmt.Errorf("status %d: %s", resp.StatusCode, body)
			} else if resp.StatusCode == 200 && string(body) != "tiny" {
				errs <- fmt.Errorf("body %q", body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Errorf("200 requests of %d bytes allocated %d MiB", len(z), grew>>20)
	}
}

// A request over the limit waits for a place, briefly, then gets 503 with
// Retry-After rather than piling up.
func TestLimiterSheds(t *testing.T) {
	cfg := defaultConfig()
	cfg.maxInflight, cfg.queueWait = 1, 50*time.Millisecond
	s, err := newServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.limit <- struct{}{} // the one place is taken
	ts := httptest.NewServer(s.handler())
	defer ts.Close()
	resp, err := http.Post(ts.URL+"/compress", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	<-s.limit
	post(t, ts.URL+"/compress", []byte("x"), 200)
}

// startRun runs the service with cfg and returns its address and a stop
// function that reports how long run took to return and its error.
func startRun(t *testing.T, cfg config) (string, func() (time.Duration, error)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	cfg.addr = "127.0.0.1:0"
	go func() { done <- run(ctx, cfg, pw) }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	return strings.TrimSpace(strings.TrimPrefix(line, "listening on ")), func() (time.Duration, error) {
		start := time.Now()
		cancel()
		select {
		case err := <-done:
			return time.Since(start), err
		case <-time.After(30 * time.Second):
			t.Fatal("run did not stop")
			return 0, nil
		}
	}
}

// slowBody opens a connection that sends a POST's headers and one byte of
// its body, then stalls.
func slowBody(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "POST /compress HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nx")
	return c
}

// A client that trickles its body is cut off by the read timeout.
func TestSlowBodyIsCutOff(t *testing.T) {
	cfg := defaultConfig()
	cfg.readTimeout = 300 * time.Millisecond
	addr, stop := startRun(t, cfg)
	defer stop()
	c := slowBody(t, addr)
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	_, err := io.ReadAll(c) // the server answers or closes
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the connection was still open after %s", time.Since(start))
	}
}

// Shutdown is graceful: requests in flight finish, and a connection stuck
// on a slow body does not hold the shutdown beyond its grace period.
func TestShutdownIsGraceful(t *testing.T) {
	cfg := defaultConfig()
	cfg.shutdownGrace = 300 * time.Millisecond
	addr, stop := startRun(t, cfg)
	c := slowBody(t, addr)
	defer c.Close()
	if code := get(t, "http://"+addr+"/healthz"); code != 200 {
		t.Fatalf("/healthz = %d", code)
	}
	took, err := stop()
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if took > 3*time.Second {
		t.Errorf("shutdown took %s", took)
	}
}
