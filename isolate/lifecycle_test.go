//go:build cgo && linux

package isolate_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/arena"
	"github.com/cgoguard/cgoguard/isolate"
	"github.com/cgoguard/cgoguard/isolate/internal/fixture"
)

// runParent is this binary run as a pool's parent by TestParentKilled: it
// starts a pool, prints its workers' pids and waits to be killed.
func runParent() int {
	p, err := isolate.New("parent", isolate.WithWorkers(2), isolate.WithSpares(1))
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	for len(p.Stats().PIDs) < 3 {
		time.Sleep(time.Millisecond)
	}
	// A call in flight when the parent dies, too.
	go p.Call(context.Background(), fixture.Hang, arena.Ref{})
	for p.Stats().Busy == 0 {
		time.Sleep(time.Millisecond)
	}
	fmt.Println("pids", strings.Trim(fmt.Sprint(p.Stats().PIDs), "[]"))
	select {}
}

// TestParentKilled: when the parent is SIGKILLed, no worker survives it
// (the parent-death signal), busy, idle or spare.
func TestParentKilled(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envParent+"=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("parent said %q: %v", line, err)
	}
	fields, ok := strings.CutPrefix(strings.TrimSpace(line), "pids ")
	if !ok {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("parent said %q", line)
	}
	var pids []int
	for _, f := range strings.Fields(fields) {
		pid, _ := strconv.Atoi(f)
		if !alive(pid) {
			t.Fatalf("worker %d is not running before the parent dies", pid)
		}
		pids = append(pids, pid)
	}
	if len(pids) != 3 {
		t.Fatalf("parent reported %d workers, want 3", len(pids))
	}
	cmd.Process.Kill()
	cmd.Wait()
	for _, pid := range pids {
		waitGone(t, pid)
	}
}

func TestWorkerFailsAtStart(t *testing.T) {
	flag := filepath.Join(t.TempDir(), "fail")
	if err := os.WriteFile(flag, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	env := isolate.WithEnv(envStartCrash + "=" + flag)
	_, err := isolate.New(t.Name(), isolate.WithWorkers(1), env)
	var se *isolate.StartError
	if !errors.As(err, &se) || se.Status != "exit status 3" || !strings.Contains(se.Stderr, "refusing to start") || se.PID == 0 {
		t.Fatalf("New with workers that cannot start: %v", err)
	}
	if cgoguard.Lookup(t.Name()) != nil {
		t.Fatal("the module of a pool that did not start is registered")
	}

	// A pool whose replacement workers cannot start.
	os.Remove(flag)
	p := newPool(t, isolate.WithWorkers(1), isolate.WithSpares(0), env, isolate.WithRestartBackoff(20*time.Millisecond, 80*time.Millisecond))
	os.WriteFile(flag, nil, 0o600)
	if _, err := call(t, p, fixture.Segv); !errors.As(err, new(*cgoguard.CrashError)) {
		t.Fatalf("crash: %v", err)
	}
	waitFor(t, "unreadiness although no worker can start", func() bool { return p.Ready() != nil })
	start := time.Now()
	_, err = call(t, p, fixture.Empty)
	if !errors.Is(err, isolate.ErrUnavailable) || !errors.As(err, &se) || !strings.Contains(err.Error(), "refusing to start") {
		t.Fatalf("call while no worker can start: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("the call took %v to fail; it must fail fast", d)
	}
	// Retried with backoff, not in a hot loop: 0, 20, 40, 80, 80, ... ms.
	n0 := p.Restarts(isolate.ReasonStart)
	time.Sleep(400 * time.Millisecond)
	if n := p.Restarts(isolate.ReasonStart) - n0; n == 0 || n > 10 {
		t.Fatalf("%d start attempts in 400ms with a backoff of 20ms to 80ms", n)
	}
	if st := p.Stats(); st.Failing != 1 || !strings.Contains(st.LastStartError, "refusing to start") {
		t.Fatalf("stats %+v", st)
	}
	os.Remove(flag)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, err := call(t, p, fixture.Empty); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("no worker came back: %v", err)
		}
	}
	if err := p.Ready(); err != nil {
		t.Fatalf("Ready after recovery: %v", err)
	}
}

