package cgoguard

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// State is a module's health as its circuit breaker and crash policy see it.
//
// The constants keep the circuit breaker's names (a closed breaker lets
// calls through); String names them for a person reading a dashboard:
// "serving", "breaker_open", "breaker_half_open", "quarantined", and
// "closed" only for a module that was closed.
type State int32

// The states of a module.
const (
	// Closed: the breaker is closed and calls run: the module is healthy.
	// String returns "serving".
	Closed State = iota
	// Open: the breaker tripped; calls fail with ErrOpen until the cool-down
	// ends. String returns "breaker_open".
	Open
	// HalfOpen: after the cool-down, a few probe calls run to decide.
	// String returns "breaker_half_open".
	HalfOpen
	// Quarantined: a call crashed; calls fail with ErrQuarantined until Reset.
	// String returns "quarantined".
	Quarantined
	// Stopped: Close (or Shutdown) was called; calls fail with ErrClosed.
	// String returns "closed".
	Stopped
)

// String returns the state's name: serving, breaker_open,
// breaker_half_open, quarantined or closed.
func (s State) String() string {
	switch s {
	case Closed:
		return "serving"
	case Open:
		return "breaker_open"
	case HalfOpen:
		return "breaker_half_open"
	case Quarantined:
		return "quarantined"
	case Stopped:
		return "closed"
	}
	return fmt.Sprintf("State(%d)", int32(s))
}

// The module word: the low two bits hold the State, wordClosed marks a
// closed module, wordSlow one whose calls always take the slow path (a
// timeout, a bulkhead or an observer, or no C statistics slot; set in New
// and never cleared). The fast path runs only when the word is zero: one
// atomic load decides it.
const (
	wordStateMask = 3
	wordClosed    = 4
	wordSlow      = 1 << 30
)

// Module is one fault domain: the guarded calls into one C library, with
// their own timeout, bulkhead, breaker and quarantine. A Module is safe for
// concurrent use.
type Module struct {
	name string
	opts options
	word atomic.Int32
	slot int32 // per-thread C statistics slot; -1 when none was free
	mode int32 // CG_MODE_* bits for the trampoline
	// slotMode is slot<<8 | mode, the trampoline's third argument.
	slotMode int32

	iso Isolated // runs the calls in worker processes (WithIsolation); nil in-process

	active    atomic.Int64 // calls holding a bulkhead place (bulkhead or no slot)
	abandoned atomic.Int64 // timed-out calls still running in C
	probes    atomic.Int64 // half-open probes in flight

	// Outcomes counted in Go: the slow paths, and every outcome of calls
	// that ran on a worker goroutine (timeouts).
	goOK, goErr, goCrash, timeouts, rejected atomic.Uint64
	consecutive                              atomic.Int64

	mu          sync.Mutex // guards what follows
	crashes     map[syscall.Signal]uint64
	recent      []CrashRecord
	lastErr     error  // formatted only when Stats reads it: failures stay cheap
	reason      string // why the state is not Closed
	openUntil   time.Time
	windowStart time.Time
	windowOK    uint64 // successes counted before the window
	windowFail  uint64
	probeOK     int
	created     time.Time
	resetCount  int
	baseline    slotStats // C counts the slot had before this module
	crashReportState
	closeStarted bool
	closerOnce   sync.Once
}

// CrashRecord is a caught crash kept for health snapshots.
type CrashRecord struct {
	Time   time.Time
	Signal string
	Code   string
	Addr   uintptr
	PC     uintptr
	Frames []string // the top C frames, formatted
}

var (
	registryMu sync.Mutex
	registry   []*Module // open modules in creation order
)

// lookup returns the open module named name. registryMu held.
func lookup(name string) *Module {
	for _, m := range registry {
		if m.name == name {
			return m
		}
	}
	return nil
}

