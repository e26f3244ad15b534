//go:build cgo

package bridge_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard/bridge"
	"github.com/cgoguard/cgoguard/bridge/internal/cproducer"
)

// checker verifies checked messages: none corrupt, none lost or duplicated,
// order per producer kept.
type checker struct {
	next  []uint64 // next seq expected per producer
	total uint64
	err   error
}

func newChecker(producers int) *checker { return &checker{next: make([]uint64, producers)} }

func (c *checker) add(msg []byte) {
	if c.err != nil {
		return
	}
	m, err := cproducer.Check(msg)
	if err != nil {
		c.err = err
		return
	}
	if int(m.Producer) >= len(c.next) {
		c.err = fmt.Errorf("message from unknown producer %d", m.Producer)
		return
	}
	if m.Seq != c.next[m.Producer] {
		c.err = fmt.Errorf("producer %d: got seq %d, want %d", m.Producer, m.Seq, c.next[m.Producer])
		return
	}
	c.next[m.Producer]++
	c.total++
}

func drainAll(t *testing.T, b *bridge.Bridge, fn func([]byte)) {
	t.Helper()
	for {
		_, err := b.Drain(context.Background(), fn)
		if errors.Is(err, bridge.ErrClosed) {
			return
		}
		if err != nil {
			t.Fatalf("Drain: %v", err)
		}
	}
}

func TestFourProducersMillionEach(t *testing.T) {
	tests := []struct {
		name string
		mode cproducer.Mode
	}{
		{"push-and-reserve", cproducer.Mixed},
		{"batch", cproducer.Batch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { fourProducersMillionEach(t, tt.mode) })
	}
}

