package server

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/hub"
	"github.com/cgoguard/cgoguard/hub/store"
)

// The durability test runs the hub as a child process: this test binary
// re-executed with childEnv set to the database DSN.
const childEnv = "CGOGUARD_HUB_TEST_CHILD"

func serveChild() int {
	ctx := context.Background()
	st, err := store.Open(ctx, os.Getenv(childEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	s, err := New(ctx, st)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	err = s.ListenAndServe(ctx, "127.0.0.1:0", func(a net.Addr) { fmt.Printf("listening on %s\n", a) })
	fmt.Fprintln(os.Stderr, err)
	return 1
}

type child struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{}
}

func startChild(t *testing.T, dsn string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dsn)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				line <- a
			}
		}
	}()
	go func() { cmd.Wait(); close(c.done) }()
	t.Cleanup(func() { c.kill() })
	select {
	case c.addr = <-line:
		return c
	case <-c.done:
		t.Fatalf("hub child exited: %s", stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("hub child did not listen within 30s: %s", stderr.String())
	}
	return nil
}

func (c *child) kill() {
	c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// TestAcknowledgedUploadsSurviveSIGKILL kills the hub with SIGKILL again
// and again while uploads run, restarts it, and finds every run whose
// upload was acknowledged (2xx), whole; no run is stored in part.
func TestAcknowledgedUploadsSurviveSIGKILL(t *testing.T) {
	loop := 3 * time.Second
	if s, err := strconv.ParseFloat(os.Getenv("CGOGUARD_HUB_KILL_SECONDS"), 64); err == nil && s > 0 {
		loop = time.Duration(s * float64(time.Second))
	}
	backends(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := st.CreateToken(ctx, "ci", hub.RoleRunner)
		if err != nil {
			t.Fatal(err)
		}
		st.Close()

		var (
			mu    sync.Mutex
			acked = map[string]int{} // run id -> number of checks
			seq   int
			sent  int
		)
		hc := &http.Client{Timeout: 10 * time.Second}
		deadline := time.Now().Add(loop)
		kills := 0
		for time.Now().Before(deadline) || kills < 3 {
			c := startChild(t, dsn)
			stop := make(chan struct{})
			ackedHere := make(chan struct{}, 1) // an upload was acknowledged by this incarnation
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						mu.Lock()
						seq++
						id := fmt.Sprintf("k-%d-%d", w, seq)
						sent++
						mu.Unlock()
						n := 1 + rand.IntN(32)
						outs := make([]checklist.Outcome, n)
						for i := range outs {
							outs[i] = []checklist.Outcome{checklist.Pass, checklist.Fail, checklist.Skip}[rand.IntN(3)]
						}
						res := result(now0, outs...)
						res.Checks[0].Evidence.Stdout = strings.Repeat("evidence ", 200)
						req, _ := http.NewRequest("POST", "http://"+c.addr+"/api/v1/runs", bytes.NewReader(uploadBody(t, id, res, hub.Context{})))
						req.Header.Set("Content-Type", "application/json")
						req.Header.Set("Authorization", "Bearer "+tok)
						r, err := hc.Do(req)
						if err != nil {
							continue // killed mid-request: not acknowledged
						}
						r.Body.Close()
						if r.StatusCode/100 == 2 {
							mu.Lock()
							acked[id] = n
							mu.Unlock()
							select {
							case ackedHere <- struct{}{}:
							default:
							}
						} else if r.StatusCode != http.StatusServiceUnavailable {
							t.Errorf("upload %s: %d", id, r.StatusCode)
						}
					}
				}()
			}
			// Kill while uploads are in flight, once this incarnation has
			// made progress (so a loaded machine still tests something).
			select {
			case <-ackedHere:
			case <-time.After(20 * time.Second):
				t.Error("the restarted hub acknowledged no upload within 20s")
			}
			time.Sleep(time.Duration(rand.IntN(100)) * time.Millisecond)
			c.kill()
			kills++
			close(stop)
			wg.Wait()
		}
		st, err = store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		for id, n := range acked {
			run, err := st.Run(ctx, id)
			if err != nil {
				t.Errorf("acknowledged run %s lost: %v", id, err)
				continue
			}
			if len(run.Checks) != n || run.Counts.Checks != n || run.Checks[0].Evidence.Stdout == "" {
				t.Errorf("acknowledged run %s stored in part: %d of %d checks", id, len(run.Checks), n)
			}
		}
		// Runs that were stored without an acknowledgement (killed between
		// commit and answer) must be whole too.
		f := store.RunFilter{Limit: store.MaxLimit}
		stored := 0
		for {
			p, err := st.Runs(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range p.Runs {
				stored++
				full, err := st.Run(ctx, r.ID)
				if err != nil || len(full.Checks) != r.Counts.Checks {
					t.Errorf("run %s stored in part: %v", r.ID, err)
				}
			}
			if p.Next == "" {
				break
			}
			f.Cursor = p.Next
		}
		t.Logf("%d kills, %d uploads sent, %d acknowledged, %d stored", kills, sent, len(acked), stored)
		if len(acked) == 0 {
			t.Fatal("no upload was acknowledged: the test did not test anything")
		}
	})
}