// New creates the module name (one C library, one fault domain). Names are
// unique among open modules, valid UTF-8 and free of control characters
// (else ErrInvalidName). New fails with ErrNotSupported without cgo and
// with a *HandlerError if another party replaced cgoguard's signal handlers.
func New(name string, opts ...Option) (*Module, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	o := defaultOptions()
	for i, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("cgoguard: New(%q): option %d is nil", name, i)
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if err := installErr(); err != nil {
		return nil, err
	}
	if err := checkHandlers(); err != nil {
		return nil, err
	}
	m := &Module{name: name, opts: o, crashes: map[syscall.Signal]uint64{}, created: time.Now(), slot: -1}
	if o.timeout != 0 || o.maxConc != 0 || o.observer != nil {
		m.word.Store(wordSlow)
	}
	if o.isolator != nil {
		if err := m.startIsolation(); err != nil {
			return nil, err
		}
	}
	switch o.metrics {
	case MetricsCounters:
		m.mode = modeCount
	case MetricsHistogram:
		m.mode = modeCount | modeTime | int32(o.sampleShift)<<modeSampleShift
	}
	if o.breaker != nil && o.breaker.FailureRatio > 0 {
		m.mode |= modeCount // the ratio needs the success count
	}
	registryMu.Lock()
	if lookup(name) != nil {
		registryMu.Unlock()
		if m.iso != nil {
			m.iso.CloseIsolated(context.Background())
		}
		return nil, fmt.Errorf("cgoguard: New: a module named %q is already open", name)
	}
	if m.iso == nil {
		m.slot = allocSlot()
	}
	if m.slot < 0 {
		// No statistics slot, or the calls run in worker processes: never the fast path.
		m.word.Store(m.word.Load() | wordSlow) // not visible to other goroutines yet
	}
	m.slotMode = m.slot<<8 | m.mode&0xff
	registry = append(registry, m)
	registryMu.Unlock()
	if m.slot >= 0 {
		m.baseline = readSlot(m.slot)
		openSlot(m.slot)
	}
	m.chaosArm() // failpoints set before the module existed target it too
	return m, nil
}

// Name returns the module's name.
func (m *Module) Name() string { return m.name }

// State returns the module's current state: Stopped once the module was
// closed, else the breaker's and quarantine's state.
func (m *Module) State() State {
	w := m.word.Load()
	if w&wordClosed != 0 {
		return Stopped
	}
	return State(w & wordStateMask)
}

// state returns the breaker's and quarantine's state, closed or not.
func (m *Module) state() State { return State(m.word.Load() & wordStateMask) }

// Closed reports whether Close was called.
func (m *Module) Closed() bool { return m.word.Load()&wordClosed != 0 }

// setState changes the state bits, keeping the closed bit. m.mu held.
func (m *Module) setState(s State, reason string) {
	for {
		w := m.word.Load()
		if m.word.CompareAndSwap(w, (w&^wordStateMask)|int32(s)) {
			break
		}
	}
	m.reason = reason
}

func (m *Module) reject(err error) (int, error) {
	m.rejected.Add(1)
	return 0, fmt.Errorf("%w (module %q)", err, m.name)
}