func fourProducersMillionEach(t *testing.T, mode cproducer.Mode) {
	const threads, per = 4, 1_000_000
	b, err := bridge.New(4096, bridge.WithName("t-4x1m"))
	if err != nil {
		t.Fatal(err)
	}
	run, err := cproducer.Start(b.CPtr(), cproducer.Config{Threads: threads, PerThread: per, Mode: mode, Batch: 16})
	if err != nil {
		t.Fatal(err)
	}
	c := newChecker(threads)
	for c.total < threads*per && c.err == nil {
		if _, err := b.Drain(context.Background(), c.add); err != nil {
			t.Fatalf("Drain: %v", err)
		}
	}
	if c.err != nil {
		t.Fatal(c.err)
	}
	for i, r := range run.Wait() {
		if r.Accepted != per || len(r.Codes) != 0 {
			t.Errorf("producer %d: accepted %d, errors %v; want %d, none", i, r.Accepted, r.Codes, per)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	drainAll(t, b, c.add) // nothing left: a duplicate would show here
	if c.err != nil {
		t.Fatal(c.err)
	}
	for p, n := range c.next {
		if n != per {
			t.Errorf("producer %d: delivered %d messages, want %d", p, n, per)
		}
	}
	st := b.Stats()
	if st.Pushed != threads*per || st.Delivered != threads*per || st.Dropped != 0 {
		t.Errorf("stats %+v: want pushed = delivered = %d, dropped 0", st, threads*per)
	}
	if st.Wakeups >= st.Delivered/4 {
		t.Errorf("stats %+v: a wakeup for every 4th message or more; producers should wake only a sleeping consumer", st)
	}
}

// fullCase is a TestFullPolicies case.
type fullCase struct {
	name         string
	capacity     int
	opts         []bridge.Option
	wantAccepted uint64
	wantCode     syscall.Errno // code of the refused pushes
	wantFirst    uint64        // first seq delivered
	wantFull     uint64        // FullWaits
}

// TestFullPolicies fills a ring with no consumer running, so what each
// policy does with every push past the capacity is exact.
func TestFullPolicies(t *testing.T) {
	const pushes = 20
	tests := []fullCase{
		{"DropNewest", 8, []bridge.Option{bridge.WithPolicy(bridge.DropNewest)}, 8, syscall.ENOBUFS, 0, 0},
		{"Error", 8, []bridge.Option{bridge.WithPolicy(bridge.Error)}, 8, syscall.EAGAIN, 0, 0},
		{"DropOldest", 8, []bridge.Option{bridge.WithPolicy(bridge.DropOldest)}, pushes, 0, 12, 0},
		{"DropOldest/capacity10", 10, []bridge.Option{bridge.WithPolicy(bridge.DropOldest)}, pushes, 0, 10, 0},
		{"BlockTimeout", 8, []bridge.Option{bridge.WithBlockTimeout(5 * time.Millisecond)}, 8, syscall.ETIMEDOUT, 0, 12},
		{"Error/capacity3", 3, []bridge.Option{bridge.WithPolicy(bridge.Error)}, 3, syscall.EAGAIN, 0, 0},
	}
	for _, tt := range tests {
		for _, mode := range []cproducer.Mode{cproducer.Push, cproducer.Batch} {
			name := tt.name
			if mode == cproducer.Batch {
				// Batches of 1 to 8: each message past the capacity is
				// refused (or evicts) on its own, exactly as with push.
				name += "-batch"
			}
			t.Run(name, func(t *testing.T) { fullPolicy(t, tt, mode, pushes) })
		}
	}
}

// fullPolicy pushes pushes checked messages from one C thread in mode into
// a bridge nobody drains, then checks results, counters and what is left.
func fullPolicy(t *testing.T, tt fullCase, mode cproducer.Mode, pushes uint64) {
	b, err := bridge.New(tt.capacity, tt.opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	run, err := cproducer.Start(b.CPtr(), cproducer.Config{Threads: 1, PerThread: pushes, Mode: mode, Batch: 8})
	if err != nil {
		t.Fatal(err)
	}
	r := run.Wait()[0]
	refused := pushes - tt.wantAccepted
	if r.Accepted != tt.wantAccepted {
		t.Errorf("accepted %d, want %d (errors %v)", r.Accepted, tt.wantAccepted, r.Codes)
	}
	if refused > 0 && (r.Codes[tt.wantCode] != refused || len(r.Codes) != 1) {
		t.Errorf("errors %v, want %d × %v", r.Codes, refused, tt.wantCode)
	}
	st := b.Stats()
	wantDropped := pushes - uint64(tt.capacity)
	if st.Pushed != tt.wantAccepted || st.Dropped != wantDropped || st.FullWaits != tt.wantFull || st.Wakeups != 0 {
		t.Errorf("stats %+v: want pushed %d, dropped %d, full waits %d, wakeups 0",
			st, tt.wantAccepted, wantDropped, tt.wantFull)
	}
	var got []uint64
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	drainAll(t, b, func(msg []byte) {
		m, err := cproducer.Check(msg)
		if err != nil {
			t.Error(err)
		}
		got = append(got, m.Seq)
	})
	if len(got) != tt.capacity {
		t.Fatalf("delivered %v, want %d messages", got, tt.capacity)
	}
	for i, s := range got {
		if s != tt.wantFirst+uint64(i) {
			t.Fatalf("delivered %v, want %d consecutive from %d", got, tt.capacity, tt.wantFirst)
		}
	}
	if st := b.Stats(); st.Delivered != uint64(tt.capacity) || st.Dropped != wantDropped {
		t.Errorf("after drain stats %+v: want delivered %d, dropped %d", st, tt.capacity, wantDropped)
	}
}

// TestBlockWaitsForSpace: a producer blocked on a full ring carries on as
// the consumer drains; nothing is dropped.
func TestBlockWaitsForSpace(t *testing.T) {
	b, err := bridge.New(4)
	if err != nil {
		t.Fatal(err)
	}
	run, err := cproducer.Start(b.CPtr(), cproducer.Config{Threads: 2, PerThread: 5000, Mode: cproducer.Reserve})
	if err != nil {
		t.Fatal(err)
	}
	for b.Stats().FullWaits == 0 {
		time.Sleep(time.Millisecond)
	}
	c := newChecker(2)
	for c.total < 10000 && c.err == nil {
		if _, err := b.Drain(context.Background(), c.add); err != nil {
			t.Fatal(err)
		}
	}
	if c.err != nil {
		t.Fatal(c.err)
	}
	for i, r := range run.Wait() {
		if r.Accepted != 5000 {
			t.Errorf("producer %d accepted %d, want 5000 (%v)", i, r.Accepted, r.Codes)
		}
	}
	if st := b.Stats(); st.Dropped != 0 || st.FullWaits == 0 || st.Delivered != 10000 {
		t.Errorf("stats %+v: want dropped 0, full waits > 0, delivered 10000", st)
	}
	b.Close()
}

// TestCloseWhileProducersPush closes the bridge under load: every message a
// producer got 0 for is delivered exactly once, in order, and nothing else.
func TestCloseWhileProducersPush(t *testing.T) {
	for _, policy := range []bridge.Policy{bridge.Block, bridge.Error} {
		for _, mode := range []cproducer.Mode{cproducer.Mixed, cproducer.Batch} {
			name := policy.String()
			if mode == cproducer.Batch {
				name += "-batch"
			}
			t.Run(name, func(t *testing.T) {
				const threads = 4
				b, err := bridge.New(256, bridge.WithPolicy(policy))
				if err != nil {
					t.Fatal(err)
				}
				run, err := cproducer.Start(b.CPtr(), cproducer.Config{Threads: threads, PerThread: 1 << 40, Mode: mode, Batch: 16})
				if err != nil {
					t.Fatal(err)
				}
				seen := map[[2]uint64]bool{}
				var last [threads]int64
				for i := range last {
					last[i] = -1
				}
				var bad error
				fn := func(msg []byte) {
					m, err := cproducer.Check(msg)
					if err != nil {
						bad = err
						return
					}
					k := [2]uint64{uint64(m.Producer), m.Seq}
					if seen[k] || int64(m.Seq) <= last[m.Producer] {
						bad = fmt.Errorf("producer %d seq %d: duplicate or out of order (last %d)", m.Producer, m.Seq, last[m.Producer])
					}
					seen[k] = true
					last[m.Producer] = int64(m.Seq)
				}
				for len(seen) < 20000 {
					if _, err := b.Drain(context.Background(), fn); err != nil {
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
				var accepted uint64
				for i, r := range run.Wait() {
					accepted += r.Accepted
					if r.Codes[syscall.EPIPE] != 1 {
						t.Errorf("producer %d: errors %v, want exactly one EPIPE", i, r.Codes)
					}
					// Block: seqs 0..accepted-1 all delivered. Error: refusals
					// leave gaps, so count per producer instead.
					n := uint64(0)
					for k := range seen {
						if k[0] == uint64(i) {
							n++
						}
					}
					if n != r.Accepted {
						t.Errorf("producer %d: %d accepted, %d delivered", i, r.Accepted, n)
					}
					if policy == bridge.Block && last[i] != int64(r.Accepted)-1 {
						t.Errorf("producer %d: last seq %d, want %d", i, last[i], r.Accepted-1)
					}
				}
				st := b.Stats()
				if st.Pushed != accepted || st.Delivered != accepted {
					t.Errorf("stats %+v: want pushed = delivered = %d", st, accepted)
				}
				if _, err := b.Drain(context.Background(), fn); !errors.Is(err, bridge.ErrClosed) {
					t.Errorf("Drain after the end: %v, want ErrClosed", err)
				}
				if err := b.Close(); !errors.Is(err, bridge.ErrClosed) {
					t.Errorf("second Close: %v, want ErrClosed", err)
				}
			})
		}
	}
}

// TestCloseWakesBlockedProducers: producers waiting for space return -EPIPE
// at Close, and what they pushed before is still delivered. With lanes each
// producer fills its own; with WithLanes(0) they share one.
func TestCloseWakesBlockedProducers(t *testing.T) {
	tests := []struct {
		name         string
		opts         []bridge.Option
		wantAccepted uint64
	}{
		{"lanes", nil, 8},
		{"shared", []bridge.Option{bridge.WithLanes(0)}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.opts == nil && !bridge.LanesSupported() {
				t.Skip("no per-thread lanes on this system (membarrier)")
			}
			b, err := bridge.New(4, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			run, err := cproducer.Start(b.CPtr(), cproducer.Config{Threads: 2, PerThread: 100, Mode: cproducer.Push})
			if err != nil {
				t.Fatal(err)
			}
			for b.Stats().FullWaits < 2 {
				time.Sleep(time.Millisecond)
			}
			b.Close()
			var accepted uint64
			for i, r := range run.Wait() {
				accepted += r.Accepted
				if r.Codes[syscall.EPIPE] != 1 || len(r.Codes) != 1 {
					t.Errorf("producer %d: errors %v, want one EPIPE", i, r.Codes)
				}
			}
			c := newChecker(2)
			drainAll(t, b, c.add)
			if c.err != nil || accepted != tt.wantAccepted || c.total != tt.wantAccepted {
				t.Errorf("accepted %d, delivered %d (%v); want %d and %d", accepted, c.total, c.err, tt.wantAccepted, tt.wantAccepted)
			}
		})
	}
}

func TestDrainContext(t *testing.T) {
	for _, inC := range []bool{false, true} {
		t.Run(fmt.Sprintf("waitInC=%v", inC), func(t *testing.T) {
			defer bridge.SetWaitInC(bridge.SetWaitInC(inC))
			b, err := bridge.New(16)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(20*time.Millisecond, cancel)
			if n, err := b.Drain(ctx, func([]byte) {}); n != 0 || !errors.Is(err, context.Canceled) {
				t.Errorf("Drain on an idle bridge = %d, %v; want 0, context.Canceled", n, err)
			}
			ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Millisecond)
			defer cancel2()
			if _, err := b.Drain(ctx2, func([]byte) {}); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Drain = %v, want context.DeadlineExceeded", err)
			}
			// A message pushed while Drain sleeps wakes it.
			time.AfterFunc(10*time.Millisecond, func() { b.Push([]byte("late")) })
			var got string
			if n, err := b.Drain(context.Background(), func(m []byte) { got = string(m) }); n != 1 || err != nil || got != "late" {
				t.Errorf("Drain = %d, %v, %q; want 1, nil, \"late\"", n, err, got)
			}
			if st := b.Stats(); st.Wakeups != 1 {
				t.Errorf("stats %+v: want one wakeup", st)
			}
		})
	}
}

func TestCloseWakesDrain(t *testing.T) {
	b, err := bridge.New(16)
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(10*time.Millisecond, func() { b.Close() })
	if _, err := b.Drain(context.Background(), func([]byte) {}); !errors.Is(err, bridge.ErrClosed) {
		t.Errorf("Drain = %v, want ErrClosed", err)
	}
}

func TestNoWakeupWhileConsumerAwake(t *testing.T) {
	b, err := bridge.New(2048)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	run, err := cproducer.Start(b.CPtr(), cproducer.Config{Threads: 2, PerThread: 1000, Mode: cproducer.Push})
	if err != nil {
		t.Fatal(err)
	}
	run.Wait()
	if st := b.Stats(); st.Pushed != 2000 || st.Wakeups != 0 {
		t.Errorf("stats %+v: want 2000 pushed and no wakeup (no consumer was asleep)", st)
	}
	c := newChecker(2)
	for c.total < 2000 {
		if _, err := b.Drain(context.Background(), c.add); err != nil {
			t.Fatal(err)
		}
	}
	if c.err != nil {
		t.Fatal(c.err)
	}
}

func TestConcurrentDrainIsBusy(t *testing.T) {
	b, err := bridge.New(8)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	entered := make(chan struct{})
	release := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		b.Drain(context.Background(), func([]byte) { close(entered); <-release })
	}()
	if err := b.Push([]byte("x")); err != nil {
		t.Fatal(err)
	}
	<-entered
	if _, err := b.Drain(context.Background(), func([]byte) {}); !errors.Is(err, bridge.ErrBusy) {
		t.Errorf("second Drain = %v, want ErrBusy", err)
	}
	close(release)
	wg.Wait()
}

func TestPanicInCallbackKeepsRest(t *testing.T) {
	b, err := bridge.New(8)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, s := range []string{"a", "boom", "c"} {
		if err := b.Push([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	func() {
		defer func() {
			if r := recover(); r == nil {
				t.Error("no panic")
			}
		}()
		b.Drain(context.Background(), func(m []byte) {
			got = append(got, string(m))
			if string(m) == "boom" {
				panic("boom")
			}
		})
	}()
	n, err := b.Drain(context.Background(), func(m []byte) { got = append(got, string(m)) })
	if n != 1 || err != nil || strings.Join(got, ",") != "a,boom,c" {
		t.Errorf("after panic: Drain = %d, %v; got %v, want a,boom,c", n, err, got)
	}
	if st := b.Stats(); st.Delivered != 3 {
		t.Errorf("stats %+v: want 3 delivered", st)
	}
}

// TestPushErrors checks each push result from Go (Push) and from C
// (cg_bridge_push, all on one thread so that they share its lane).
func TestPushErrors(t *testing.T) {
	type pushFunc func(b *bridge.Bridge, msg []byte) error
	goPush := func(b *bridge.Bridge, msg []byte) error { return b.Push(msg) }
	cPush := func(b *bridge.Bridge, msg []byte) error {
		if rc := cproducer.PushOne(b.CPtr(), msg); rc != 0 {
			return syscall.Errno(-rc)
		}
		return nil
	}
	for _, side := range []struct {
		name string
		push pushFunc
	}{{"Go", goPush}, {"C", cPush}} {
		t.Run(side.name, func(t *testing.T) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b, err := bridge.New(2, bridge.WithMaxMessageSize(4), bridge.WithPolicy(bridge.Error))
			if err != nil {
				t.Fatal(err)
			}
			tests := []struct {
				name  string
				msg   string
				close bool
				want  error
				errno syscall.Errno
			}{
				{"ok", "1234", false, nil, 0},
				{"empty", "", false, nil, 0},
				{"too large", "12345", false, bridge.ErrTooLarge, syscall.EMSGSIZE},
				{"full", "x", false, bridge.ErrFull, syscall.EAGAIN},
				{"closed", "x", true, bridge.ErrClosed, syscall.EPIPE},
			}
			for _, tt := range tests {
				if tt.close {
					b.Close()
				}
				err := side.push(b, []byte(tt.msg))
				if tt.want == nil {
					if err != nil {
						t.Errorf("%s: push = %v, want nil", tt.name, err)
					}
					continue
				}
				if !errors.Is(err, tt.errno) || (side.name == "Go" && !errors.Is(err, tt.want)) {
					t.Errorf("%s: push = %v, want %v (%v)", tt.name, err, tt.want, tt.errno)
				}
			}
			var got []string
			drainAll(t, b, func(m []byte) { got = append(got, string(m)) })
			if strings.Join(got, "|") != "1234|" {
				t.Errorf("delivered %q, want [1234 \"\"]", got)
			}
			if st := b.Stats(); st.Pushed != 2 || st.Dropped != 1 {
				t.Errorf("stats %+v: want pushed 2, dropped 1", st)
			}
		})
	}
}

func TestCommitChecks(t *testing.T) {
	b, err := bridge.New(4, bridge.WithMaxMessageSize(8))
	if err != nil {
		t.Fatal(err)
	}
	got := cproducer.CommitChecks(b.CPtr())
	einval := -int(syscall.EINVAL)
	want := []int{einval, einval, einval, 0, einval, einval}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("commit checks = %v, want %v", got, want)
	}
	b.Close()
	var msgs [][]byte
	drainAll(t, b, func(m []byte) { msgs = append(msgs, append([]byte(nil), m...)) })
	if len(msgs) != 1 || string(msgs[0]) != "\x07\x07\x07\x07\x07\x07\x07\x07" {
		t.Errorf("delivered %q, want one message of eight 7s", msgs)
	}
}

// TestRetainAfterClose: C keeps a reference past the Go Bridge's life and
// gets -EPIPE, not freed memory.
func TestRetainAfterClose(t *testing.T) {
	b, err := bridge.New(4)
	if err != nil {
		t.Fatal(err)
	}
	p := b.CPtr()
	cproducer.Retain(p)
	b.Close()
	b = nil
	for i := 0; i < 3; i++ {
		runtimeGC()
	}
	if rc := cproducer.PushOne(p, []byte("x")); rc != -int(syscall.EPIPE) {
		t.Errorf("push on a retained, closed bridge = %d, want %d", rc, -int(syscall.EPIPE))
	}
	cproducer.Release(p)
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name     string
		capacity int
		opts     []bridge.Option
		wantText string
	}{
		{"capacity 0", 0, nil, "capacity 0"},
		{"capacity 1", 1, nil, "capacity 1"},
		{"capacity too big", bridge.MaxCapacity + 1, nil, "capacity 16777217"},
		{"max message 0", 8, []bridge.Option{bridge.WithMaxMessageSize(0)}, "max message size 0"},
		{"max message too big", 8, []bridge.Option{bridge.WithMaxMessageSize(bridge.MaxMessageLimit + 1)}, "max message size 1048577"},
		{"bad policy", 8, []bridge.Option{bridge.WithPolicy(bridge.Policy(9))}, "policy Policy(9)"},
		{"timeout zero", 8, []bridge.Option{bridge.WithBlockTimeout(0)}, "block timeout 0s"},
		{"timeout negative", 8, []bridge.Option{bridge.WithBlockTimeout(-time.Second)}, "block timeout -1s"},
		{"timeout without Block", 8, []bridge.Option{bridge.WithPolicy(bridge.Error), bridge.WithBlockTimeout(time.Second)}, "not Error"},
		{"empty name", 8, []bridge.Option{bridge.WithName("")}, "empty name"},
		{"nil option", 8, []bridge.Option{nil}, "nil option"},
		{"ring too big", 1 << 20, []bridge.Option{bridge.WithMaxMessageSize(4096)}, "more than the 1073741824-byte limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := bridge.New(tt.capacity, tt.opts...)
			if err == nil {
				b.Close()
				t.Fatal("New succeeded")
			}
			if !errors.Is(err, bridge.ErrInvalidConfig) || !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("New = %v; want ErrInvalidConfig naming %q", err, tt.wantText)
			}
			if !strings.HasPrefix(err.Error(), "cgoguard: ") {
				t.Errorf("error %q lacks the cgoguard: prefix", err)
			}
		})
	}
}

