//go:build cgo && linux

package isolate_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/rpc"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/arena"
	"github.com/cgoguard/cgoguard/isolate"
	"github.com/cgoguard/cgoguard/isolate/internal/fixture"
)

// envBenchChild runs this binary as the other process of a baseline:
// "pingpong" (the bare futex ping-pong on the page inherited as fd 3) or
// "rpc:<socket path>" (a net/rpc server over a unix socket).
const envBenchChild = "ISOLATE_BENCH_CHILD"

func runBenchChild(mode string) int {
	switch {
	case mode == "pingpong":
		page, err := unix.Mmap(3, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			fmt.Println("mmap:", err)
			return 1
		}
		fmt.Println("ready")
		fixture.PingPongServe(unsafe.Pointer(&page[0]))
		return 0
	case strings.HasPrefix(mode, "rpc:"):
		m, err := cgoguard.New("rpc-server")
		if err != nil {
			fmt.Println(err)
			return 1
		}
		if err := rpc.RegisterName("Svc", &rpcService{m: m}); err != nil {
			fmt.Println(err)
			return 1
		}
		ln, err := net.Listen("unix", strings.TrimPrefix(mode, "rpc:"))
		if err != nil {
			fmt.Println(err)
			return 1
		}
		fmt.Println("ready")
		rpc.Accept(ln)
		return 0
	}
	fmt.Println("unknown mode", mode)
	return 1
}

// rpcService answers a call the way a go-plugin style server would: it
// decodes the request, makes the guarded C call, encodes the result.
type rpcService struct{ m *cgoguard.Module }

// CallArgs is the request of the net/rpc baseline.
type CallArgs struct {
	Fn  string
	Arg uint64
}

// Call runs the empty C function under the server's guard.
func (s *rpcService) Call(args CallArgs, reply *int) error {
	rc, err := s.m.Call(context.Background(), fixture.EmptyFn, nil)
	*reply = rc
	return err
}

// benchChild starts a baseline's other process and waits for its "ready".
func benchChild(b *testing.B, mode string, files ...*os.File) *exec.Cmd {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envBenchChild+"="+mode)
	cmd.ExtraFiles = files
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		b.Fatalf("%s child said %q: %v", mode, line, err)
	}
	b.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