func (m *Module) callSlow(ctx context.Context, fn, arg unsafe.Pointer) (rc int, err error) {
	if fn == nil {
		return m.reject(ErrNilFunc)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	w := m.word.Load()
	if w&wordClosed != 0 {
		return m.reject(ErrClosed)
	}
	probe := false
	switch State(w & wordStateMask) {
	case Quarantined:
		m.mu.Lock()
		reason := m.reason
		m.mu.Unlock()
		m.rejected.Add(1)
		return 0, fmt.Errorf("%w (module %q: %s)", ErrQuarantined, m.name, reason)
	case Open:
		if !m.tryHalfOpen() {
			return m.reject(ErrOpen)
		}
		fallthrough
	case HalfOpen:
		if m.probes.Add(1) > int64(m.opts.breaker.HalfOpenProbes) {
			m.probes.Add(-1)
			return m.reject(ErrOpen)
		}
		probe = true
	}
	if err := ctx.Err(); err != nil {
		// Done before the call: C never runs, so it is no timeout.
		if probe {
			m.probes.Add(-1)
		}
		m.rejected.Add(1)
		return 0, fmt.Errorf("%w (module %q): %w", ErrContextDone, m.name, err)
	}
	if m.abandoned.Load() >= int64(m.opts.maxAbandoned) {
		if probe {
			m.probes.Add(-1)
		}
		return m.reject(ErrBusy)
	}
	bounded := m.opts.maxConc > 0 || m.slot < 0
	if bounded {
		if n := m.active.Add(1); m.opts.maxConc > 0 && n > int64(m.opts.maxConc) {
			m.active.Add(-1)
			if probe {
				m.probes.Add(-1)
			}
			return m.reject(ErrBusy)
		}
	}
	var token any
	var trace *[16]byte
	if obs := m.opts.observer; obs != nil {
		id, ok, tok := obs.CallStart(ctx, m.name)
		token = tok
		if ok {
			trace = &id
		}
		defer func() { obs.CallEnd(token, OutcomeOf(err), rc, err) }()
	}
	if w&wordChaos != 0 {
		fn, arg = m.chaosIntercept(fn, arg) // a failpoint may misbehave in C instead
	}
	deadline, hasDeadline := ctx.Deadline()
	if m.opts.timeout > 0 {
		if d := time.Now().Add(m.opts.timeout); !hasDeadline || d.Before(deadline) {
			deadline, hasDeadline = d, true
		}
	}
	if m.iso != nil {
		return m.callIsolated(ctx, fn, arg, deadline, trace, probe, bounded)
	}
	if !hasDeadline && ctx.Done() == nil {
		rc, st, d := guardedCall(fn, arg, m.slot, m.mode, trace)
		if bounded {
			m.active.Add(-1)
		}
		return m.finish(rc, st, d, probe, m.slot < 0)
	}
	return m.callAsync(ctx, fn, arg, deadline, hasDeadline, trace, probe, bounded)
}

// asyncCall is a call run on a worker goroutine so that its caller can
// return at the deadline while the C function keeps its thread.
type asyncCall struct {
	state atomic.Int32 // 0 running, 1 delivered, 2 abandoned
	rc    int
	st    int
	res   *callDetail
	done  chan struct{}
}

func (m *Module) callAsync(ctx context.Context, fn, arg unsafe.Pointer, deadline time.Time, hasDeadline bool, trace *[16]byte, probe, bounded bool) (int, error) {
	c := &asyncCall{done: make(chan struct{})}
	mode := m.mode | modeOther // outcomes of worker calls are counted in Go
	go func() {
		rc, st, d := guardedCall(fn, arg, m.slot, mode, trace)
		if bounded {
			m.active.Add(-1)
		}
		c.rc, c.st, c.res = rc, st, d
		if c.state.CompareAndSwap(0, 1) {
			close(c.done)
			return
		}
		// The caller gave up: this call was counted as a timeout. A crash
		// still quarantines the module. It is counted before the call
		// leaves the abandoned count, so that whoever sees the count drop
		// also sees the crash.
		if d != nil && d.crash != nil {
			d.crash.Module = m.name
			d.crash.GoStack = goStack()
			m.goCrash.Add(1) // worker calls are counted in Go
			m.crashed(d.crash, false)
		}
		left := m.abandoned.Add(-1)
		if left == 0 && m.Closed() {
			m.mu.Lock()
			closing := m.closeStarted
			m.mu.Unlock()
			if closing {
				m.runCloser()
			}
		}
	}()
	var timer <-chan time.Time
	if hasDeadline {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		timer = t.C
	}
	var err error
	select {
	case <-c.done:
	case <-timer:
		// Our own timer may fire a moment before the context's.
		err = fmt.Errorf("%w (module %q, deadline passed)", ErrTimeout, m.name)
	case <-ctx.Done():
		err = m.ctxError(ctx)
	}
	if err != nil && c.state.CompareAndSwap(0, 2) {
		m.abandoned.Add(1)
		m.timeouts.Add(1)
		m.failure(err, probe)
		return 0, err
	}
	<-c.done
	return m.finish(c.rc, c.st, c.res, probe, true)
}

func (m *Module) ctxError(ctx context.Context) error {
	if ctx.Err() == nil || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		if ctx.Err() == nil {
			return fmt.Errorf("%w (module %q)", ErrTimeout, m.name)
		}
		return fmt.Errorf("%w (module %q: %w)", ErrTimeout, m.name, ctx.Err())
	}
	return fmt.Errorf("cgoguard: module %q: call abandoned: %w", m.name, ctx.Err())
}