func TestSnapshot(t *testing.T) {
	b, err := bridge.New(8, bridge.WithName("snap-test"), bridge.WithPolicy(bridge.DropNewest))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		b.Push([]byte{byte(i)})
	}
	if _, err := b.Drain(context.Background(), func([]byte) {}); err != nil {
		t.Fatal(err)
	}
	find := func() (bridge.Info, bool) {
		for _, in := range bridge.Snapshot() {
			if in.Name == "snap-test" {
				return in, true
			}
		}
		return bridge.Info{}, false
	}
	in, ok := find()
	want := bridge.Info{Name: "snap-test", Capacity: 8, MaxMessageSize: bridge.DefaultMaxMessageSize, Policy: bridge.DropNewest,
		Stats: bridge.Stats{Pushed: 8, Delivered: 8, Dropped: 2}}
	if !ok || in != want {
		t.Errorf("Snapshot entry = %+v, %v; want %+v", in, ok, want)
	}
	b.Close()
	if _, ok := find(); ok {
		t.Error("closed bridge still listed")
	}
	d, err := bridge.New(2)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if !strings.HasPrefix(d.Name(), "bridge-") {
		t.Errorf("default name %q, want bridge-<n>", d.Name())
	}
}

// TestDropPoliciesUnderLoad runs four producers against a small ring with a
// live consumer: per producer, what arrives is in order with no duplicate,
// and pushed = delivered + evicted (DropOldest) or every refusal is counted.
func TestDropPoliciesUnderLoad(t *testing.T) {
	for _, policy := range []bridge.Policy{bridge.DropOldest, bridge.DropNewest, bridge.Error} {
		for _, mode := range []cproducer.Mode{cproducer.Mixed, cproducer.Batch} {
			name := policy.String()
			if mode == cproducer.Batch {
				name += "-batch"
			}
			t.Run(name, func(t *testing.T) {
				const threads, per = 4, 50_000
				b, err := bridge.New(256, bridge.WithPolicy(policy))
				if err != nil {
					t.Fatal(err)
				}
				run, err := cproducer.Start(b.CPtr(), cproducer.Config{Threads: threads, PerThread: per, Mode: mode, Batch: 16})
				if err != nil {
					t.Fatal(err)
				}
				var last [threads]int64
				for i := range last {
					last[i] = -1
				}
				var got [threads]uint64
				var bad error
				fn := func(msg []byte) {
					m, err := cproducer.Check(msg)
					if err != nil {
						bad = err
						return
					}
					if int64(m.Seq) <= last[m.Producer] {
						bad = fmt.Errorf("producer %d: seq %d after %d", m.Producer, m.Seq, last[m.Producer])
					}
					last[m.Producer] = int64(m.Seq)
					got[m.Producer]++
				}
				done := make(chan []cproducer.Result)
				go func() { done <- run.Wait() }()
				var res []cproducer.Result
			loop:
				for {
					select {
					case res = <-done:
						break loop
					default:
					}
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
					_, err := b.Drain(ctx, fn)
					cancel()
					if err != nil && !errors.Is(err, context.DeadlineExceeded) {
						t.Fatal(err)
					}
				}
				b.Close()
				drainAll(t, b, fn)
				if bad != nil {
					t.Fatal(bad)
				}
				var accepted, refused, delivered uint64
				for i, r := range res {
					accepted += r.Accepted
					delivered += got[i]
					for _, n := range r.Codes {
						refused += n
					}
					if r.Accepted+sum(r.Codes) != per {
						t.Errorf("producer %d: %d accepted + %v refused != %d", i, r.Accepted, r.Codes, per)
					}
				}
				st := b.Stats()
				t.Logf("stats %+v, refused %d", st, refused)
				if st.Pushed != accepted || st.Delivered != delivered {
					t.Errorf("stats %+v: want pushed %d, delivered %d", st, accepted, delivered)
				}
				switch policy {
				case bridge.DropOldest:
					if refused != 0 || st.Dropped != accepted-delivered {
						t.Errorf("DropOldest: refused %d, stats %+v: want 0 refused, dropped = pushed - delivered = %d",
							refused, st, accepted-delivered)
					}
				default:
					if accepted != delivered || st.Dropped != refused {
						t.Errorf("%v: accepted %d, delivered %d, refused %d, stats %+v: want accepted = delivered, dropped = refused",
							policy, accepted, delivered, refused, st)
					}
				}
			})
		}
	}
}

