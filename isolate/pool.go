//go:build cgo && linux

package isolate

/*
#cgo CFLAGS: -I${SRCDIR}/.. -I${SRCDIR}/../include -Wall -Wextra -Werror -O2 -g
#cgo nocallback cg_iso_wait
#cgo nocallback cg_iso_post
#cgo nocallback cg_iso_cancel
#cgo nocallback cg_iso_mark_dead
#cgo nocallback cg_iso_init
#include "isolate.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/arena"
	"github.com/cgoguard/cgoguard/internal/fault"
)

// Pool is a set of worker processes that run the C functions registered
// with Register, each one call at a time, with the arguments in an arena
// the pool and its workers share. It is the Isolated runner of a
// cgoguard.Module (Module), whose policies (breaker, bulkhead, metrics)
// every call goes through. A Pool is safe for concurrent use.
type Pool struct {
	module string
	o      options
	tab    *fnTable
	mod    *cgoguard.Module
	arena  *arena.Arena
	lo, hi uintptr // the arena's mapping, for argument checks
	ctl    []byte  // one slot page per worker
	files  []*os.File
	gates  *os.File // the failpoint gates the workers inherit; nil without package chaos

	mu       sync.Mutex
	idle     []*worker      // ready and not held, most recently used last
	waiters  []chan *worker // calls waiting for a worker, oldest first
	slots    []*slotState   // per serving position
	spares   []*worker      // started, ready, not yet serving
	failing  int            // positions whose last start failed
	inflight int            // calls holding (or waiting for) a worker
	closed   bool           // no new calls
	lastErr  *StartError    // the last failed start

	pages     chan int      // free slot pages
	done      chan struct{} // closed when the workers are to stop
	sup       sync.WaitGroup
	bg        sync.WaitGroup // reaping of replaced workers
	spareWake chan struct{}
	starter   chan func()
	restarts  [numReasons]atomicCounter

	closeOnce sync.Once
	closeErr  error
}

// slotState is one serving position of the pool.
type slotState struct {
	w       *worker // the current incarnation, nil while none serves
	failing bool
}

// worker is one incarnation of a worker process.
type worker struct {
	idx  int // serving position, -1 for a spare
	page int // slot page, also the worker's number (cg_isolate_worker)
	slot *C.cg_iso_slot
	cmd  *exec.Cmd
	pid  int
	seq  uint32 // last request posted; only the holder touches it
	out  *output

	wake   chan struct{} // something below changed (its supervisor looks)
	reaped chan struct{} // closed once the process is reaped and state is set

	// Guarded by p.mu.
	held     bool   // a call (or a grace wait) owns it
	exited   bool   // the process was reaped
	reason   string // why it is being replaced ("" while it serves)
	state    *os.ProcessState
	servedOK bool // a call finished without crashing
	serving  bool // it was ready and put into service
}

func (w *worker) notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Isolator returns a cgoguard.Isolator that starts a pool with opts for the
// module it is given: moving a library out of process is one option.
//
//	m, err := cgoguard.New("zlib", cgoguard.WithIsolation(isolate.Isolator(isolate.WithWorkers(4))),
//		cgoguard.WithBreaker(cgoguard.BreakerConfig{}))
//	pool, _ := isolate.PoolOf(m) // for pool.Arena()
//
// cgoguard.WithIsolation(isolate.WithWorkers(4)), the options alone, is the
// same. WithModule is ignored here: the module's options go to cgoguard.New.
func Isolator(opts ...Option) cgoguard.Isolator {
	return isolator{opts: opts}
}

type isolator struct{ opts []Option }

// Isolate starts the pool for m; cgoguard.New calls it.
func (i isolator) Isolate(m *cgoguard.Module) (cgoguard.Isolated, error) {
	o, err := buildOptions(i.opts)
	if err != nil {
		return nil, err
	}
	if len(o.module) > 0 {
		// The module exists already: its options were cgoguard.New's.
		return nil, errors.New("cgoguard: isolate: WithModule has no effect in an Isolator or cgoguard.WithIsolation; give those options to cgoguard.New beside WithIsolation")
	}
	return start(m, o)
}

// New starts a pool of workers for module and registers the module with
// cgoguard (so the pool's calls are counted, traced and guarded by its
// breaker and bulkhead like any module's; see WithModule). It returns when
// every worker is ready, or with the *StartError of the first that is not.
func New(module string, opts ...Option) (*Pool, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	mopts := append(append([]cgoguard.Option(nil), o.module...), cgoguard.WithIsolation(isolatorOptions{o}))
	m, err := cgoguard.New(module, mopts...)
	if err != nil {
		return nil, err
	}
	return m.Isolation().(*Pool), nil
}

type isolatorOptions struct{ o options }

func (i isolatorOptions) Isolate(m *cgoguard.Module) (cgoguard.Isolated, error) { return start(m, i.o) }

// PoolOf returns the pool running module m's calls, if m is isolated by
// this package.
func PoolOf(m *cgoguard.Module) (*Pool, bool) {
	if m == nil {
		return nil, false
	}
	p, ok := m.Isolation().(*Pool)
	return p, ok
}

var (
	poolsMu sync.Mutex
	pools   []*Pool
)

// Pools returns the open pools in the order they were created.
func Pools() []*Pool {
	poolsMu.Lock()
	defer poolsMu.Unlock()
	return append([]*Pool(nil), pools...)
}

// arenaWindow is where pools place their arenas: an address range that the
// kernel's default mmap placement, PIE executables, the Go heap and the
// race detector's shadow memory all leave alone on x86-64 and arm64, so
// that a fresh worker finds the same range free.
const (
	arenaWindowLo = 0x4000_0000_0000
	arenaWindowHi = 0x5000_0000_0000
	arenaAlign    = 2 << 20
)

func start(m *cgoguard.Module, o options) (*Pool, error) {
	if inWorker {
		return nil, ErrInWorker
	}
	name := m.Name()
	t := freeze()
	if len(t.names) == 0 {
		return nil, fmt.Errorf("cgoguard: isolate: module %q: no function registered (isolate.Register in init)", name)
	}
	p := &Pool{module: name, o: o, tab: t, mod: m, done: make(chan struct{}), starter: make(chan func()), gates: fault.File()}
	var err error
	for try := 0; ; try++ {
		addr := uintptr(arenaWindowLo + rand.Uint64N((arenaWindowHi-arenaWindowLo)/arenaAlign)*arenaAlign)
		p.arena, err = arena.New(o.arenaSize, arena.WithMemfd(), arena.WithName(arenaName(name)), arena.WithAddress(addr))
		if err == nil || !errors.Is(err, arena.ErrAddressInUse) || try == 7 {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("cgoguard: isolate: module %q: arena: %w", name, err)
	}
	p.lo = uintptr(p.arena.CPtr())
	p.hi = p.lo + uintptr(mappedSize(p.arena))
	af, err := p.arena.File()
	if err != nil {
		p.arena.Close()
		return nil, err
	}
	p.files = append(p.files, af)
	cfd, err := unix.MemfdCreate("cgoguard-isolate:"+name, unix.MFD_CLOEXEC)
	if err != nil {
		p.release()
		return nil, fmt.Errorf("cgoguard: isolate: module %q: memfd_create: %w", name, err)
	}
	cf := os.NewFile(uintptr(cfd), "memfd:cgoguard-isolate")
	p.files = append(p.files, cf)
	// Two pages per process the pool keeps, so a replacement can start
	// while the process it replaces is still being reaped.
	npages := 2 * (o.workers + o.spares)
	p.pages = make(chan int, npages)
	for i := 0; i < npages; i++ {
		p.pages <- i
	}
	p.spareWake = make(chan struct{}, 1)
	size := npages * C.CG_ISO_SLOT_SIZE
	if err := cf.Truncate(int64(size)); err != nil {
		p.release()
		return nil, fmt.Errorf("cgoguard: isolate: module %q: size the slots: %w", name, err)
	}
	p.ctl, err = unix.Mmap(cfd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		p.release()
		return nil, fmt.Errorf("cgoguard: isolate: module %q: map the slots: %w", name, err)
	}
	go p.runStarter()
	p.slots = make([]*slotState, o.workers)
	first := make(chan error, o.workers)
	for i := range p.slots {
		p.slots[i] = &slotState{}
		p.sup.Add(1)
		go p.supervise(i, first)
	}
	var firstErr error
	for range p.slots {
		if err := <-first; err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		p.CloseIsolated(context.Background())
		return nil, firstErr
	}
	if o.spares > 0 {
		p.sup.Add(1)
		go p.keepSpares()
	}
	poolsMu.Lock()
	pools = append(pools, p)
	poolsMu.Unlock()
	if p.gates != nil {
		// Failpoints set on the module act in its workers.
		fault.AddCarrier(p, p.faultWaiting)
	}
	return p, nil
}

// faultWaiting returns how many of the pool's calls wait at a failpoint's
// gate (delay, hang) in their workers now.
func (p *Pool) faultWaiting() int {
	n := 0
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.slots {
		if w := s.w; w != nil && w.held && !w.exited {
			n += int(atomic.LoadUint32((*uint32)(unsafe.Pointer(&w.slot.fault_waiting))))
		}
	}
	return n
}

func arenaName(module string) string {
	n := "isolate-" + module
	b := []byte(n)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '_'
		}
	}
	if len(b) > 63 {
		b = b[:63]
	}
	return string(b)
}

// mappedSize is the length of an arena's mapping: the header page and the
// data.
func mappedSize(a *arena.Arena) int64 { return 4096 + a.Stats().Capacity }

// runStarter starts the worker processes, all from this one locked thread:
// the parent-death signal fires when the thread that started a child
// exits, so that thread must live as long as the pool.
func (p *Pool) runStarter() {
	// Never unlocked: when the pool is closed the goroutine ends and takes
	// its thread along; every worker is gone by then.
	runtime.LockOSThread() //cgoguard:thread-exit workers die with the thread that started them (PR_SET_PDEATHSIG), so it outlives them
	for f := range p.starter {
		f()
	}
}

// release frees what start acquired before the workers ran.
func (p *Pool) release() {
	if p.ctl != nil {
		unix.Munmap(p.ctl)
		p.ctl = nil
	}
	for _, f := range p.files {
		f.Close()
	}
	p.files = nil
	if p.arena != nil {
		p.arena.Close()
	}
}

// Module returns the module the pool runs the calls of.
func (p *Pool) Module() *cgoguard.Module { return p.mod }

// Arena returns the pool's arena. Arguments of calls must lie in it, and
// so must everything they point to: the workers map it at the same address
// as this process, so pointers into it are valid on both sides. It stays
// valid until the pool is closed.
func (p *Pool) Arena() *arena.Arena { return p.arena }

// Call runs the C function registered as fn in a worker with the block
// arg of the pool's arena (the zero Ref passes NULL), through the module's
// policies: it returns the function's rc, a *cgoguard.CError for rc < 0, a
// *cgoguard.CrashError when the worker crashed (it is replaced), an error
// matching cgoguard.ErrTimeout when the call outlived its deadline (the
// worker is killed after the grace period and replaced), or the module's
// ErrOpen, ErrBusy, ErrClosed. The C function reads and writes the block in
// place.
func (p *Pool) Call(ctx context.Context, fn string, arg arena.Ref) (int, error) {
	i, ok := p.tab.byName[fn]
	if !ok {
		return 0, fmt.Errorf("%w: %q (module %q)", ErrNotRegistered, fn, p.module)
	}
	var ptr unsafe.Pointer
	if !arg.IsZero() {
		b, err := p.arena.Resolve(arg)
		if errors.Is(err, arena.ErrClosed) { // Close released the arena: the pool is closed
			return 0, fmt.Errorf("%w (module %q; argument of %s: %w)", cgoguard.ErrClosed, p.module, fn, err)
		}
		if err != nil {
			return 0, fmt.Errorf("cgoguard: isolate: module %q: argument of %s: %w", p.module, fn, err)
		}
		ptr = unsafe.Pointer(unsafe.SliceData(b))
	}
	return p.mod.Call(ctx, *(*unsafe.Pointer)(unsafe.Pointer(&p.tab.fns[i])), ptr)
}

// Close stops the pool's module and its workers: new calls fail with
// cgoguard.ErrClosed, calls in flight may finish for up to the close
// timeout (WithCloseTimeout), then every worker is stopped (killed if it
// does not exit at once) and the shared memory is released. Closing twice
// returns ErrClosed.
func (p *Pool) Close() error { return p.mod.Close() }

// CallIsolated implements cgoguard.Isolated; Module.Call reaches it.
//
// A call that a failpoint (package chaos) fired on arrives as the fault
// entry with a ticket: the ticket names the function and argument, and the
// fault goes to the worker with the call, which runs the action there.
func (p *Pool) CallIsolated(ctx context.Context, fn, arg unsafe.Pointer, deadline time.Time, trace *[16]byte) (int, bool, error) {
	var flt *C.cg_fault
	fi, ok := p.tab.byPtr[uintptr(fn)]
	if !ok && fn != nil && fn == fault.Entry() && arg != nil {
		t := (*C.cg_fault_ticket)(arg)
		if fi, ok = p.tab.byPtr[uintptr(t.fn)]; !ok {
			return 0, false, fmt.Errorf("%w: C function %#x, with a failpoint (module %q)", ErrNotRegistered, uintptr(t.fn), p.module)
		}
		arg, flt = t.arg, &t.f
	}
	if !ok {
		return 0, false, fmt.Errorf("%w: C function %p (module %q)", ErrNotRegistered, fn, p.module)
	}
	a := uintptr(arg)
	if arg != nil && (a < p.lo || a >= p.hi) {
		return 0, false, fmt.Errorf("%w: %p is outside %#x..%#x (module %q)", ErrArgument, arg, p.lo, p.hi, p.module)
	}
	if p.o.callTimeout > 0 {
		if d := time.Now().Add(p.o.callTimeout); deadline.IsZero() || d.Before(deadline) {
			deadline = d
		}
	}
	for {
		w, err := p.acquire(ctx, deadline)
		if err != nil {
			return 0, false, err
		}
		rc, retry, err := p.run(ctx, w, fi, a, deadline, trace, flt)
		if retry {
			continue // the worker died before it took the request (the fault goes along)
		}
		return rc, true, err
	}
}

// acquire takes an idle worker, waiting for one until ctx or deadline ends.
func (p *Pool) acquire(ctx context.Context, deadline time.Time) (*worker, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, fmt.Errorf("%w (module %q)", cgoguard.ErrClosed, p.module)
	}
	for n := len(p.idle); n > 0; n = len(p.idle) {
		w := p.idle[n-1]
		p.idle = p.idle[:n-1]
		if w.exited || w.reason != "" {
			continue
		}
		w.held = true
		p.inflight++
		p.mu.Unlock()
		return w, nil
	}
	if err := p.unavailable(); err != nil {
		p.mu.Unlock()
		return nil, err
	}
	ch := make(chan *worker, 1)
	p.waiters = append(p.waiters, ch)
	p.inflight++
	p.mu.Unlock()
	var timer <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		timer = t.C
	}
	var err error
	select {
	case w := <-ch:
		if w != nil {
			return w, nil
		}
		p.mu.Lock()
		if p.closed {
			err = fmt.Errorf("%w (module %q)", cgoguard.ErrClosed, p.module)
		} else {
			err = p.unavailable()
		}
		p.inflight--
		p.mu.Unlock()
		return nil, err
	case <-timer:
		err = fmt.Errorf("%w (module %q: no worker free before the deadline)", cgoguard.ErrTimeout, p.module)
	case <-ctx.Done():
		err = ctxError(ctx, p.module, "while waiting for a worker")
	}
	p.mu.Lock()
	for i, c := range p.waiters {
		if c == ch {
			p.waiters = append(p.waiters[:i:i], p.waiters[i+1:]...)
			p.inflight--
			p.mu.Unlock()
			return nil, err
		}
	}
	p.mu.Unlock()
	// A worker was handed over as we gave up: give it back.
	if w := <-ch; w != nil {
		p.putBack(w)
	} else {
		p.mu.Lock()
		p.inflight--
		p.mu.Unlock()
	}
	return nil, err
}

// unavailable returns the error for a pool none of whose workers can
// start. p.mu held.
func (p *Pool) unavailable() error {
	if p.failing < len(p.slots) || p.lastErr == nil {
		return nil
	}
	return fmt.Errorf("%w (module %q): %w", ErrUnavailable, p.module, p.lastErr)
}

// putBack ends a call that holds w and leaves w serving: it goes to the
// oldest waiting call, or to the idle list.
func (p *Pool) putBack(w *worker) {
	p.mu.Lock()
	w.held = false
	switch {
	case w.exited || w.reason != "":
		w.notify()
	case len(p.waiters) > 0 && !p.closed:
		ch := p.waiters[0]
		p.waiters = p.waiters[1:]
		w.held = true // the waiter's count was taken when it started waiting
		ch <- w
	default:
		p.idle = append(p.idle, w)
	}
	p.inflight--
	p.mu.Unlock()
}

// retire ends a call that holds w and has w replaced for reason.
func (p *Pool) retire(w *worker, reason string) {
	p.mu.Lock()
	w.held = false
	p.lost(w, reason)
	w.notify()
	p.inflight--
	p.mu.Unlock()
}

// lost records why w is taken out of service, once, and counts the
// replacement it calls for (none when the pool is closing). p.mu held.
func (p *Pool) lost(w *worker, reason string) {
	if w.reason != "" {
		return
	}
	w.reason = reason
	if !p.stopping() {
		p.restarts[reasonIndex(reason)].add(1)
	}
}

// canceller marks a request cancelled when its context ends, and never
// after the caller stopped waiting.
type canceller struct {
	mu   sync.Mutex
	done bool
	slot *C.cg_iso_slot
	seq  uint32
}

func (c *canceller) fire() {
	c.mu.Lock()
	if !c.done {
		C.cg_iso_cancel(c.slot, C.uint32_t(c.seq)) //cgoguard:ignore CG027 a compare-and-swap and a futex wake: it never blocks, and the lock keeps it off a slot its caller left
	}
	c.mu.Unlock()
}

func (c *canceller) finish() {
	c.mu.Lock()
	c.done = true
	c.mu.Unlock()
}

func nextSeq(s uint32) uint32 {
	s++
	if s >= C.CG_ISO_SEQ_MASK {
		s = 1
	}
	return s
}

// run makes one call on w, which the caller holds. retry reports that the
// worker died before it took the request, so the call may go to another.
func (p *Pool) run(ctx context.Context, w *worker, fi int, arg uintptr, deadline time.Time, trace *[16]byte, flt *C.cg_fault) (rc int, retry bool, err error) {
	w.seq = nextSeq(w.seq)
	seq := w.seq
	var hi, lo uint64
	has := 0
	if trace != nil {
		has = 1
		for i := 0; i < 8; i++ {
			hi = hi<<8 | uint64(trace[i])
			lo = lo<<8 | uint64(trace[8+i])
		}
	}
	C.cg_iso_post(w.slot, C.uint32_t(seq), C.CG_ISO_OP_CALL, C.uint32_t(fi), C.uint64_t(arg), C.int(has), C.uint64_t(hi), C.uint64_t(lo), flt)
	var cc *canceller
	if ctx.Done() != nil {
		cc = &canceller{slot: w.slot, seq: seq}
		stop := context.AfterFunc(ctx, cc.fire)
		defer stop()
	}
	timeout := int64(-1)
	if !deadline.IsZero() {
		timeout = max(int64(time.Until(deadline)), 1)
	}
	r := C.cg_iso_wait(w.slot, C.uint32_t(seq), C.int64_t(timeout), 0)
	if cc != nil {
		cc.finish()
	}
	switch r {
	case C.CG_ISO_W_DONE:
		return p.result(w)
	case C.CG_ISO_W_DEAD:
		if uint32(w.slot.started) != seq {
			p.retire(w, ReasonExit)
			return 0, true, nil
		}
		err := p.exitError(w)
		reason := ReasonExit
		if errors.As(err, new(*cgoguard.CrashError)) {
			reason = ReasonCrash
		}
		p.retire(w, reason)
		return 0, false, err
	}
	// Timed out or cancelled: the caller goes now; the worker gets the
	// grace period to finish, then is killed.
	go p.grace(w, seq)
	if r == C.CG_ISO_W_TIMEOUT {
		return 0, false, fmt.Errorf("%w (module %q: deadline passed in worker %d; it is killed unless it finishes within %v)", cgoguard.ErrTimeout, p.module, w.page, p.o.killGrace)
	}
	return 0, false, ctxError(ctx, p.module, "in a worker")
}

// result reads a completed call's result from w's slot.
func (p *Pool) result(w *worker) (int, bool, error) {
	s := w.slot
	rc := int(s.rc)
	switch s.kind {
	case C.CG_ISO_RET:
		p.served(w)
		return rc, false, nil
	case C.CG_ISO_ERROR:
		ce := &cgoguard.CError{Module: p.module, Code: int(s.err_code), Errno: syscall.Errno(s.err_errno), Message: boundedString(s.msg[:])}
		p.served(w)
		return rc, false, ce
	case C.CG_ISO_CRASH:
		ce := p.crashError(w)
		p.retire(w, ReasonCrash)
		return 0, false, ce
	case C.CG_ISO_BADARG:
		p.served(w)
		return 0, false, fmt.Errorf("%w: the worker's mapping does not hold it (module %q)", ErrArgument, p.module)
	case C.CG_ISO_BADFAULT:
		p.served(w)
		return 0, false, fmt.Errorf("cgoguard: isolate: module %q: worker %d has no fault entry for the failpoint the call carries", p.module, w.page)
	}
	p.retire(w, ReasonExit)
	return 0, false, fmt.Errorf("cgoguard: isolate: module %q: worker %d answered kind %d (function table mismatch?)", p.module, w.page, int(s.kind))
}

func (p *Pool) served(w *worker) {
	p.mu.Lock()
	w.servedOK = true
	p.mu.Unlock()
	p.putBack(w)
}

// grace waits the kill grace for a call its caller gave up on; then w
// serves again, or is replaced.
func (p *Pool) grace(w *worker, seq uint32) {
	r := C.cg_iso_wait(w.slot, C.uint32_t(seq), C.int64_t(p.o.killGrace), 1)
	switch {
	case r == C.CG_ISO_W_DONE && (w.slot.kind == C.CG_ISO_RET || w.slot.kind == C.CG_ISO_ERROR):
		p.served(w)
	case r == C.CG_ISO_W_DONE && w.slot.kind == C.CG_ISO_CRASH:
		p.retire(w, ReasonCrash)
	default:
		p.retire(w, ReasonTimeout)
	}
}

func ctxError(ctx context.Context, module, where string) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w (module %q %s: %w)", cgoguard.ErrTimeout, module, where, ctx.Err())
	}
	return fmt.Errorf("cgoguard: module %q: call abandoned %s: %w", module, where, context.Cause(ctx))
}

// crashError builds the CrashError of the crash w reported. w is still
// alive (it waits to be killed), so its memory map can be read to name the
// frames.
func (p *Pool) crashError(w *worker) *cgoguard.CrashError {
	s := w.slot
	ce := &cgoguard.CrashError{
		Module: p.module,
		Signal: syscall.Signal(s.signo),
		Code:   int(s.si_code),
		Addr:   uintptr(s.addr),
		PC:     uintptr(s.pc),
	}
	n := min(max(int(s.nframes), 0), C.CG_ISO_FRAMES)
	pcs := make([]uintptr, n)
	for i := range pcs {
		pcs[i] = uintptr(s.frames[i])
	}
	ce.Frames = workerFrames(w.pid, pcs)
	// The frames end where the trampoline called the function, as for a
	// crash in this process; the worker's loop below is no news.
	for i, f := range ce.Frames {
		if f.Function == "cg_call_fast" || f.Function == "cg_call" {
			ce.Frames = ce.Frames[:i]
			break
		}
	}
	return ce
}

// exitError describes w, which ended during a call without a report.
func (p *Pool) exitError(w *worker) error {
	<-w.reaped
	select {
	case <-w.out.done:
	case <-time.After(50 * time.Millisecond):
	}
	p.mu.Lock()
	st := w.state
	p.mu.Unlock()
	e := &ExitError{Module: p.module, Worker: w.page, PID: w.pid, State: st, Stderr: w.out.String()}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		e.Crash = &cgoguard.CrashError{Module: p.module, Signal: ws.Signal()}
	}
	return e
}

// boundedString copies a C string from memory a worker wrote, never past
// the buffer: the worker is not trusted to have terminated it.
func boundedString(b []C.char) string {
	n := 0
	for n < len(b) && b[n] != 0 {
		n++
	}
	return string(unsafe.Slice((*byte)(unsafe.Pointer(&b[0])), n))
}

// Stats returns a snapshot of the pool's workers and restarts.
func (p *Pool) Stats() Stats {
	st := Stats{Module: p.module, Workers: len(p.slots), Restarts: map[string]uint64{}}
	for i, r := range Reasons {
		st.Restarts[r] = p.restarts[i].load()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.slots {
		w := s.w
		switch {
		case w != nil && w.serving && !w.exited && w.reason == "":
			if w.held {
				st.Busy++
			} else {
				st.Idle++
			}
			st.PIDs = append(st.PIDs, w.pid)
		case s.failing:
			st.Failing++
		default:
			st.Starting++
		}
	}
	st.Spares = len(p.spares)
	for _, w := range p.spares {
		if !w.exited {
			st.PIDs = append(st.PIDs, w.pid)
		}
	}
	if p.lastErr != nil {
		st.LastStartError = p.lastErr.Error()
	}
	return st
}

// Ready returns nil while the pool can serve, and an error matching
// ErrUnavailable (wrapping the last *StartError) while none of its workers
// can start, or ErrClosed after Close.
func (p *Pool) Ready() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return fmt.Errorf("%w (module %q)", cgoguard.ErrClosed, p.module)
	}
	return p.unavailable()
}

// Restarts returns the number of worker replacements for reason (one of
// Reasons).
func (p *Pool) Restarts(reason string) uint64 {
	for i, r := range Reasons {
		if r == reason {
			return p.restarts[i].load()
		}
	}
	return 0
}
