// Package e2e starts the real components of the end-to-end tests of
// package chaos and of cgoguard chaos: the example service (built from
// examples/service), a private Prometheus scraping it, and a load driver.
// Tests that need a component skip with a message when it is missing, and
// fail when the CI variable is set.
//
// Example:
//
//	svc := e2e.StartService(t, token)
//	prom := e2e.StartPrometheus(t, svc.Addr, "cgoguard-service")
//	e2e.StartLoad(t, svc.URL, 6)
//
// Everything started is stopped when the test ends. Build is safe for
// concurrent use; each Start belongs to its test.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Need skips t when the program is missing, or fails it under CI.
func Need(t testing.TB, program string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed, and CI is set: .ci/run installs it (apt-get install %s)", program, program)
	}
	t.Skipf("%s is not installed (apt-get install %s); skipping the end-to-end test", program, program)
	return ""
}

// ModuleRoot returns the repository's root (where go.mod is).
func ModuleRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller information")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

var (
	buildMu  sync.Mutex
	built    = map[string]string{}
	buildDir string
)

// Build builds the package pkg (relative to the module root) once per test
// binary and returns the executable's path.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := built[pkg]; ok {
		return p
	}
	if buildDir == "" {
		d, err := os.MkdirTemp("", "cgoguard-e2e-")
		if err != nil {
			t.Fatal(err)
		}
		buildDir = d
	}
	out := filepath.Join(buildDir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, "./"+pkg)
	cmd.Dir = ModuleRoot(t)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	built[pkg] = out
	return out
}

// Service is the example service running as a child process.
type Service struct {
	URL  string
	Addr string
	Cmd  *exec.Cmd
	out  *lockedBuffer
}

// PID returns the service's process id.
func (s *Service) PID() int { return s.Cmd.Process.Pid }

// Output returns what the service printed.
func (s *Service) Output() string { return s.out.String() }

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// StartService builds and starts examples/service on a free port with the
// admin token, and stops it (SIGCONT first, in case a test stopped it) when
// the test ends.
func StartService(t testing.TB, token string) *Service {
	t.Helper()
	bin := Build(t, "examples/service")
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "CGOGUARD_ADMIN_TOKEN="+token)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{Cmd: cmd, out: &lockedBuffer{}}
	cmd.Stderr = s.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGCONT)
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	line := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		l, _ := r.ReadString('\n')
		line <- l
		io.Copy(s.out, r)
	}()
	select {
	case l := <-line:
		addr, ok := strings.CutPrefix(strings.TrimSpace(l), "listening on ")
		if !ok {
			t.Fatalf("service said %q, want \"listening on ...\"\n%s", l, s.Output())
		}
		s.Addr, s.URL = addr, "http://"+addr
	case <-time.After(60 * time.Second):
		t.Fatalf("service did not start in 60s\n%s", s.Output())
	}
	return s
}

// FreePort returns a free TCP port on 127.0.0.1.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Prometheus is a private Prometheus server.
type Prometheus struct {
	URL string
	Job string
}

// StartPrometheus starts Prometheus (temporary config and data directory,
// a free port) scraping target (host:port) every second as job, waits
// until it is ready and has scraped the target once, and stops it when
// the test ends.
func StartPrometheus(t testing.TB, target, job string) *Prometheus {
	t.Helper()
	bin := Need(t, "prometheus")
	dir := t.TempDir()
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
scrape_configs:
  - job_name: %q
    static_configs:
      - targets: [%q]
`, job, target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	port := FreePort(t)
	var log lockedBuffer
	cmd := exec.Command(bin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port),
		"--log.level=warn")
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	p := &Prometheus{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Job: job}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready with a scrape of %s in 60s:\n%s", target, log.String())
		}
		resp, err := http.Get(p.URL + "/api/v1/query?query=" + "up%7Bjob%3D%22" + job + "%22%7D%3D%3D1")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && bytes.Contains(b, []byte(`"value"`)) {
				return p
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Load drives requests at the service until stopped: workers goroutines,
// each compressing and decompressing a small payload in a loop.
type Load struct {
	OK, Failed atomic.Int64
	cancel     context.CancelFunc
	wg         sync.WaitGroup
}

// StartLoad starts the load; it stops when the test ends.
func StartLoad(t testing.TB, url string, workers int) *Load {
	ctx, cancel := context.WithCancel(context.Background())
	l := &Load{cancel: cancel}
	client := &http.Client{Timeout: 2 * time.Second}
	payload := bytes.Repeat([]byte("cgoguard chaos load "), 200)
	for i := 0; i < workers; i++ {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for ctx.Err() == nil {
				if l.round(ctx, client, url, payload) {
					l.OK.Add(1)
				} else {
					l.Failed.Add(1)
				}
				select {
				case <-ctx.Done():
				case <-time.After(5 * time.Millisecond):
				}
			}
		}()
	}
	t.Cleanup(l.Stop)
	return l
}

func (l *Load) round(ctx context.Context, c *http.Client, url string, payload []byte) bool {
	z, ok := post(ctx, c, url+"/compress", payload)
	if !ok {
		return false
	}
	_, ok = post(ctx, c, url+"/decompress", z)
	return ok
}

func post(ctx context.Context, c *http.Client, url string, body []byte) ([]byte, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, false
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return b, err == nil && resp.StatusCode == http.StatusOK
}

// Stop stops the load and waits for the workers.
func (l *Load) Stop() {
	l.cancel()
	l.wg.Wait()
}