func sum(m map[syscall.Errno]uint64) uint64 {
	var n uint64
	for _, v := range m {
		n += v
	}
	return n
}

// TestCapacities runs producers against rings of several sizes, powers of
// two and not, tiny and large: nothing lost, duplicated or reordered.
func TestCapacities(t *testing.T) {
	tests := []struct {
		capacity int
		threads  int
		per      uint64
	}{
		{2, 2, 5_000},
		{3, 3, 5_000},
		{1000, 3, 100_000},
		{1 << 16, 2, 100_000},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.capacity), func(t *testing.T) {
			b, err := bridge.New(tt.capacity)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			run, err := cproducer.Start(b.CPtr(), cproducer.Config{Threads: tt.threads, PerThread: tt.per, Mode: cproducer.Mixed})
			if err != nil {
				t.Fatal(err)
			}
			c := newChecker(tt.threads)
			for c.total < uint64(tt.threads)*tt.per && c.err == nil {
				if _, err := b.Drain(context.Background(), c.add); err != nil {
					t.Fatal(err)
				}
			}
			if c.err != nil {
				t.Fatal(c.err)
			}
			run.Wait()
			if st := b.Stats(); st.Pushed != st.Delivered || st.Dropped != 0 {
				t.Errorf("stats %+v: want pushed = delivered, none dropped", st)
			}
		})
	}
}

