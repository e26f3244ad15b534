//go:build cgo

package bridge_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard/bridge"
	"github.com/cgoguard/cgoguard/bridge/internal/cproducer"
)

const benchMsgSize = 16

// roundEvents is how many events each variant moves in one round of
// BenchmarkPushVsCallback.
const roundEvents = 1 << 20

// BenchmarkPushVsCallback moves 16-byte events from C producer threads to
// one Go consumer four ways, interleaved in every round (b.N is the number
// of rounds) so that all of them share the machine's load at the same
// moment:
//
//   - push: cg_bridge_push per event, Drain in Go;
//   - batch8: cg_bridge_push_batch of 8 events per call, Drain in Go;
//   - callback: one cgo callback into an exported Go function per event;
//   - chan: that callback sends the event on a buffered channel to a
//     consumer goroutine.
//
// It reports each variant's median ns per event over the rounds
// (<variant>-ns/event) and the median of the per-round ratios
// x-callback (callback ÷ push), x-chan (chan ÷ push) and batch8-x-callback.
// The goals, for 1 and 4 producers, are x-callback ≥ 5 and x-chan ≥ 10; the
// log line after each result says whether they were met.
func BenchmarkPushVsCallback(b *testing.B) {
	for _, p := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("producers=%d", p), func(b *testing.B) { pushVsCallback(b, p) })
	}
}

func pushVsCallback(b *testing.B, producers int) {
	per := uint64(roundEvents / producers)
	total := per * uint64(producers)
	push := newBridgeRun(b, "push", producers, per, 1)
	defer push.close()
	batch := newBridgeRun(b, "batch8", producers, per, 8)
	defer batch.close()
	variants := []struct {
		name string
		run  func() time.Duration
	}{
		{"push", push.run},
		{"batch8", batch.run},
		{"callback", func() time.Duration { return callbackRun(b, producers, per) }},
		{"chan", func() time.Duration { return chanRun(b, producers, per) }},
	}
	samples := map[string][]float64{}
	cpu := map[string][]float64{}
	var xcb, xch, xbatch []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ns := map[string]float64{}
		// Rotate the order so that no variant always runs first or last.
		for j := range variants {
			v := variants[(i+j)%len(variants)]
			c0 := cpuTime(b)
			ns[v.name] = float64(v.run().Nanoseconds()) / float64(total)
			cpu[v.name] = append(cpu[v.name], float64((cpuTime(b)-c0).Nanoseconds())/float64(total))
			samples[v.name] = append(samples[v.name], ns[v.name])
		}
		xcb = append(xcb, ns["callback"]/ns["push"])
		xch = append(xch, ns["chan"]/ns["push"])
		xbatch = append(xbatch, ns["callback"]/ns["batch8"])
	}
	b.StopTimer()
	for name, s := range samples {
		b.ReportMetric(median(s), name+"-ns/event")
		b.ReportMetric(median(cpu[name]), name+"-cpu-ns/event")
	}
	for _, r := range []*bridgeRun{push, batch} {
		b.ReportMetric(median(r.prodCPU), r.name+"-producer-cpu-ns/event")
		st := r.br.Stats()
		b.ReportMetric(float64(st.FullWaits)/float64(st.Delivered), r.name+"-fullwaits/event")
		b.ReportMetric(float64(st.Wakeups)/float64(st.Delivered), r.name+"-wakeups/event")
	}
	cb, ch := median(xcb), median(xch)
	b.ReportMetric(cb, "x-callback")
	b.ReportMetric(ch, "x-chan")
	b.ReportMetric(median(xbatch), "batch8-x-callback")
	if producers == 1 || producers == 4 {
		b.Logf("%d producers, %d rounds: push %.1fx the callback (goal >= 5x: %s), %.1fx the channel callback (goal >= 10x: %s); per-round x-callback %.1f-%.1f",
			producers, b.N, cb, met(cb >= 5), ch, met(ch >= 10), minOf(xcb), maxOf(xcb))
	}
}

// cpuTime returns the CPU time the process has used, all threads, user
// and system: with it a variant's cost shows even when the machine's load
// stretches its wall-clock time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// bridgeRun is one bridge reused across rounds: the producer threads of a
// round take over the lanes of the previous round's threads.
type bridgeRun struct {
	b         *testing.B
	name      string
	br        *bridge.Bridge
	producers int
	per       uint64
	batch     int
	prodCPU   []float64 // producer threads' CPU ns per event, per round
}

// benchCapacity is the lanes' capacity in the throughput benchmarks: 16,384
// slots of 64 bytes, 1 MiB per lane. Measured here in CPU time per event
// (which the machine's load does not stretch), lanes of 65,536 slots cost
// about 50% more with 4 producers (four 4 MiB lanes do not stay in the
// caches: 18.8 against 10.8 ns per event) and no less with one; 4,096
// slots made one producer wait for space too often.
const benchCapacity = 16384

func newBridgeRun(b *testing.B, name string, producers int, per uint64, batch int) *bridgeRun {
	br, err := bridge.New(benchCapacity, bridge.WithMaxMessageSize(48))
	if err != nil {
		b.Fatal(err)
	}
	return &bridgeRun{b: b, name: name, br: br, producers: producers, per: per, batch: batch}
}

func (r *bridgeRun) close() { r.br.Close() }