// finish turns the trampoline's results into Call's. countInGo says the
// outcome is counted here rather than by the trampoline (worker calls, and
// modules without a C statistics slot).
func (m *Module) finish(rc, st int, d *callDetail, probe, countInGo bool) (int, error) {
	if st != 0 {
		if probe {
			m.probes.Add(-1)
		}
		return m.reject(ErrClosed)
	}
	if d != nil && d.crash != nil {
		ce := d.crash
		ce.Module = m.name
		if ce.GoStack == nil {
			ce.GoStack = goStack()
		}
		if countInGo {
			m.goCrash.Add(1)
		}
		m.crashed(ce, probe)
		return 0, ce
	}
	if rc >= 0 {
		if countInGo {
			m.goOK.Add(1)
		}
		m.success(probe)
		return rc, nil
	}
	if countInGo {
		m.goErr.Add(1)
	}
	var ce *CError
	if d != nil && d.cerr != nil {
		ce = d.cerr
		ce.Module = m.name
	} else {
		ce = &CError{Module: m.name, Code: rc, Errno: syscall.Errno(-rc)}
		if rc == minInt32 {
			ce.Errno = 0
		}
	}
	m.failure(ce, probe)
	return rc, ce
}

const minInt32 = -1 << 31

func goStack() []byte {
	buf := make([]byte, 4096)
	for {
		n := runtime.Stack(buf, false)
		if n < len(buf) {
			return buf[:n]
		}
		if len(buf) >= 1<<20 {
			return buf
		}
		buf = make([]byte, 2*len(buf))
	}
}

// ---- breaker --------------------------------------------------------------

// resetRun ends a run of consecutive failures; cheap enough for the fast
// path (a load, and a store only after a failure).
func (m *Module) resetRun() {
	if m.opts.breaker != nil && m.consecutive.Load() != 0 {
		m.consecutive.Store(0)
	}
}

// success records a successful (or non-failing) call for the breaker.
func (m *Module) success(probe bool) {
	b := m.opts.breaker
	if b == nil {
		return
	}
	m.resetRun()
	if !probe {
		return
	}
	m.probes.Add(-1)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state() != HalfOpen {
		return
	}
	m.probeOK++
	if m.probeOK >= b.HalfOpenProbes {
		m.setState(Closed, "")
		m.rebaseWindow()
	}
}

// rebaseWindow starts a new failure-ratio window. m.mu held.
func (m *Module) rebaseWindow() {
	m.windowStart = time.Time{}
	m.windowFail = 0
	if m.opts.breaker != nil && m.opts.breaker.FailureRatio > 0 {
		m.windowOK = m.okCount()
	}
}

// failure records a failed call for the breaker.
func (m *Module) failure(err error, probe bool) {
	m.mu.Lock()
	m.lastErr = err
	m.mu.Unlock()
	b := m.opts.breaker
	if b == nil {
		if probe {
			m.probes.Add(-1)
		}
		return
	}
	if b.IsFailure != nil && !b.IsFailure(err) {
		m.success(probe)
		return
	}
	n := m.consecutive.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	if probe {
		m.probes.Add(-1)
		if m.state() == HalfOpen {
			m.trip(fmt.Sprintf("half-open probe failed: %v", err))
		}
		return
	}
	if m.state() != Closed {
		return
	}
	if b.ConsecutiveFailures > 0 && n >= int64(b.ConsecutiveFailures) {
		m.trip(fmt.Sprintf("%d consecutive failures, last: %v", n, err))
		return
	}
	if b.FailureRatio > 0 {
		now := time.Now()
		ok := m.okCount()
		if m.windowStart.IsZero() {
			m.windowStart = now // successes since the last reset count
		} else if now.Sub(m.windowStart) > b.Window {
			m.windowStart, m.windowOK, m.windowFail = now, ok, 0
		}
		m.windowFail++
		total := (ok - m.windowOK) + m.windowFail
		if total >= uint64(b.MinRequests) && float64(m.windowFail)/float64(total) >= b.FailureRatio {
			m.trip(fmt.Sprintf("failure ratio %.2f over %d calls, last: %v", float64(m.windowFail)/float64(total), total, err))
		}
	}
}