// TestOpenReservationLetsBlockedProducersIn: with the oldest message an
// open reservation, Drain cannot deliver past it; a producer blocked for
// space still gets the slot Drain freed before it.
//
// Only the shared lane (WithLanes(0)) holds messages of several threads, so
// only there can one thread's reservation hold back another's push.
func TestOpenReservationLetsBlockedProducersIn(t *testing.T) {
	runtime.LockOSThread() // Push and ReserveOne share the lane either way; keep them on one thread
	defer runtime.UnlockOSThread()
	b, err := bridge.New(4, bridge.WithMaxMessageSize(32), bridge.WithLanes(0))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.Push([]byte("a"))
	r, err := cproducer.ReserveOne(b.CPtr(), 1, 'r')
	if err != nil {
		t.Fatal(err)
	}
	b.Push([]byte("c"))
	b.Push([]byte("d"))
	run, err := cproducer.Start(b.CPtr(), cproducer.Config{Threads: 1, PerThread: 1, Mode: cproducer.Flood, Size: 1})
	if err != nil {
		t.Fatal(err)
	}
	for b.Stats().FullWaits == 0 {
		time.Sleep(time.Millisecond)
	}
	var got []string
	fn := func(m []byte) { got = append(got, string(m)) }
	if n, err := b.Drain(context.Background(), fn); n != 1 || err != nil {
		t.Fatalf("Drain = %d, %v; want 1 (the message before the reservation)", n, err)
	}
	// Drain now waits behind the reservation; it must let the producer in.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := b.Drain(ctx, fn); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Drain = %v, want context.DeadlineExceeded", err)
	}
	if res := run.Wait(); res[0].Accepted != 1 {
		t.Fatalf("blocked producer: %+v, want 1 accepted", res[0])
	}
	if rc := cproducer.Commit(b.CPtr(), r); rc != 0 {
		t.Fatalf("commit = %d", rc)
	}
	for len(got) < 5 {
		if _, err := b.Drain(context.Background(), fn); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 5 || strings.Join(got[:4], "") != "arcd" || len(got[4]) != 1 {
		t.Errorf("delivered %q, want a r c d and the producer's message", got)
	}
}

