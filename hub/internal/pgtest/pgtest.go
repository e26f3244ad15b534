// Package pgtest starts a private PostgreSQL cluster for tests: initdb in
// a temporary directory, the server on a free port of 127.0.0.1, one fresh
// database per test, everything removed at the end.
//
// The binaries are found on PATH or under /usr/lib/postgresql/*/bin (the
// Debian layout). PostgreSQL refuses to run as root, so as root the
// cluster runs as the "postgres" user that the Debian package creates.
// Without the binaries a test is skipped with a message, unless the
// environment variable CI is set: then it fails.
//
// Use it from a package's tests:
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		pgtest.Stop()
//		os.Exit(code)
//	}
//
//	func TestSomething(t *testing.T) {
//		dsn := pgtest.Need(t).NewDatabase(t)
//		...
//	}
//
// Need, NewDatabase and Stop are safe for concurrent use.
package pgtest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// Cluster is a running private PostgreSQL server.
type Cluster struct {
	dir   string
	port  int
	cmd   *exec.Cmd
	done  chan struct{}
	admin *sql.DB

	mu sync.Mutex
	n  int
}

var (
	mu       sync.Mutex
	shared   *Cluster
	startErr error
)

// Need returns the shared cluster, starting it on first use. It skips t
// (fails it when CI is set) when PostgreSQL is not installed, and fails t
// when the cluster does not start.
func Need(t testing.TB) *Cluster {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if shared == nil && startErr == nil {
		shared, startErr = Start()
	}
	if startErr != nil {
		if errors.Is(startErr, ErrMissing) && os.Getenv("CI") == "" {
			t.Skipf("skipping: %v (install the Debian package postgresql; with CI set this fails)", startErr)
		}
		t.Fatalf("pgtest: %v", startErr)
	}
	return shared
}

// Stop stops the shared cluster, if one was started, and removes its files.
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	if shared != nil {
		shared.Stop()
		shared = nil
	}
}

// ErrMissing is returned by Start when the PostgreSQL binaries are not found.
var ErrMissing = errors.New("PostgreSQL binaries (initdb, postgres) not found on PATH or in /usr/lib/postgresql/*/bin")

// Bin returns the directory holding initdb and postgres.
func Bin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", ErrMissing
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// Start initialises and starts a new cluster.
func Start() (*Cluster, error) {
	bin, err := Bin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "cgoguard-pg-")
	if err != nil {
		return nil, err
	}
	cred, err := credential(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	c := &Cluster{dir: dir}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	var lastErr error
	for range 3 { // a free port may be taken between probing and binding
		if lastErr = c.start(bin, data, cred); lastErr == nil {
			return c, nil
		}
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

// credential returns the user to run PostgreSQL as (nil: this one) and
// gives it the directory.
func credential(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, and PostgreSQL refuses root: need the user \"postgres\" (created by the Debian package): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func (c *Cluster) start(bin, data string, cred *syscall.Credential) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(c.dir, "postgres.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data,
		"-c", "listen_addresses=127.0.0.1", "-c", "port="+strconv.Itoa(port),
		"-c", "unix_socket_directories="+c.dir, "-c", "max_connections=300",
		"-c", "shared_buffers=64MB", "-c", "logging_collector=off")
	cmd.Stdout, cmd.Stderr = logf, logf
	// The server dies with the test binary even when it is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	c.port, c.cmd, c.done = port, cmd, done
	admin, err := sql.Open("pgx", c.dsn("postgres"))
	if err != nil {
		c.Stop()
		return err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = admin.PingContext(ctx)
		cancel()
		if err == nil {
			c.admin = admin
			return nil
		}
		select {
		case <-done:
			admin.Close()
			log, _ := os.ReadFile(filepath.Join(c.dir, "postgres.log"))
			return fmt.Errorf("postgres exited on start: %s", bytes.TrimSpace(log))
		default:
		}
		if time.Now().After(deadline) {
			admin.Close()
			c.kill()
			return fmt.Errorf("postgres did not accept connections within 60s: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (c *Cluster) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// NewDatabase creates an empty database for t and returns its DSN.
func (c *Cluster) NewDatabase(t testing.TB) string {
	t.Helper()
	c.mu.Lock()
	c.n++
	name := fmt.Sprintf("t%d", c.n)
	c.mu.Unlock()
	if _, err := c.admin.Exec("CREATE DATABASE " + name); err != nil { // name is ours, not input
		t.Fatalf("pgtest: create database: %v", err)
	}
	return c.dsn(name)
}

// Stop shuts the server down (fast shutdown, then a kill after 20s) and
// removes its directory.
func (c *Cluster) Stop() {
	if c.admin != nil {
		c.admin.Close()
	}
	if c.cmd != nil && c.cmd.Process != nil {
		c.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-c.done:
		case <-time.After(20 * time.Second):
			c.kill()
		}
	}
	os.RemoveAll(c.dir)
}

func (c *Cluster) kill() {
	if c.cmd != nil && c.cmd.Process != nil {
		syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-c.done
	}
}