// trip opens the breaker. m.mu held.
func (m *Module) trip(reason string) {
	if m.state() == Quarantined {
		return
	}
	m.openUntil = time.Now().Add(m.opts.breaker.CoolDown)
	m.probeOK = 0
	m.rebaseWindow()
	m.setState(Open, "breaker open: "+reason)
}

// tryHalfOpen moves an open breaker whose cool-down ended to half-open.
func (m *Module) tryHalfOpen() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch m.state() {
	case HalfOpen:
		return true
	case Open:
		if time.Now().Before(m.openUntil) {
			return false
		}
		m.probeOK = 0
		m.setState(HalfOpen, "half-open: probing after cool-down")
		return true
	}
	return false
}

func (m *Module) okCount() uint64 {
	s := m.slotStats()
	return s.ok + m.goOK.Load()
}

// ---- crashes --------------------------------------------------------------

// crashed applies the crash policy. probe says the call was a half-open probe.
func (m *Module) crashed(ce *CrashError, probe bool) {
	rec := CrashRecord{Time: time.Now(), Signal: SignalName(ce.Signal), Code: CodeName(ce.Signal, ce.Code), Addr: ce.Addr, PC: ce.PC}
	for i, f := range ce.Frames {
		if i == 5 {
			break
		}
		rec.Frames = append(rec.Frames, f.String())
	}
	m.mu.Lock()
	m.crashes[ce.Signal]++
	m.recent = append(m.recent, rec)
	if len(m.recent) > maxRecentCrashes {
		m.recent = m.recent[len(m.recent)-maxRecentCrashes:]
	}
	m.lastErr = ce
	m.mu.Unlock()
	if m.opts.crashDir != "" {
		m.reportCrash(ce)
	}
	if m.opts.crashPolicy == Quarantine {
		m.mu.Lock()
		m.setState(Quarantined, fmt.Sprintf("crashed with %s at pc=%#x; Reset after re-initialising the C side", SignalName(ce.Signal), ce.PC))
		m.mu.Unlock()
		if probe {
			m.probes.Add(-1)
		}
	} else {
		if m.opts.reset != nil {
			if err := m.opts.reset(); err != nil {
				m.mu.Lock()
				m.setState(Quarantined, fmt.Sprintf("crashed with %s and its reset failed: %v", SignalName(ce.Signal), err))
				m.mu.Unlock()
			}
		}
		m.failure(ce, probe)
	}
	if m.opts.onCrash != nil {
		m.opts.onCrash(ce)
	}
}

const maxRecentCrashes = 16

// Reset leaves quarantine (or an open breaker): it checks that cgoguard's
// signal handlers are still installed, runs the module's reset function
// (WithReset) to re-initialise the C side, and closes the breaker. If the
// reset function fails the module stays quarantined.
func (m *Module) Reset() error {
	if m.Closed() {
		return fmt.Errorf("%w (module %q)", ErrClosed, m.name)
	}
	if err := checkHandlers(); err != nil {
		return err
	}
	if m.opts.reset != nil {
		if err := m.opts.reset(); err != nil {
			return fmt.Errorf("cgoguard: module %q: reset: %w", m.name, err)
		}
	}
	m.mu.Lock()
	m.setState(Closed, "")
	m.consecutive.Store(0)
	m.rebaseWindow()
	m.probeOK = 0
	m.resetCount++
	m.mu.Unlock()
	return nil
}

// Close stops new calls (they fail with ErrClosed), waits for the calls in
// flight to return (except timed-out calls, which may never return), and
// removes the module from the registry. Closing twice returns ErrClosed.
func (m *Module) Close() error {
	return m.close(context.Background(), false)
}