// TestPushBatchArguments checks what cg_bridge_push_batch accepts and
// refuses: a batch stops before a too-long message, which the next call
// refuses alone; n = 0 and bad pointers; and the accepted prefix arrives
// in order, once.
func TestPushBatchArguments(t *testing.T) {
	b, err := bridge.New(8, bridge.WithMaxMessageSize(63))
	if err != nil {
		t.Fatal(err)
	}
	got := cproducer.BatchChecks(b.CPtr())
	want := []int{2, -int(syscall.EMSGSIZE), 1, 0, -int(syscall.EINVAL), -int(syscall.EINVAL)}
	names := []string{"batch of 4, third too long", "from the too-long one", "the last alone", "n = 0", "NULL bridge", "NULL arrays"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s: got %d, want %d", names[i], got[i], want[i])
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	var msgs []string
	drainAll(t, b, func(m []byte) { msgs = append(msgs, string(m)) })
	if strings.Join(msgs, ",") != "a,bb,ddd" {
		t.Errorf("delivered %q, want a, bb, ddd", msgs)
	}
	if st := b.Stats(); st.Pushed != 3 || st.Delivered != 3 || st.Dropped != 0 {
		t.Errorf("stats %+v: want pushed = delivered = 3, dropped 0", st)
	}
}

// TestBatchBlocksForSpace: batch producers bigger than the ring wait for
// space under Block and lose nothing.
func TestBatchBlocksForSpace(t *testing.T) {
	const threads, per = 3, 20_000
	b, err := bridge.New(5)
	if err != nil {
		t.Fatal(err)
	}
	run, err := cproducer.Start(b.CPtr(), cproducer.Config{Threads: threads, PerThread: per, Mode: cproducer.Batch, Batch: 64})
	if err != nil {
		t.Fatal(err)
	}
	c := newChecker(threads)
	for c.total < threads*per && c.err == nil {
		if _, err := b.Drain(context.Background(), c.add); err != nil {
			t.Fatal(err)
		}
	}
	if c.err != nil {
		t.Fatal(c.err)
	}
	for i, r := range run.Wait() {
		if r.Accepted != per || len(r.Codes) != 0 {
			t.Errorf("producer %d: accepted %d, errors %v; want %d, none", i, r.Accepted, r.Codes, per)
		}
	}
	b.Close()
	drainAll(t, b, c.add)
	if c.err != nil || c.total != threads*per {
		t.Errorf("after close: %v, total %d, want %d", c.err, c.total, threads*per)
	}
	if st := b.Stats(); st.Dropped != 0 || st.Delivered != threads*per {
		t.Errorf("stats %+v: want dropped 0, delivered %d", st, threads*per)
	}
}

// TestPushLengths pushes one message of every length from 0 to 40 bytes
// (the short ones take the inlined copy) and checks each arrives intact.
func TestPushLengths(t *testing.T) {
	runtime.LockOSThread() // one thread, one lane: the order of the pushes is kept
	defer runtime.UnlockOSThread()
	const most = 40
	b, err := bridge.New(64, bridge.WithMaxMessageSize(most))
	if err != nil {
		t.Fatal(err)
	}
	want := make([][]byte, 0, most+1)
	for n := 0; n <= most; n++ {
		m := make([]byte, n)
		for i := range m {
			m[i] = byte(n*7 + i + 1)
		}
		want = append(want, m)
		if rc := cproducer.PushOne(b.CPtr(), m); rc != 0 {
			t.Fatalf("push of %d bytes: %d", n, rc)
		}
	}
	b.Close()
	var got [][]byte
	drainAll(t, b, func(m []byte) { got = append(got, append([]byte(nil), m...)) })
	if len(got) != len(want) {
		t.Fatalf("delivered %d messages, want %d", len(got), len(want))
	}
	for i := range want {
		if string(got[i]) != string(want[i]) {
			t.Errorf("message %d: got % x, want % x", i, got[i], want[i])
		}
	}
}