// TestCrashLoopLeaksNothing crashes workers again and again and checks
// that no process, descriptor, thread or shared-memory segment is left.
func TestCrashLoopLeaksNothing(t *testing.T) {
	crashes := 1000
	if testing.Short() {
		crashes = 100
	}
	const conc = 4
	// Warm up what a process sets up once (the runtime's poller, its
	// threads), so that only growth counts.
	warm, err := isolate.New(t.Name()+"-warm", isolate.WithWorkers(1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := call(t, warm, fixture.Segv); err == nil {
		t.Fatal("no crash")
	}
	warm.Close()
	shmBefore := shm(t)
	fdBefore, memfdBefore := fds(t)
	thrBefore := threads(t)
	p, err := isolate.New(t.Name(), isolate.WithWorkers(conc), isolate.WithSpares(2), isolate.WithRestartBackoff(time.Microsecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, conc)
	for g := 0; g < conc; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < crashes; i += conc {
				fn := fixture.Segv
				if i%2 == 1 {
					fn = fixture.Abort
				}
				_, err := p.Call(context.Background(), fn, arena.Ref{})
				if !errors.As(err, new(*cgoguard.CrashError)) {
					errs <- fmt.Errorf("crash %d: %v", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	if _, err := call(t, p, fixture.Empty); err != nil {
		t.Fatalf("call after %d crashes: %v", crashes, err)
	}
	restarts := p.Restarts(isolate.ReasonCrash)
	if restarts < uint64(crashes)-conc {
		t.Fatalf("%d crash restarts for %d crashes", restarts, crashes)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d crashes in %v (%v each, %d workers, 2 spares)", crashes, elapsed, elapsed/time.Duration(crashes), conc)
	if kids := children(t); len(kids) != 0 {
		t.Fatalf("child processes left: %v", kids)
	}
	fdAfter, memfdAfter := fds(t)
	if fdAfter > fdBefore || memfdAfter != memfdBefore {
		t.Fatalf("descriptors %d -> %d, memfds %d -> %d", fdBefore, fdAfter, memfdBefore, memfdAfter)
	}
	// Go keeps idle threads; what must not happen is growth with the
	// number of crashes.
	if thr := threads(t); thr > thrBefore+32 {
		t.Fatalf("threads %d -> %d after %d crashes", thrBefore, thr, crashes)
	}
	checkNoSharedMemory(t, shmBefore)
}

// checkNoSharedMemory fails if this process still maps shared memory of a
// pool, or if /dev/shm gained an entry of this process (other processes of
// the machine use /dev/shm too, so only names of ours count).
func checkNoSharedMemory(t *testing.T, before map[string]bool) {
	t.Helper()
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(maps), "\n") {
		if strings.Contains(line, "/memfd:cgoguard") || strings.Contains(line, "/dev/shm/") {
			t.Fatalf("still mapped: %s", line)
		}
	}
	pid := strconv.Itoa(os.Getpid())
	for name := range shm(t) {
		if !before[name] && (strings.Contains(name, "isolate") || strings.Contains(name, "arena") || strings.Contains(name, pid)) {
			t.Fatalf("/dev/shm/%s left behind", name)
		}
	}
}

// TestConcurrentCalls runs 64 goroutines over 4 workers.
func TestConcurrentCalls(t *testing.T) {
	const goroutines, calls = 64, 40
	p := newPool(t, isolate.WithWorkers(4))
	var mu sync.Mutex
	pids := map[int]bool{}
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for i := 0; i < calls; i++ {
				ref, arg := add(t, p, int32(g), int32(i*1000))
				rc, err := p.Call(ctx, fixture.Add, ref)
				if err != nil || rc != g+i*1000 || arg.Sum != int32(rc) {
					t.Errorf("goroutine %d call %d: rc %d sum %d err %v", g, i, rc, arg.Sum, err)
					return
				}
				if i%10 == 0 {
					pid, err := p.Call(ctx, fixture.PID, arena.Ref{})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					pids[pid] = true
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	inService := map[int]bool{}
	for _, pid := range p.Stats().PIDs {
		inService[pid] = true
	}
	for pid := range pids {
		if !inService[pid] {
			t.Errorf("a call ran in pid %d, which is not one of the pool's workers %v", pid, p.Stats().PIDs)
		}
	}
	st := p.Module().Stats()
	if want := uint64(goroutines * (calls + calls/10)); st.OK != want || st.Crashes != 0 || st.InFlight != 0 {
		t.Errorf("module stats: ok %d (want %d), crashes %d, in flight %d", st.OK, want, st.Crashes, st.InFlight)
	}

	// Four long calls at once occupy all four workers: the pool runs
	// them side by side, never queued behind one another. (Which workers
	// the short calls above landed on depends on the scheduler, so the
	// spread is checked here, where it does not.)
	const sleepMS = 1500
	done := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func() {
			ref, buf, err := p.Arena().Alloc(4, 4)
			if err != nil {
				done <- err
				return
			}
			*(*int32)(unsafe.Pointer(&buf[0])) = sleepMS
			_, err = p.Call(context.Background(), fixture.SleepMS, ref)
			done <- err
		}()
	}
	maxBusy, finished := 0, 0
	for finished < 4 {
		select {
		case err := <-done:
			finished++
			if err != nil {
				t.Error(err)
			}
		case <-time.After(time.Millisecond):
			maxBusy = max(maxBusy, p.Stats().Busy)
		}
	}
	if maxBusy != 4 {
		t.Errorf("four concurrent calls kept at most %d of 4 workers busy at once", maxBusy)
	}
}

// TestCallAfterClose: every call after Close fails with ErrClosed, also
// one whose argument is a block of the (now released) arena.
func TestCallAfterClose(t *testing.T) {
	p, err := isolate.New(t.Name(), isolate.WithWorkers(1), isolate.WithSpares(0))
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := add(t, p, 1, 2)
	if rc, err := p.Call(context.Background(), fixture.Add, ref); err != nil || rc != 3 {
		t.Fatalf("before Close: %d, %v", rc, err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		arg  arena.Ref
	}{{"no argument", arena.Ref{}}, {"arena argument", ref}} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.Call(context.Background(), fixture.Add, tc.arg)
			if !errors.Is(err, cgoguard.ErrClosed) || !errors.Is(err, isolate.ErrClosed) {
				t.Fatalf("Call after Close: %v, want ErrClosed", err)
			}
		})
	}
}

func TestClose(t *testing.T) {
	shmBefore := shm(t)
	fdBefore, memfdBefore := fds(t)
	p, err := isolate.New(t.Name(), isolate.WithWorkers(2), isolate.WithCloseTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	waitSpares(t, p, 1)
	pids := p.Stats().PIDs
	if len(pids) != 3 {
		t.Fatalf("%d worker pids, want 2 and a spare: %v", len(pids), pids)
	}
	done := hangInBackground(t, p)
	start := time.Now()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the call in flight at Close succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the call in flight at Close did not return")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Close took %v", d)
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Fatalf("worker %d alive after Close", pid)
		}
	}
	if err := p.Close(); !errors.Is(err, cgoguard.ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := p.Call(context.Background(), fixture.Empty, arena.Ref{}); !errors.Is(err, cgoguard.ErrClosed) {
		t.Fatalf("Call after Close: %v", err)
	}
	if fdAfter, memfdAfter := fds(t); fdAfter > fdBefore || memfdAfter != memfdBefore {
		t.Fatalf("descriptors %d -> %d, memfds %d -> %d", fdBefore, fdAfter, memfdBefore, memfdAfter)
	}
	if kids := children(t); len(kids) != 0 {
		t.Fatalf("child processes left: %v", kids)
	}
	checkNoSharedMemory(t, shmBefore)
	for _, q := range isolate.Pools() {
		if q == p {
			t.Fatal("closed pool still listed")
		}
	}
}
