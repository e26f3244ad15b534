//go:build cgo

package bridge

/*
#cgo CFLAGS: -I${SRCDIR}/../include -Wall -Wextra -Werror
#include <errno.h>
#include "ring.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

const (
	closedBit = uint64(1) << 63
	// maxBatch is the most messages the consumer delivers from a lane
	// before it releases them to the producer (one locked add), and under
	// DropOldest claims with one compare-and-swap of head. Taken slots stay
	// unavailable to producers until released, so a batch is at most half
	// the lane.
	maxBatch = 256
	// spinChecks is how often gather re-checks a lane for a batch to
	// collect (about 1 ns each, reading a line in its own cache).
	spinChecks = 1000
	// spinAhead is how many messages Drain lets collect while it spins.
	spinAhead = 256
	// spinBudget is how long wait spins on empty lanes before it arms the
	// wakeup and sleeps. Going to sleep costs a membarrier(2) here and an
	// eventfd write in the producer that finds the consumer asleep, so a
	// consumer that keeps up with steady producers should not sleep in
	// the gaps between their messages; a longer spin only burns a shared
	// core when the producers are idle. runtime.Gosched in this loop cost
	// more than it saved: it wakes other threads through futex calls.
	spinBudget = 20 * time.Microsecond
)

// waitInC selects the alternative wait that blocks in a cgo call. It exists
// to measure the two waits against each other (see BENCHMARKS.md); the
// netpoller wait is the one used.
var waitInC atomic.Bool

// lane is the consumer's view of one C lane: pointers into C memory, read
// and written with sync/atomic in the protocol of ring.c, and the
// consumer's own state for the lane.
type lane struct {
	c                    *C.struct_cg_bridge_lane
	tail, head, released *uint64
	prodWaiting          *uint32
	slots                unsafe.Pointer

	// Consumer-only state (guarded by draining): the claimed range
	// [cur, end) not yet delivered, kept across a panicking callback, and
	// rel, the first claimed position not yet released. When the consumer
	// does not claim (see Bridge.claims), cur == end == head.
	cur, end, rel uint64
}

// ring holds what every lane shares: the geometry and the bridge's words.
type ring struct {
	waiting, closed, nlanes, sealed *uint32
	dropped, fullWaits, wakeup      *uint64
	lanes                           []*C.struct_cg_bridge_lane // the C array, max lanes + 1 long
	stride                          uintptr
	capacity, mask                  uint64
}

func (r *ring) slot(l *lane, pos uint64) unsafe.Pointer {
	var i uint64
	if r.mask != 0 {
		i = pos & r.mask
	} else {
		i = pos % r.capacity
	}
	return unsafe.Add(l.slots, uintptr(i)*r.stride)
}

func (r *ring) ready(l *lane, pos uint64) bool {
	return atomic.LoadUint64((*uint64)(r.slot(l, pos))) == pos+1
}

// cLane returns the C lane i, or nil if it is not published yet.
func (r *ring) cLane(i int) *C.struct_cg_bridge_lane {
	return (*C.struct_cg_bridge_lane)(atomic.LoadPointer((*unsafe.Pointer)(unsafe.Pointer(&r.lanes[i]))))
}

// Bridge is a set of rings in C memory that C threads push messages into
// and one Go consumer drains. See the package documentation.
type Bridge struct {
	c    *C.struct_cg_bridge
	r    ring
	cfg  config
	efd  *os.File // a dup of the ring's eventfd, registered with the netpoller
	rc   syscall.RawConn
	read func(fd uintptr) bool

	delivered atomic.Uint64
	draining  atomic.Bool
	closeOnce sync.Once

	// claims: producers may move head too (DropOldest), so the consumer
	// claims a batch before delivering it. batch: see maxBatch.
	claims bool
	batch  int

	// Consumer-only state (guarded by draining): the lanes seen so far, and
	// the lane the next delivery pass starts with.
	lanes []*lane
	next  int
	evbuf [8]byte
}

type cleanupArg struct {
	c   *C.struct_cg_bridge
	efd *os.File
}

// New creates a bridge with room for capacity messages (2 to MaxCapacity)
// per lane in C memory. Options set the maximum message size, the full
// policy, the Block bound, the number of per-thread lanes and the name;
// see the With functions for formats and defaults. The bridge is listed by
// Snapshot until Close.
func New(capacity int, opts ...Option) (*Bridge, error) {
	cfg, err := newConfig(capacity, opts)
	if err != nil {
		return nil, err
	}
	if !cfg.nameSet {
		cfg.name = defaultName()
	}
	c, err := C.cg_bridge__new(C.uint64_t(cfg.capacity), C.uint32_t(cfg.maxMessage),
		C.int32_t(cfg.policy), C.int64_t(cfg.blockTimeout.Nanoseconds()), C.uint32_t(cfg.lanes))
	if c == nil {
		return nil, fmt.Errorf("cgoguard: bridge %q: allocating the ring: %w", cfg.name, err)
	}
	fd, err := C.cg_bridge__dup_efd(c)
	if fd < 0 {
		C.cg_bridge_release(c)
		return nil, fmt.Errorf("cgoguard: bridge %q: dup eventfd: %w", cfg.name, err)
	}
	f := os.NewFile(uintptr(fd), "cgoguard-bridge-"+cfg.name)
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		C.cg_bridge_release(c)
		return nil, fmt.Errorf("cgoguard: bridge %q: eventfd: %w", cfg.name, err)
	}
	b := &Bridge{
		c:   c,
		cfg: cfg,
		efd: f,
		rc:  rc,
		r: ring{
			waiting:   (*uint32)(unsafe.Pointer(&c.waiting)),
			closed:    (*uint32)(unsafe.Pointer(&c.closed)),
			nlanes:    (*uint32)(unsafe.Pointer(&c.nlanes)),
			sealed:    (*uint32)(unsafe.Pointer(&c.sealed)),
			dropped:   (*uint64)(unsafe.Pointer(&c.dropped)),
			fullWaits: (*uint64)(unsafe.Pointer(&c.full_waits)),
			wakeup:    (*uint64)(unsafe.Pointer(&c.wakeups)),
			lanes:     unsafe.Slice(c.lanes, int(c.max_lanes)+1),
			stride:    uintptr(c.stride),
			capacity:  uint64(c.cap),
			mask:      uint64(c.mask),
		},
	}
	b.claims = cfg.policy == DropOldest
	b.batch = min(maxBatch, max(1, cfg.capacity/2))
	b.read = b.readEvent
	// The C memory lives until the Bridge is unreachable (it cannot be
	// before Close: the registry holds it) and C holds no reference.
	runtime.AddCleanup(b, func(a cleanupArg) {
		a.efd.Close()
		C.cg_bridge_release(a.c)
	}, cleanupArg{c: c, efd: f})
	register(b)
	return b, nil
}

// CPtr returns the cg_bridge * to hand to C code, which pushes with
// cg_bridge_push or cg_bridge_reserve/cg_bridge_commit. The pointer is
// valid while b is reachable; C code that may outlive b takes a reference
// with cg_bridge_retain.
func (b *Bridge) CPtr() unsafe.Pointer { return unsafe.Pointer(b.c) }

// Name returns the bridge's name (WithName).
func (b *Bridge) Name() string { return b.cfg.name }

// Push copies msg into the bridge from Go, as cg_bridge_push does from C
// (one cgo call; under the Block policy it may wait in C for space). Pushes
// from Go go through the shared lane, so the pushes of a goroutine arrive in
// order whatever threads it runs on. It returns nil, or ErrTooLarge,
// ErrClosed, ErrFull, ErrDropped or ErrTimeout, each also matching the C
// errno with errors.Is (syscall.EPIPE, ...).
func (b *Bridge) Push(msg []byte) error {
	var p unsafe.Pointer
	if len(msg) > 0 {
		p = unsafe.Pointer(&msg[0])
	}
	rc := int(C.cg_bridge__push_shared(b.c, p, C.size_t(len(msg))))
	runtime.KeepAlive(b) // its cleanup frees b.c
	return pushError(rc)
}

func pushError(rc int) error {
	if rc == 0 {
		return nil
	}
	e := syscall.Errno(-rc)
	var s error
	switch e {
	case syscall.EMSGSIZE:
		s = ErrTooLarge
	case syscall.EPIPE:
		s = ErrClosed
	case syscall.EAGAIN:
		s = ErrFull
	case syscall.ENOBUFS:
		s = ErrDropped
	case syscall.ETIMEDOUT:
		s = ErrTimeout
	default:
		return fmt.Errorf("cgoguard: bridge push: %w", e)
	}
	return fmt.Errorf("%w (%w)", s, e)
}

// Drain waits until at least one message is ready or ctx is done, then
// calls fn for every ready message and returns how many it delivered: the
// lanes in turn, each in its order, up to one ring's worth per lane per
// call. msg points into C memory and is valid only during fn; copy what
// you keep. After Close, Drain keeps delivering the accepted messages,
// then returns ErrClosed. It returns ctx.Err() when ctx is done (checked
// before delivering), and ErrBusy when another Drain on b is running. If
// fn panics, the message it was given counts as delivered and the rest
// stay for the next Drain.
//
// While it waits, Drain parks its goroutine on the bridge's eventfd in
// Go's netpoller: an idle bridge holds no OS thread.
func (b *Bridge) Drain(ctx context.Context, fn func(msg []byte)) (int, error) {
	if fn == nil {
		return 0, errors.New("cgoguard: bridge drain: nil callback")
	}
	if !b.draining.CompareAndSwap(false, true) {
		return 0, ErrBusy
	}
	defer b.draining.Store(false)
	woken := false
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		b.refresh()
		if !woken {
			b.gather()
		}
		if n := b.deliver(fn); n > 0 {
			return n, nil
		}
		if b.finished() {
			return 0, ErrClosed
		}
		if err := b.wait(ctx); err != nil {
			return 0, err
		}
		woken = true
	}
}

// refresh adds the lanes registered since the last look to b.lanes.
func (b *Bridge) refresh() {
	n := int(atomic.LoadUint32(b.r.nlanes))
	for i := len(b.lanes); i < n; i++ {
		c := b.r.cLane(i)
		b.lanes = append(b.lanes, &lane{
			c:           c,
			tail:        (*uint64)(unsafe.Pointer(&c.tail)),
			head:        (*uint64)(unsafe.Pointer(&c.head)),
			released:    (*uint64)(unsafe.Pointer(&c.released)),
			prodWaiting: (*uint32)(unsafe.Pointer(&c.prod_waiting)),
			slots:       unsafe.Pointer(c.slots),
		})
	}
}

// ahead is how many messages Drain lets collect before it takes them when
// it has caught up with the producers.
func (b *Bridge) ahead() uint64 {
	if b.r.capacity/2 < spinAhead {
		return b.r.capacity / 2
	}
	return spinAhead
}

// gather waits briefly, when Drain has caught up with the producers (some
// messages ready, fewer than a batch in every lane), for a batch to
// collect. Taking messages one by one right behind a producer costs more
// than twice as much per message: every line the producer writes is pulled
// away by the consumer's read before the producer is done with it.
func (b *Bridge) gather() {
	r := &b.r
	ahead := b.ahead()
	var wait *lane
	var last uint64
	for _, l := range b.lanes {
		if l.cur < l.end {
			return
		}
		h := atomic.LoadUint64(l.head)
		if !r.ready(l, h) {
			continue
		}
		if r.ready(l, h+ahead-1) {
			return // a full batch is waiting somewhere
		}
		if wait == nil {
			wait, last = l, h+ahead-1
		}
	}
	if wait == nil {
		return
	}
	for i := 0; i < spinChecks && !r.ready(wait, last); i++ {
		if b.finished() {
			return
		}
	}
}

// deliver hands ready messages to fn, lane by lane in batches, and
// releases their slots.
func (b *Bridge) deliver(fn func([]byte)) (n int) {
	var cur *lane
	defer func() {
		if cur != nil && cur.cur > cur.rel { // fn panicked: release what was delivered
			if !b.claims {
				atomic.StoreUint64(cur.head, cur.cur)
			}
			n += int(cur.cur - cur.rel)
			b.release(cur, cur.cur-cur.rel)
		}
		if n > 0 {
			b.delivered.Add(uint64(n))
		}
	}()
	nl := len(b.lanes)
	limit := int(b.r.capacity) * nl
	for progress := true; progress && n < limit; {
		progress = false
		for i := 0; i < nl && n < limit; i++ {
			l := b.lanes[(b.next+i)%nl]
			cur = l
			k := 0
			if b.claims || l.cur < l.end {
				k = b.deliverClaimed(l, fn)
			} else {
				k = b.deliverOwn(l, fn, min(b.batch, limit-n))
			}
			cur = nil
			if k > 0 {
				n += k
				progress = true
			}
		}
		b.next++
	}
	return n
}

// deliverOwn delivers up to max ready messages of lane l when the
// consumer is the only writer of head (every policy but DropOldest): it
// walks the slots from head while they are ready, then publishes head and
// releases them, with no claim first.
func (b *Bridge) deliverOwn(l *lane, fn func([]byte), max int) int {
	r := &b.r
	h := l.cur // == head: only the consumer moves it under these policies
	s := r.slot(l, h)
	end := unsafe.Add(l.slots, uintptr(r.capacity)*r.stride)
	k := 0
	for k < max && atomic.LoadUint64((*uint64)(s)) == h+1 {
		ln := *(*uint32)(unsafe.Add(s, 8))
		h++
		l.cur, l.end = h, h // before fn: a panicking fn's message counts as delivered
		k++
		fn(unsafe.Slice((*byte)(unsafe.Add(s, slotHeader)), ln))
		if s = unsafe.Add(s, r.stride); s == end {
			s = l.slots
		}
	}
	if k > 0 {
		atomic.StoreUint64(l.head, h)
		b.release(l, uint64(k))
	}
	return k
}

// deliverClaimed delivers the rest of a batch claimed earlier (left by a
// panicking fn), or, under DropOldest, claims the ready messages at head
// with a compare-and-swap first: a producer may evict the oldest message,
// and must not take one the consumer is delivering.
func (b *Bridge) deliverClaimed(l *lane, fn func([]byte)) int {
	r := &b.r
	if l.cur == l.end {
		h := atomic.LoadUint64(l.head)
		k := uint64(0)
		for k < uint64(b.batch) && r.ready(l, h+k) {
			k++
		}
		if k == 0 || !atomic.CompareAndSwapUint64(l.head, h, h+k) {
			return 0 // none ready, or a producer evicted the oldest: next pass
		}
		l.cur, l.end, l.rel = h, h+k, h
	}
	k := 0
	for l.cur < l.end {
		s := r.slot(l, l.cur)
		ln := *(*uint32)(unsafe.Add(s, 8))
		l.cur++ // before fn: a panicking fn's message counts as delivered
		k++
		fn(unsafe.Slice((*byte)(unsafe.Add(s, slotHeader)), ln))
	}
	b.release(l, l.cur-l.rel)
	return k
}

// release gives k delivered positions of lane l back to its producer, and
// wakes producers sleeping for space once the lane is at most half full.
// (Waking them as soon as any space freed up made the two sides trade a
// futex system call every batch whenever the producers were the faster
// side.) A sleeping producer needs no earlier wake: it sleeps only when the
// lane is full, so the consumer has messages to deliver until the lane is
// half empty, and releases them; if delivery stops short of that (an open
// reservation), wait wakes the producers before Drain sleeps.
func (b *Bridge) release(l *lane, k uint64) {
	l.rel += k
	// A locked add: ordered before the load below, so a producer that
	// announced itself in prod_waiting is seen here, or sees the space.
	rel := atomic.AddUint64(l.released, k)
	if atomic.LoadUint32(l.prodWaiting) != 0 &&
		(atomic.LoadUint64(l.tail)&^closedBit)-rel <= b.r.capacity/2 {
		C.cg_bridge__wake_producers(b.c, l.c)
	}
}

// finished reports whether the bridge is closed and every accepted message
// has been delivered.
func (b *Bridge) finished() bool {
	// sealed, not closed: once it is set, every push that saw the bridge
	// open has made its claim visible (see ring.c, "Memory ordering").
	if atomic.LoadUint32(b.r.sealed) == 0 {
		return false // without reading the tails, which producers keep writing
	}
	b.refresh() // no lane is added after Close
	for _, l := range b.lanes {
		if l.cur != l.end || atomic.LoadUint64(l.head) != atomic.LoadUint64(l.tail)&^closedBit {
			return false
		}
	}
	return true
}

// wakeable reports whether Drain has something to do without sleeping.
func (b *Bridge) wakeable() bool {
	for _, l := range b.lanes {
		if l.cur < l.end || b.r.ready(l, atomic.LoadUint64(l.head)) {
			return true
		}
	}
	return b.finished()
}

// wait sleeps until a producer publishes, Close is called, or ctx is done.
func (b *Bridge) wait(ctx context.Context) error {
	r := &b.r
	// Spin before sleeping, watching the slot spinAhead positions on in
	// each lane rather than the next one: under load the producer then
	// fills a batch of lines undisturbed instead of having each line it
	// writes pulled away by the consumer's poll (which doubled the cost per
	// message here). Messages short of a batch wait at most the spin.
	ahead := b.ahead()
	var start time.Time
	for i := 0; ; i++ {
		for _, l := range b.lanes {
			// Both ends: a later message can be ready while the next one
			// is an open reservation, and then there is nothing to deliver.
			h := atomic.LoadUint64(l.head)
			if r.ready(l, h+ahead-1) && r.ready(l, h) {
				return nil
			}
		}
		if b.finished() {
			return nil
		}
		if i&63 == 0 {
			if i == 0 {
				start = time.Now()
			} else if time.Since(start) > spinBudget {
				break
			}
			b.refresh()
		}
	}
	// Producers asleep for space wait for their lane to be half empty; if
	// Drain is stuck before that (an uncommitted reservation holds back
	// delivery), let them have the space there is.
	for _, l := range b.lanes {
		if atomic.LoadUint32(l.prodWaiting) != 0 {
			C.cg_bridge__wake_producers(b.c, l.c) //cgoguard:ignore CG028 runs only for a lane whose producer sleeps, once per Drain sleep, never per event
		}
	}
	// Announce the sleep, then re-check. Per-thread lanes publish with no
	// fence, so the membarrier makes every producer's publish visible here
	// or its later read of waiting see 1 (ring.c, "Memory ordering"); the
	// shared lane's publish is sequentially consistent and needs none. A
	// lane registered after the load of nlanes sees waiting == 1.
	atomic.StoreUint32(r.waiting, 1)
	if atomic.LoadUint32(r.nlanes) > 1 {
		C.cg_bridge__barrier()
	}
	b.refresh()
	if b.wakeable() {
		atomic.StoreUint32(r.waiting, 0)
		return nil
	}
	var stop func() bool
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, b.kick)
	}
	var err error
	if waitInC.Load() {
		C.cg_bridge__wait_in_c(b.c)
	} else {
		err = b.rc.Read(b.read)
	}
	if stop != nil {
		stop()
	}
	atomic.StoreUint32(r.waiting, 0)
	if err != nil {
		return fmt.Errorf("cgoguard: bridge %q: waiting on eventfd: %w", b.cfg.name, err)
	}
	return nil
}

// readEvent consumes the eventfd counter; false parks the goroutine in the
// netpoller until the eventfd is readable.
func (b *Bridge) readEvent(fd uintptr) bool {
	_, err := syscall.Read(int(fd), b.evbuf[:])
	return err != syscall.EAGAIN
}

// kick wakes a sleeping Drain (ctx done).
func (b *Bridge) kick() {
	one := [8]byte{1}
	if _, err := b.efd.Write(one[:]); err != nil {
		// The eventfd only refuses a write when its counter is near 2^64,
		// and then it is readable already.
		return
	}
}

// Close closes the bridge: from now on every push returns -EPIPE (a
// producer blocked for space wakes and gets -EPIPE too), a sleeping Drain
// wakes, and Drain delivers the messages accepted before Close (including
// reservations committed after it) and then returns ErrClosed. Close
// removes the bridge from Snapshot. A second Close returns ErrClosed.
func (b *Bridge) Close() error {
	first := false
	b.closeOnce.Do(func() {
		first = true
		C.cg_bridge__close(b.c)
		unregister(b)
	})
	if !first {
		return ErrClosed
	}
	return nil
}

// Stats returns the bridge's counters. It is cheap (a few atomic loads
// per lane) and safe to call at any time, also concurrently with producers
// and Drain.
func (b *Bridge) Stats() Stats {
	r := &b.r
	var pushed uint64
	n := int(atomic.LoadUint32(r.nlanes))
	for i := 0; i < n; i++ {
		if c := r.cLane(i); c != nil {
			pushed += atomic.LoadUint64((*uint64)(unsafe.Pointer(&c.tail))) &^ closedBit
		}
	}
	return Stats{
		Pushed:    pushed,
		Delivered: b.delivered.Load(),
		Dropped:   atomic.LoadUint64(r.dropped),
		FullWaits: atomic.LoadUint64(r.fullWaits),
		Wakeups:   atomic.LoadUint64(r.wakeup),
	}
}

// Lanes returns how many per-thread lanes C threads have registered so far
// (at most WithLanes); pushes beyond them share one lane.
func (b *Bridge) Lanes() int { return int(atomic.LoadUint32(b.r.nlanes)) - 1 }

// LanesSupported reports whether this system gives C threads their own
// lanes: it needs membarrier(2) with MEMBARRIER_CMD_PRIVATE_EXPEDITED
// (Linux 4.14). Without it every push takes the shared lane.
func LanesSupported() bool { return C.cg_bridge__lanes_supported() != 0 }

func (b *Bridge) info() Info {
	return Info{
		Name:           b.cfg.name,
		Capacity:       b.cfg.capacity,
		MaxMessageSize: b.cfg.maxMessage,
		Policy:         b.cfg.policy,
		Stats:          b.Stats(),
	}
}