// run moves one round of events and returns how long it took, from
// starting the producer threads until the last event was delivered.
func (r *bridgeRun) run() time.Duration {
	var sum uint64
	fn := func(m []byte) { sum += uint64(m[0]) }
	cfg := cproducer.Config{Threads: r.producers, PerThread: r.per, Mode: cproducer.Flood, Size: benchMsgSize}
	if r.batch > 1 {
		cfg.Mode, cfg.Batch = cproducer.FloodBatch, r.batch
	}
	total := r.per * uint64(r.producers)
	start := time.Now()
	run, err := cproducer.Start(r.br.CPtr(), cfg)
	if err != nil {
		r.b.Fatal(err)
	}
	for n := uint64(0); n < total; {
		k, err := r.br.Drain(context.Background(), fn)
		if err != nil {
			r.b.Fatal(err)
		}
		n += uint64(k)
	}
	d := time.Since(start)
	var cpu time.Duration
	for _, res := range run.Wait() {
		cpu += res.CPU
	}
	r.prodCPU = append(r.prodCPU, float64(cpu.Nanoseconds())/float64(total))
	return d
}

// perProducer is a counter per producer thread, each on its own cache
// line, so that the callback's threads do not share one.
type perProducer [64]struct {
	n uint64
	_ [56]byte
}

// callbackRun moves one round of events with a cgo callback per event.
func callbackRun(b *testing.B, producers int, per uint64) time.Duration {
	var sums perProducer
	cproducer.SetSink(func(m []byte) { sums[binary.LittleEndian.Uint32(m[8:])%64].n += uint64(m[0]) })
	start := time.Now()
	run, err := cproducer.Start(nil, cproducer.Config{Threads: producers, PerThread: per, Mode: cproducer.Callback, Size: benchMsgSize})
	if err != nil {
		b.Fatal(err)
	}
	run.Wait()
	return time.Since(start)
}

// chanRun moves one round of events with a cgo callback per event that
// sends the event on a buffered channel to a consumer goroutine.
func chanRun(b *testing.B, producers int, per uint64) time.Duration {
	total := per * uint64(producers)
	ch := make(chan [benchMsgSize]byte, 1024)
	cproducer.SetSink(func(m []byte) {
		var e [benchMsgSize]byte
		copy(e[:], m)
		ch <- e
	})
	done := make(chan uint64)
	go func() {
		var sum uint64
		for i := uint64(0); i < total; i++ {
			e := <-ch
			sum += uint64(e[0])
		}
		done <- sum
	}()
	start := time.Now()
	run, err := cproducer.Start(nil, cproducer.Config{Threads: producers, PerThread: per, Mode: cproducer.Callback, Size: benchMsgSize})
	if err != nil {
		b.Fatal(err)
	}
	<-done
	d := time.Since(start)
	run.Wait()
	return d
}

func median(s []float64) float64 {
	c := append([]float64(nil), s...)
	sort.Float64s(c)
	if len(c) == 0 {
		return 0
	}
	return c[len(c)/2]
}

func minOf(s []float64) float64 {
	m := s[0]
	for _, v := range s {
		m = min(m, v)
	}
	return m
}

func maxOf(s []float64) float64 {
	m := s[0]
	for _, v := range s {
		m = max(m, v)
	}
	return m
}

// BenchmarkIdleLatency measures how long one message takes from
// cg_bridge_push on a C thread to the Drain callback when the consumer is
// asleep (the producer pauses 200 µs before each push): p50 and p99 in ns.
// netpoll is the wait Drain uses; wait-in-c is the alternative that blocks
// in a cgo call.
func BenchmarkIdleLatency(b *testing.B) {
	for _, inC := range []bool{false, true} {
		name := "netpoll"
		if inC {
			name = "wait-in-c"
		}
		b.Run(name, func(b *testing.B) {
			defer bridge.SetWaitInC(bridge.SetWaitInC(inC))
			br, err := bridge.New(64)
			if err != nil {
				b.Fatal(err)
			}
			defer br.Close()
			lat := make([]int64, 0, b.N)
			fn := func(m []byte) {
				var t int64
				for i := 7; i >= 0; i-- {
					t = t<<8 | int64(m[i])
				}
				lat = append(lat, cproducer.Now()-t)
			}
			b.ResetTimer()
			run, err := cproducer.Start(br.CPtr(), cproducer.Config{Threads: 1, PerThread: uint64(b.N), Mode: cproducer.Latency, PauseNS: 200_000})
			if err != nil {
				b.Fatal(err)
			}
			for len(lat) < b.N {
				if _, err := br.Drain(context.Background(), fn); err != nil {
					b.Fatal(err)
				}
			}
			run.Wait()
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2]), "p50-ns")
			b.ReportMetric(float64(lat[len(lat)*99/100]), "p99-ns")
			st := br.Stats()
			b.ReportMetric(float64(st.Wakeups)/float64(b.N), "wakeups/op")
		})
	}
}

// BenchmarkIdleThreads counts the OS threads the process gains while 32
// bridges sit idle in Drain, for each wait.
func BenchmarkIdleThreads(b *testing.B) {
	for _, inC := range []bool{false, true} {
		name := "netpoll"
		if inC {
			name = "wait-in-c"
		}
		// Report the most over all iterations and runs: Go keeps idle
		// threads for reuse, so later iterations need fewer new ones.
		var extra int
		b.Run(name, func(b *testing.B) {
			defer bridge.SetWaitInC(bridge.SetWaitInC(inC))
			for i := 0; i < b.N; i++ {
				before := threads(b)
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan struct{})
				var bs []*bridge.Bridge
				for j := 0; j < 32; j++ {
					br, err := bridge.New(16)
					if err != nil {
						b.Fatal(err)
					}
					bs = append(bs, br)
					go func() { br.Drain(ctx, func([]byte) {}); done <- struct{}{} }()
				}
				time.Sleep(50 * time.Millisecond)
				extra = max(extra, threads(b)-before)
				cancel()
				for range bs {
					<-done
				}
				for _, br := range bs {
					br.Close()
				}
			}
			b.ReportMetric(float64(extra), "threads/32-idle")
		})
	}
}

func threads(b *testing.B) int {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatal("no Threads line in /proc/self/status")
	return 0
}