func (m *Module) close(ctx context.Context, waitAbandoned bool) error {
	m.mu.Lock()
	if m.closeStarted {
		m.mu.Unlock()
		return fmt.Errorf("%w (module %q)", ErrClosed, m.name)
	}
	m.closeStarted = true
	m.mu.Unlock()
	for {
		w := m.word.Load()
		if m.word.CompareAndSwap(w, w|wordClosed) {
			break
		}
	}
	if m.slot >= 0 {
		closeSlot(m.slot) // calls past the Go check now see the slot closed
	}
	var err error
	if m.iso != nil {
		err = m.iso.CloseIsolated(ctx) // calls in flight end with their workers
	}
	for delay := 50 * time.Microsecond; ; {
		n := m.InFlight()
		if !waitAbandoned {
			n -= m.abandoned.Load()
		}
		if n <= 0 {
			break
		}
		select {
		case <-ctx.Done():
			err = fmt.Errorf("cgoguard: module %q: %d calls still in flight: %w", m.name, n, ctx.Err())
		case <-time.After(delay):
			if delay < 10*time.Millisecond {
				delay *= 2
			}
			continue
		}
		break
	}
	registryMu.Lock()
	for i, x := range registry {
		if x == m {
			registry = append(registry[:i:i], registry[i+1:]...)
			break
		}
	}
	if m.slot >= 0 && m.abandoned.Load() == 0 {
		freeSlot(m.slot)
	}
	registryMu.Unlock()
	// The closer releases the C side: not while a timed-out call may still
	// use it. Then the last such call to return runs it.
	if m.abandoned.Load() == 0 {
		if cerr := m.runCloser(); cerr != nil && err == nil {
			err = cerr
		}
	}
	return err
}

func (m *Module) runCloser() error {
	var err error
	m.closerOnce.Do(func() {
		if m.opts.closer != nil {
			if cerr := m.opts.closer(); cerr != nil {
				err = fmt.Errorf("cgoguard: module %q: closer: %w", m.name, cerr)
				m.mu.Lock()
				m.lastErr = err
				m.mu.Unlock()
			}
		}
	})
	return err
}

// InFlight returns the number of calls of the module running in C now,
// including timed-out calls that have not returned.
func (m *Module) InFlight() int64 {
	if m.slot >= 0 {
		s := m.slotStats()
		if f := s.finished(); s.started > f {
			return int64(s.started - f)
		}
		return 0
	}
	return m.active.Load()
}

// Abandoned returns the number of timed-out calls still running in C.
func (m *Module) Abandoned() int64 { return m.abandoned.Load() }

// Modules returns the open modules in the order they were created.
func Modules() []*Module {
	registryMu.Lock()
	defer registryMu.Unlock()
	return append([]*Module(nil), registry...)
}

// Lookup returns the open module with the given name, or nil.
func Lookup(name string) *Module {
	registryMu.Lock()
	defer registryMu.Unlock()
	return lookup(name)
}

// Shutdown is the graceful stop: it stops new calls on every open module,
// waits until their calls in flight return (or ctx is done), closes the
// modules in the reverse order of their creation (running their closers),
// and finally frees every pending Cleanup. It returns the first error met,
// after closing every module.
func Shutdown(ctx context.Context) error {
	mods := Modules()
	for _, m := range mods {
		for {
			w := m.word.Load()
			if m.word.CompareAndSwap(w, w|wordClosed) {
				break
			}
		}
	}
	var first error
	for i := len(mods) - 1; i >= 0; i-- {
		if err := mods[i].close(ctx, true); err != nil && first == nil && !errors.Is(err, ErrClosed) {
			first = err
		}
	}
	RunCleanups()
	return first
}

// ---- slots ----------------------------------------------------------------

var (
	slotUsed [maxSlots]bool
	slotNext int
)

// allocSlot hands out statistics slots round-robin so that a freed slot is
// reused as late as possible. registryMu held.
func allocSlot() int32 {
	for i := 0; i < maxSlots; i++ {
		s := (slotNext + i) % maxSlots
		if !slotUsed[s] {
			slotUsed[s] = true
			slotNext = s + 1
			return int32(s)
		}
	}
	return -1
}

// freeSlot releases a slot. registryMu held.
func freeSlot(s int32) { slotUsed[s] = false }
