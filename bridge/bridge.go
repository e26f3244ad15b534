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
	"unsafe"
)

const (
	closedBit = uint64(1) << 63
	// claimBatch is how many ready messages the consumer claims with one
	// compare-and-swap of head. Claimed slots stay unavailable to producers
	// until delivered, so the batch stays small.
	claimBatch = 64
	// spinChecks is how often Drain re-checks an empty ring before it arms
	// the wakeup and sleeps (about 1 ns each, reading a line in its own
	// cache): long enough to ride out a producer's short pause without a
	// system call on either side, short enough not to burn a shared core.
	// runtime.Gosched in this loop cost more than it saved: it wakes other
	// threads through futex calls.
	spinChecks = 1000
	// spinAhead is how many messages Drain lets collect while it spins.
	spinAhead = 256
)

// waitInC selects the alternative wait that blocks in a cgo call. It exists
// to measure the two waits against each other (see BENCHMARKS.md); the
// netpoller wait is the one used.
var waitInC atomic.Bool

// ring is the consumer's view of the C ring: pointers into C memory, read
// and written with sync/atomic in the same protocol as ring.c.
type ring struct {
	head, tail, released       *uint64
	waiting, prodWaiting       *uint32
	closed                     *uint32
	dropped, fullWaits, wakeup *uint64
	slots                      unsafe.Pointer
	stride                     uintptr
	capacity, mask             uint64
}

func (r *ring) slot(pos uint64) unsafe.Pointer {
	var i uint64
	if r.mask != 0 {
		i = pos & r.mask
	} else {
		i = pos % r.capacity
	}
	return unsafe.Add(r.slots, uintptr(i)*r.stride)
}

func (r *ring) ready(pos uint64) bool {
	return atomic.LoadUint64((*uint64)(r.slot(pos))) == pos+1
}

// Bridge is a ring in C memory that C threads push messages into and one Go
// consumer drains. See the package documentation.
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

	// Consumer-only state (guarded by draining): the claimed range
	// [cur, end) not yet delivered, kept across a panicking callback, and
	// rel, the first claimed position not yet released.
	cur, end, rel uint64
	evbuf         [8]byte
}

type cleanupArg struct {
	c   *C.struct_cg_bridge
	efd *os.File
}

// New creates a bridge with room for capacity messages (2 to MaxCapacity)
// in C memory. Options set the maximum message size, the full policy, the
// Block bound and the name; see the With functions for formats and
// defaults. The bridge is listed by Snapshot until Close.
func New(capacity int, opts ...Option) (*Bridge, error) {
	cfg, err := newConfig(capacity, opts)
	if err != nil {
		return nil, err
	}
	if !cfg.nameSet {
		cfg.name = defaultName()
	}
	c, err := C.cg_bridge__new(C.uint64_t(cfg.capacity), C.uint32_t(cfg.maxMessage),
		C.int32_t(cfg.policy), C.int64_t(cfg.blockTimeout.Nanoseconds()))
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
			head:        (*uint64)(unsafe.Pointer(&c.head)),
			tail:        (*uint64)(unsafe.Pointer(&c.tail)),
			released:    (*uint64)(unsafe.Pointer(&c.released)),
			waiting:     (*uint32)(unsafe.Pointer(&c.waiting)),
			prodWaiting: (*uint32)(unsafe.Pointer(&c.prod_waiting)),
			closed:      (*uint32)(unsafe.Pointer(&c.closed)),
			dropped:     (*uint64)(unsafe.Pointer(&c.dropped)),
			fullWaits:   (*uint64)(unsafe.Pointer(&c.full_waits)),
			wakeup:      (*uint64)(unsafe.Pointer(&c.wakeups)),
			slots:       unsafe.Pointer(c.slots),
			stride:      uintptr(c.stride),
			capacity:    uint64(c.cap),
			mask:        uint64(c.mask),
		},
	}
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