// BenchmarkRoundTrip interleaves, in every iteration, a batch of calls of
// the empty C function through each transport, so that all share the
// machine's load at the same moment: the pool (default: no spin; and 2µs of
// spin),
// the bare futex ping-pong between two processes, net/rpc over a unix
// socket to a process that makes the guarded call, and an in-process
// guarded call. It reports the median ns per call of each over the
// iterations and the median per-iteration ratios.
func BenchmarkRoundTrip(b *testing.B) {
	const batch = 200
	ctx := context.Background()

	pool, err := isolate.New("bench-pool", isolate.WithWorkers(1), isolate.WithSpares(0))
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	spin, err := isolate.New("bench-spin", isolate.WithWorkers(1), isolate.WithSpares(0), isolate.WithSpin(2*time.Microsecond))
	if err != nil {
		b.Fatal(err)
	}
	defer spin.Close()
	inproc, err := cgoguard.New("bench-inproc")
	if err != nil {
		b.Fatal(err)
	}
	defer inproc.Close()

	fd, err := unix.MemfdCreate("bench-pingpong", unix.MFD_CLOEXEC)
	if err != nil {
		b.Fatal(err)
	}
	pf := os.NewFile(uintptr(fd), "pingpong")
	defer pf.Close()
	if err := pf.Truncate(4096); err != nil {
		b.Fatal(err)
	}
	page, err := unix.Mmap(fd, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Munmap(page)
	pp := unsafe.Pointer(&page[0])
	benchChild(b, "pingpong", pf)
	defer fixture.PingPongStop(pp)

	sock := filepath.Join(b.TempDir(), "rpc.sock")
	benchChild(b, "rpc:"+sock)
	client, err := rpc.Dial("unix", sock)
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()

	var seq uint32
	variants := []struct {
		name string
		call func() error
	}{
		{"isolate", func() error { _, err := pool.Call(ctx, fixture.Empty, arena.Ref{}); return err }},
		{"isolate-spin2us", func() error { _, err := spin.Call(ctx, fixture.Empty, arena.Ref{}); return err }},
		{"futex-pingpong", func() error { seq++; fixture.PingPongRound(pp, seq); return nil }},
		{"netrpc-unix", func() error { var r int; return client.Call("Svc.Call", CallArgs{Fn: "empty"}, &r) }},
		{"inprocess", func() error { _, err := inproc.Call(ctx, fixture.EmptyFn, nil); return err }},
	}
	samples := map[string][]float64{}
	ratio := map[string][]float64{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ns := map[string]float64{}
		for _, v := range variants {
			start := time.Now()
			for j := 0; j < batch; j++ {
				if err := v.call(); err != nil {
					b.Fatalf("%s: %v", v.name, err)
				}
			}
			ns[v.name] = float64(time.Since(start).Nanoseconds()) / batch
			samples[v.name] = append(samples[v.name], ns[v.name])
		}
		ratio["isolate/futex"] = append(ratio["isolate/futex"], ns["isolate"]/ns["futex-pingpong"])
		ratio["isolate-spin2us/futex"] = append(ratio["isolate-spin2us/futex"], ns["isolate-spin2us"]/ns["futex-pingpong"])
		ratio["netrpc/isolate"] = append(ratio["netrpc/isolate"], ns["netrpc-unix"]/ns["isolate"])
		ratio["isolate/inprocess"] = append(ratio["isolate/inprocess"], ns["isolate"]/ns["inprocess"])
	}
	b.StopTimer()
	for _, v := range variants {
		b.ReportMetric(median(samples[v.name]), v.name+"-ns/call")
	}
	for name, r := range ratio {
		b.ReportMetric(median(r), name)
	}
}

// BenchmarkRestart measures the time from a crash (the crashing call has
// returned its CrashError) to the end of the next successful call, with
// one worker: "spare" replaces it with the ready spare (the default), and
// "fresh" starts a new process (WithSpares(0)). Before each crash the pool
// is back to full strength, so each iteration is one isolated crash.
func BenchmarkRestart(b *testing.B) {
	for _, v := range []struct {
		name   string
		spares int
	}{{"spare", 1}, {"fresh", 0}} {
		b.Run(v.name, func(b *testing.B) {
			p, err := isolate.New("bench-restart-"+v.name, isolate.WithWorkers(1), isolate.WithSpares(v.spares))
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			ctx := context.Background()
			var restart, crash []float64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				for st := p.Stats(); st.Idle != 1 || st.Spares != v.spares; st = p.Stats() {
					time.Sleep(100 * time.Microsecond)
				}
				b.StartTimer()
				t0 := time.Now()
				if _, err := p.Call(ctx, fixture.Segv, arena.Ref{}); !errors.As(err, new(*cgoguard.CrashError)) {
					b.Fatalf("no crash: %v", err)
				}
				t1 := time.Now()
				if _, err := p.Call(ctx, fixture.Empty, arena.Ref{}); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				crash = append(crash, float64(t1.Sub(t0).Microseconds())/1000)
				restart = append(restart, float64(t2.Sub(t1).Microseconds())/1000)
			}
			b.StopTimer()
			b.ReportMetric(median(restart), "restart-ms")
			b.ReportMetric(percentile(restart, 0.9), "restart-p90-ms")
			b.ReportMetric(median(crash), "crash-call-ms")
		})
	}
}

func median(s []float64) float64 { return percentile(s, 0.5) }

func percentile(s []float64, q float64) float64 {
	if len(s) == 0 {
		return 0
	}
	c := append([]float64(nil), s...)
	sort.Float64s(c)
	return c[min(int(q*float64(len(c))), len(c)-1)]
}

// BenchmarkCall is one call of the empty C function in a worker, through
// the module's policies, with its allocations.
func BenchmarkCall(b *testing.B) {
	p, err := isolate.New("bench-call", isolate.WithWorkers(1), isolate.WithSpares(0))
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.Call(ctx, fixture.Empty, arena.Ref{}); err != nil {
			b.Fatal(err)
		}
	}
}
