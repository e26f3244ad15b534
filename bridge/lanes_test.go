//go:build cgo

package bridge_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/cgoguard/cgoguard/bridge"
	"github.com/cgoguard/cgoguard/bridge/internal/cproducer"
)

func needLanes(t *testing.T) {
	t.Helper()
	if !bridge.LanesSupported() {
		t.Skip("this system gives no per-thread lanes (membarrier(2) PRIVATE_EXPEDITED missing)")
	}
}

// drainN delivers n checked messages into c.
func drainN(t *testing.T, b *bridge.Bridge, c *checker, n uint64) {
	t.Helper()
	for c.total < n && c.err == nil {
		if _, err := b.Drain(context.Background(), c.add); err != nil {
			t.Fatal(err)
		}
	}
	if c.err != nil {
		t.Fatal(c.err)
	}
}

// TestLanesPerThread: each producer thread gets a lane up to WithLanes;
// the rest share the common lane; order per producer holds either way.
func TestLanesPerThread(t *testing.T) {
	needLanes(t)
	tests := []struct {
		name      string
		opts      []bridge.Option
		threads   int
		wantLanes int
	}{
		{"default", nil, 4, 4},
		{"limit 2", []bridge.Option{bridge.WithLanes(2)}, 5, 2},
		{"none", []bridge.Option{bridge.WithLanes(0)}, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const per = 20_000
			b, err := bridge.New(64, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			// Together: every thread holds its lane at once.
			run, err := cproducer.Start(b.CPtr(), cproducer.Config{Threads: tt.threads, PerThread: per, Mode: cproducer.Mixed, Together: true})
			if err != nil {
				t.Fatal(err)
			}
			c := newChecker(tt.threads)
			drainN(t, b, c, uint64(tt.threads)*per)
			run.Wait()
			if got := b.Lanes(); got != tt.wantLanes {
				t.Errorf("Lanes() = %d, want %d", got, tt.wantLanes)
			}
			if st := b.Stats(); st.Pushed != uint64(tt.threads)*per || st.Delivered != st.Pushed {
				t.Errorf("stats %+v: want %d pushed and delivered", st, tt.threads*per)
			}
		})
	}
}

// TestLaneHandoff: a thread's lane passes to a thread started after it
// exits, so a stream of short-lived threads does not use up lanes; messages
// the old owner left in the lane are delivered, once and in order, and so
// are the new owner's.
func TestLaneHandoff(t *testing.T) {
	needLanes(t)
	const threads, per, rounds = 3, 1000, 4
	b, err := bridge.New(rounds * per)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for round := 0; round < rounds; round++ {
		// Nothing drains during the rounds: each round's threads take
		// over lanes that still hold the earlier rounds' messages.
		run, err := cproducer.Start(b.CPtr(), cproducer.Config{Threads: threads, PerThread: per, Mode: cproducer.Push,
			FirstID: uint32(round * threads), Together: true})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range run.Wait() {
			if r.Accepted != per {
				t.Fatalf("round %d producer %d: %+v", round, i, r)
			}
		}
		if got := b.Lanes(); got != threads {
			t.Fatalf("round %d: Lanes() = %d, want %d (the lanes of exited threads reused)", round, got, threads)
		}
	}
	c := newChecker(rounds * threads)
	drainN(t, b, c, rounds*threads*per)
	for p, n := range c.next {
		if n != per {
			t.Errorf("producer %d: %d messages delivered, want %d", p, n, per)
		}
	}
}

// TestGoPushOrderAcrossThreads: Push from Go keeps a goroutine's order even
// as the goroutine moves between threads.
func TestGoPushOrderAcrossThreads(t *testing.T) {
	b, err := bridge.New(1 << 16)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const n = 20_000
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < n; i++ {
			if i%100 == 0 {
				runtime.Gosched() // invite the scheduler to move the goroutine
			}
			if err := b.Push([]byte{byte(i), byte(i >> 8), byte(i >> 16)}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	next := 0
	for next < n {
		if _, err := b.Drain(context.Background(), func(m []byte) {
			if got := int(m[0]) | int(m[1])<<8 | int(m[2])<<16; got != next {
				t.Fatalf("got message %d, want %d", got, next)
			}
			next++
		}); err != nil {
			t.Fatal(err)
		}
	}
	<-done
}
