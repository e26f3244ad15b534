//go:build cgo

package bridge_test

import (
	"context"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard/bridge"
	"github.com/cgoguard/cgoguard/bridge/internal/cproducer"
)

const benchMsgSize = 16

// BenchmarkThroughput moves b.N 16-byte events from C producer threads to
// Go, one ns/op per event, three ways: the bridge, a cgo callback per event
// into an exported Go function, and such a callback that sends the event on
// a buffered Go channel to a consumer goroutine.
func BenchmarkThroughput(b *testing.B) {
	b.Run("bridge", func(b *testing.B) { benchBridge(b, 1, 1) })
	b.Run("bridge-4producers", func(b *testing.B) { benchBridge(b, 4, 1) })
	b.Run("bridge-batch8", func(b *testing.B) { benchBridge(b, 1, 8) })
	b.Run("bridge-batch32", func(b *testing.B) { benchBridge(b, 1, 32) })
	b.Run("callback", func(b *testing.B) {
		var sum uint64
		cproducer.SetSink(func(m []byte) { sum += uint64(m[0]) })
		b.ResetTimer()
		run, err := cproducer.Start(nil, cproducer.Config{Threads: 1, PerThread: uint64(b.N), Mode: cproducer.Callback, Size: benchMsgSize})
		if err != nil {
			b.Fatal(err)
		}
		run.Wait()
		b.StopTimer()
		_ = sum
	})
	b.Run("callback-chan", func(b *testing.B) {
		ch := make(chan [benchMsgSize]byte, 1024)
		cproducer.SetSink(func(m []byte) {
			var e [benchMsgSize]byte
			copy(e[:], m)
			ch <- e
		})
		done := make(chan uint64)
		go func() {
			var sum uint64
			for i := 0; i < b.N; i++ {
				e := <-ch
				sum += uint64(e[0])
			}
			done <- sum
		}()
		b.ResetTimer()
		run, err := cproducer.Start(nil, cproducer.Config{Threads: 1, PerThread: uint64(b.N), Mode: cproducer.Callback, Size: benchMsgSize})
		if err != nil {
			b.Fatal(err)
		}
		<-done
		run.Wait()
	})
}

// benchBridge runs threads C producers; batch 1 pushes with cg_bridge_push,
// more pushes that many messages per cg_bridge_push_batch call.
func benchBridge(b *testing.B, threads, batch int) {
	br, err := bridge.New(65536, bridge.WithMaxMessageSize(48))
	if err != nil {
		b.Fatal(err)
	}
	defer br.Close()
	per := uint64(b.N/threads) + 1
	total := per * uint64(threads)
	var sum, n, drains uint64
	fn := func(m []byte) { sum += uint64(m[0]) }
	b.ResetTimer()
	cfg := cproducer.Config{Threads: threads, PerThread: per, Mode: cproducer.Flood, Size: benchMsgSize}
	if batch > 1 {
		cfg.Mode, cfg.Batch = cproducer.FloodBatch, batch
	}
	run, err := cproducer.Start(br.CPtr(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	for n < total {
		k, err := br.Drain(context.Background(), fn)
		if err != nil {
			b.Fatal(err)
		}
		n += uint64(k)
		drains++
	}
	run.Wait()
	b.StopTimer()
	b.ReportMetric(float64(total)/float64(drains), "msgs/drain")
	st := br.Stats()
	b.ReportMetric(float64(st.Wakeups)/float64(total), "wakeups/op")
	b.ReportMetric(float64(st.FullWaits)/float64(total), "fullwaits/op")
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
