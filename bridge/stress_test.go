//go:build cgo

package bridge_test

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard/bridge"
	"github.com/cgoguard/cgoguard/bridge/internal/cproducer"
)

// TestStress runs 4 C producer threads × 1,000,000 checked messages
// (cg_bridge_push and reserve/commit alternating, or batches) against a
// consumer slower than the producers, under every full policy and lane
// setting. Every message that arrives is intact, arrives once and in its
// producer's order, and the counts add up: what a producer was told was
// accepted is delivered, unless DropOldest evicted it, and every loss is
// counted in Stats.Dropped.
func TestStress(t *testing.T) {
	tests := []stressCase{
		{"Block", bridge.Block, 0, nil, cproducer.Mixed},
		{"Block-batch", bridge.Block, 0, nil, cproducer.Batch},
		{"Block/lanes=2", bridge.Block, 0, []bridge.Option{bridge.WithLanes(2)}, cproducer.Mixed},
		{"Block/lanes=0", bridge.Block, 0, []bridge.Option{bridge.WithLanes(0)}, cproducer.Mixed},
		{"BlockTimeout", bridge.Block, syscall.ETIMEDOUT, []bridge.Option{bridge.WithBlockTimeout(200 * time.Microsecond)}, cproducer.Mixed},
		{"DropNewest", bridge.DropNewest, syscall.ENOBUFS, nil, cproducer.Mixed},
		{"DropNewest-batch", bridge.DropNewest, syscall.ENOBUFS, nil, cproducer.Batch},
		{"DropOldest", bridge.DropOldest, 0, nil, cproducer.Mixed},
		{"DropOldest-batch", bridge.DropOldest, 0, nil, cproducer.Batch},
		{"Error", bridge.Error, syscall.EAGAIN, nil, cproducer.Mixed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { stress(t, tt) })
	}
}

// stressCase is a TestStress case: the policy, the one errno its refusals
// carry (0: it refuses nothing), more options, and what producers do.
type stressCase struct {
	name    string
	policy  bridge.Policy
	refusal syscall.Errno
	opts    []bridge.Option
	mode    cproducer.Mode
}

func stress(t *testing.T, tt stressCase) {
	opts := append([]bridge.Option{bridge.WithPolicy(tt.policy)}, tt.opts...)
	mode, policy := tt.mode, tt.policy
	const threads, per = 4, 1_000_000
	b, err := bridge.New(1024, opts...)
	if err != nil {
		t.Fatal(err)
	}
	run, err := cproducer.Start(b.CPtr(), cproducer.Config{Threads: threads, PerThread: per, Mode: mode, Batch: 16})
	if err != nil {
		t.Fatal(err)
	}
	var next [threads]uint64 // lowest seq still allowed per producer
	var got [threads]uint64
	var bad error
	seen := 0
	fn := func(msg []byte) {
		m, err := cproducer.Check(msg)
		if err == nil && int(m.Producer) >= threads {
			err = fmt.Errorf("message from unknown producer %d", m.Producer)
		}
		if err == nil && m.Seq < next[m.Producer] {
			err = fmt.Errorf("producer %d: seq %d after %d: duplicate or out of order", m.Producer, m.Seq, next[m.Producer]-1)
		}
		if err != nil {
			if bad == nil {
				bad = err
			}
			return
		}
		next[m.Producer] = m.Seq + 1
		got[m.Producer]++
		// The slow consumer: a 2 µs busy pause every 64 messages (about
		// 30 ns a message) makes it fall behind producers that push some
		// 10 ns apart. (A sleep would last far longer than asked on a
		// loaded machine and make the test slow, not the consumer.)
		if seen++; seen%64 == 0 {
			for start := time.Now(); time.Since(start) < 2*time.Microsecond; {
			}
		}
	}
	done := make(chan []cproducer.Result)
	go func() { done <- run.Wait() }()
	var res []cproducer.Result
	for res == nil {
		select {
		case res = <-done:
			continue
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		_, err := b.Drain(ctx, fn)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatal(err)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	drainAll(t, b, fn)
	if bad != nil {
		t.Fatal(bad)
	}
	var accepted, refused, delivered uint64
	for i, r := range res {
		accepted += r.Accepted
		refused += sum(r.Codes)
		delivered += got[i]
		if r.Accepted+sum(r.Codes) != per {
			t.Errorf("producer %d: %d accepted + %v refused != %d", i, r.Accepted, r.Codes, per)
		}
		switch policy {
		case bridge.DropOldest:
			if len(r.Codes) != 0 || got[i] > r.Accepted {
				t.Errorf("producer %d: accepted %d, refused %v, delivered %d: DropOldest refuses nothing and delivers at most what it accepted", i, r.Accepted, r.Codes, got[i])
			}
		default:
			if got[i] != r.Accepted {
				t.Errorf("producer %d: accepted %d, delivered %d", i, r.Accepted, got[i])
			}
			for code := range r.Codes {
				if code != tt.refusal {
					t.Errorf("producer %d: refusals %v, want only %v", i, r.Codes, tt.refusal)
				}
			}
		}
	}
	st := b.Stats()
	t.Logf("stats %+v, refused %d", st, refused)
	if st.Pushed != accepted || st.Delivered != delivered {
		t.Errorf("stats %+v: want pushed %d, delivered %d", st, accepted, delivered)
	}
	if policy == bridge.DropOldest {
		if st.Dropped != accepted-delivered {
			t.Errorf("stats %+v: DropOldest: want dropped = pushed - delivered = %d", st, accepted-delivered)
		}
	} else if st.Dropped != refused {
		t.Errorf("stats %+v: want dropped = refused = %d", st, refused)
	}
	if tt.refusal == 0 && policy != bridge.DropOldest && accepted != threads*per {
		t.Errorf("%v without a bound accepted %d of %d", policy, accepted, threads*per)
	}
	if tt.refusal != 0 && refused == 0 {
		t.Errorf("%v: nothing refused: the consumer was not slower than the producers", policy)
	}
	if policy == bridge.DropOldest && st.Dropped == 0 {
		t.Errorf("DropOldest: nothing evicted: the consumer was not slower than the producers")
	}
}