// Push copies msg into the ring from Go, as cg_bridge_push does from C (one
// cgo call; under the Block policy it may wait in C for space). It returns
// nil, or ErrTooLarge, ErrClosed, ErrFull, ErrDropped or ErrTimeout, each
// also matching the C errno with errors.Is (syscall.EPIPE, ...).
func (b *Bridge) Push(msg []byte) error {
	var p unsafe.Pointer
	if len(msg) > 0 {
		p = unsafe.Pointer(&msg[0])
	}
	rc := int(C.cg_bridge_push(b.c, p, C.size_t(len(msg))))
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
// calls fn for every ready message in ring order (up to the capacity per
// call) and returns how many it delivered. msg points into C memory and is
// valid only during fn; copy what you keep. After Close, Drain keeps
// delivering the accepted messages, then returns ErrClosed. It returns
// ctx.Err() when ctx is done (checked before delivering), and ErrBusy when
// another Drain on b is running. If fn panics, the message it was given
// counts as delivered and the rest of the batch stays for the next Drain.
//
// While it waits, Drain parks its goroutine on the ring's eventfd in Go's
// netpoller: an idle bridge holds no OS thread.
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

// ahead is how many messages Drain lets collect before it takes them when
// it has caught up with the producers.
func (b *Bridge) ahead() uint64 {
	if b.r.capacity/2 < spinAhead {
		return b.r.capacity / 2
	}
	return spinAhead
}

// gather waits briefly, when Drain has caught up with the producers (some
// messages ready, fewer than a batch), for a batch to collect. Taking
// messages one by one right behind a producer costs more than twice as
// much per message: every line the producer writes is pulled away by the
// consumer's read before the producer is done with it.
func (b *Bridge) gather() {
	r := &b.r
	h := atomic.LoadUint64(r.head)
	last := h + b.ahead() - 1
	if !r.ready(h) || r.ready(last) {
		return
	}
	for i := 0; i < spinChecks && !r.ready(last); i++ {
		if b.finished() {
			return
		}
	}
}

// deliver hands ready messages to fn and releases their slots.
func (b *Bridge) deliver(fn func([]byte)) (n int) {
	r := &b.r
	defer func() {
		if b.cur > b.rel { // fn panicked: release what was delivered
			b.release(b.cur - b.rel)
		}
		if n > 0 {
			b.delivered.Add(uint64(n))
		}
	}()
	limit := int(r.capacity)
	for n < limit {
		if b.cur == b.end {
			h := atomic.LoadUint64(r.head)
			k := uint64(0)
			for k < claimBatch && r.ready(h+k) {
				k++
			}
			if k == 0 {
				break
			}
			if !atomic.CompareAndSwapUint64(r.head, h, h+k) {
				continue // a DropOldest producer evicted the oldest
			}
			b.cur, b.end, b.rel = h, h+k, h
		}
		for b.cur < b.end {
			s := r.slot(b.cur)
			l := *(*uint32)(unsafe.Add(s, 8))
			b.cur++ // before fn: a panicking fn's message counts as delivered
			n++
			fn(unsafe.Slice((*byte)(unsafe.Add(s, slotHeader)), l))
		}
		b.release(b.cur - b.rel)
	}
	return n
}

// release gives k delivered positions back to the producers, and wakes
// producers sleeping for space once the ring is at most half full. (Waking
// them as soon as any space freed up made the two sides trade a futex
// system call every batch whenever the producers were the faster side.) A
// sleeping producer needs no earlier wake: it sleeps only when the ring is
// full, so the consumer has messages to deliver until the ring is half
// empty, and releases them; if delivery stops short of that (an open
// reservation), wait wakes the producers before Drain sleeps.
func (b *Bridge) release(k uint64) {
	b.rel += k
	// A locked add: ordered before the load below, so a producer that
	// announced itself in prod_waiting is seen here, or sees the space.
	rel := atomic.AddUint64(b.r.released, k)
	if atomic.LoadUint32(b.r.prodWaiting) != 0 &&
		(atomic.LoadUint64(b.r.tail)&^closedBit)-rel <= b.r.capacity/2 {
		C.cg_bridge__wake_producers(b.c)
	}
}

// finished reports whether the bridge is closed and every accepted message
// has been delivered.
func (b *Bridge) finished() bool {
	if atomic.LoadUint32(b.r.closed) == 0 {
		return false // without reading tail, which producers keep writing
	}
	t := atomic.LoadUint64(b.r.tail)
	return t&closedBit != 0 && atomic.LoadUint64(b.r.head) == t&^closedBit && b.cur == b.end
}

// wakeable reports whether Drain has something to do without sleeping.
func (b *Bridge) wakeable() bool {
	return b.r.ready(atomic.LoadUint64(b.r.head)) || b.finished()
}

// wait sleeps until a producer publishes, Close is called, or ctx is done.
func (b *Bridge) wait(ctx context.Context) error {
	r := &b.r
	// Spin briefly before sleeping, watching the slot spinAhead positions
	// on rather than the next one: under load the producer then fills a
	// batch of lines undisturbed instead of having each line it writes
	// pulled away by the consumer's poll (which doubled the cost per
	// message here). Messages short of a batch wait at most the spin.
	ahead := b.ahead()
	for i := 0; i < spinChecks; i++ {
		// Both ends: a later message can be ready while the next one is
		// an open reservation, and then there is nothing to deliver.
		h := atomic.LoadUint64(r.head)
		if (r.ready(h+ahead-1) && r.ready(h)) || b.finished() {
			return nil
		}
	}
	// Producers asleep for space wait for the ring to be half empty; if
	// Drain is stuck before that (an uncommitted reservation holds back
	// delivery), let them have the space there is.
	if atomic.LoadUint32(r.prodWaiting) != 0 {
		C.cg_bridge__wake_producers(b.c)
	}
	// Announce the sleep, then re-check: a producer publishes and then
	// reads waiting (both seq_cst), so either it sees 1 and wakes us, or we
	// see its message here.
	atomic.StoreUint32(r.waiting, 1)
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

// Stats returns the bridge's counters. It is cheap (a few atomic loads)
// and safe to call at any time, also concurrently with producers and Drain.
func (b *Bridge) Stats() Stats {
	r := &b.r
	return Stats{
		Pushed:    atomic.LoadUint64(r.tail) &^ closedBit,
		Delivered: b.delivered.Load(),
		Dropped:   atomic.LoadUint64(r.dropped),
		FullWaits: atomic.LoadUint64(r.fullWaits),
		Wakeups:   atomic.LoadUint64(r.wakeup),
	}
}

func (b *Bridge) info() Info {
	return Info{
		Name:           b.cfg.name,
		Capacity:       b.cfg.capacity,
		MaxMessageSize: b.cfg.maxMessage,
		Policy:         b.cfg.policy,
		Stats:          b.Stats(),
	}
}
