package cgoguard

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"
	"unsafe"
)

// Isolator moves a module's calls out of the process: into worker
// processes that can be killed and restarted. Package isolate provides one
// (isolate.Isolator); the root package cannot import it, so the contract is
// this interface. Create the module with WithIsolation, giving it the
// Isolator or just package isolate's options:
//
//	m, err := cgoguard.New("zlib", cgoguard.WithIsolation(isolate.Isolator(isolate.WithWorkers(4))))
//	m, err := cgoguard.New("zlib", cgoguard.WithIsolation(isolate.WithWorkers(4)))
//
// Callers keep calling m.Call(ctx, fn, arg) as before.
type Isolator interface {
	// Isolate starts the workers of module m and returns what runs its
	// calls. New calls it once, before m is registered, so no call can
	// reach m first.
	Isolate(m *Module) (Isolated, error)
}

// Isolated runs the calls of one isolated module. Implementations must be
// safe for concurrent use.
type Isolated interface {
	// CallIsolated runs fn(arg) in a worker process. fn is the address of
	// a C function in this process (the worker runs the same function in
	// its own address space); arg is nil or lies in memory the workers
	// share. A zero deadline means none. trace, when not nil, is the trace
	// id C code reads with cg_trace_id.
	//
	// It returns the C function's rc, with a *CError for rc < 0; a
	// *CrashError when the worker crashed; an error matching ErrTimeout, or
	// the context's error, when the call outlived its deadline or ctx;
	// other errors for calls it could not make. ran reports whether the
	// call reached a worker: calls refused before (bad arguments, closed,
	// no worker) count as rejected, or as timeouts when their deadline
	// passed while they waited for a worker, and do not feed the breaker.
	CallIsolated(ctx context.Context, fn, arg unsafe.Pointer, deadline time.Time, trace *[16]byte) (rc int, ran bool, err error)
	// CloseIsolated stops the workers; the module's Close and Shutdown
	// call it. Calls in flight may finish until ctx is done (the
	// implementation may bound the wait); calls still running then fail.
	CloseIsolated(ctx context.Context) error
}

// IsolationOption is an argument of WithIsolation: an Isolator, or an
// option of an isolating package that joins with the other options given
// into one Isolator (it implements IsolatorJoiner). Package isolate's
// options are both, so either form moves a module out of process:
//
//	cgoguard.WithIsolation(isolate.WithWorkers(2), isolate.WithCallTimeout(time.Second))
//	cgoguard.WithIsolation(isolate.Isolator(isolate.WithWorkers(2), isolate.WithCallTimeout(time.Second)))
//
// Every Isolator is an IsolationOption.
type IsolationOption interface {
	// Isolate starts the workers of module m with this option alone; see
	// Isolator.
	Isolate(m *Module) (Isolated, error)
}

// IsolatorJoiner is an IsolationOption that builds one Isolator from all
// the options given to WithIsolation, as package isolate's options do.
type IsolatorJoiner interface {
	IsolationOption
	// JoinIsolation returns the Isolator that applies opts in order; the
	// receiver is opts[0]. It returns an error when an option is nil or
	// not one of its package's (an Isolator cannot be joined with options).
	JoinIsolation(opts []IsolationOption) (Isolator, error)
}

// WithIsolation runs the module's calls in worker processes (see package
// isolate) instead of in this process. Give it either one Isolator
// (isolate.Isolator(opts...)) or the options of an isolating package
// (isolate.WithWorkers(2), isolate.WithCallTimeout(time.Second), ...), which
// it joins into one Isolator; New reports an error for no option, a nil
// one, more than one Isolator, an Isolator mixed with options, options of
// different packages, or WithIsolation given twice.
//
// The call semantics stay the same (results, *CError, *CrashError,
// ErrTimeout, breaker, bulkhead, metrics), with these differences: a crash
// kills the worker, which is replaced, so the module is not quarantined
// (the crash policy is Restart; the crash still counts for the breaker); a
// timed-out call's worker is killed, so no thread is left behind
// (WithMaxAbandoned does not apply); the duration histogram is not kept;
// the module has no counter block in this process's trampoline (Slot
// returns -1). Default: calls run in this process.
func WithIsolation(opts ...IsolationOption) Option {
	return func(o *options) error {
		if o.isolator != nil {
			return errors.New("cgoguard: WithIsolation given twice (give all isolation options to one WithIsolation)")
		}
		iso, err := joinIsolation(opts)
		if err != nil {
			return err
		}
		o.isolator = iso
		return nil
	}
}

// joinIsolation makes one Isolator of WithIsolation's arguments.
func joinIsolation(opts []IsolationOption) (Isolator, error) {
	if len(opts) == 0 {
		return nil, errors.New("cgoguard: WithIsolation: no Isolator or isolation option")
	}
	for i, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("cgoguard: WithIsolation: option %d is nil", i)
		}
	}
	j, joiner := opts[0].(IsolatorJoiner)
	if len(opts) == 1 && !joiner {
		return opts[0], nil // an Isolator
	}
	for i, opt := range opts {
		if _, ok := opt.(IsolatorJoiner); !ok {
			return nil, fmt.Errorf("cgoguard: WithIsolation: option %d (%T) is an Isolator, which takes no other isolation option: pass the options to it, or the options alone", i, opt)
		}
	}
	iso, err := j.JoinIsolation(opts)
	if err != nil {
		return nil, err
	}
	if iso == nil {
		return nil, fmt.Errorf("cgoguard: WithIsolation: %T joined into no Isolator", opts[0])
	}
	return iso, nil
}

// Isolation returns what runs the module's calls out of process (for
// package isolate: its *isolate.Pool), or nil for a module whose calls run
// in this process.
func (m *Module) Isolation() Isolated { return m.iso }

// startIsolation starts the module's workers; New calls it before the
// module is registered.
func (m *Module) startIsolation() error {
	registryMu.Lock()
	taken := lookup(m.name) != nil
	registryMu.Unlock()
	if taken { // checked again when m is registered
		return fmt.Errorf("cgoguard: New: a module named %q is already open", m.name)
	}
	// A crash takes its worker's memory with it: nothing to quarantine.
	m.opts.crashPolicy = Restart
	iso, err := m.opts.isolator.Isolate(m)
	if err != nil {
		return err
	}
	if iso == nil {
		return fmt.Errorf("cgoguard: module %q: the Isolator returned no runner", m.name)
	}
	m.iso = iso
	return nil
}

// callIsolated is the slow path's last step for an isolated module: it runs
// the call in a worker and accounts for its outcome as finish does for an
// in-process call. Every outcome is counted in Go.
func (m *Module) callIsolated(ctx context.Context, fn, arg unsafe.Pointer, deadline time.Time, trace *[16]byte, probe, bounded bool) (int, error) {
	rc, ran, err := m.iso.CallIsolated(ctx, fn, arg, deadline, trace)
	if bounded {
		m.active.Add(-1)
	}
	if !ran {
		if probe {
			m.probes.Add(-1)
		}
		if err == nil {
			err = fmt.Errorf("cgoguard: module %q: call not run", m.name)
		}
		if outcomeOf(err) == OutcomeTimeout {
			m.timeouts.Add(1)
		} else {
			m.rejected.Add(1)
		}
		return 0, err
	}
	if err == nil && rc >= 0 {
		m.goOK.Add(1)
		m.success(probe)
		return rc, nil
	}
	return m.isolatedFailure(rc, err, probe)
}

// isolatedFailure accounts for an isolated call that failed; apart from
// callIsolated so that the success path allocates nothing.
func (m *Module) isolatedFailure(rc int, err error, probe bool) (int, error) {
	var ce *CrashError
	var cerr *CError
	switch {
	case errors.As(err, &ce):
		ce.Module = m.name
		if ce.GoStack == nil {
			ce.GoStack = goStack()
		}
		m.goCrash.Add(1)
		m.crashed(ce, probe)
		return 0, err
	case errors.As(err, &cerr):
		cerr.Module = m.name
		m.goErr.Add(1)
		m.failure(err, probe)
		return rc, err
	case err == nil: // rc < 0 without detail
		e := &CError{Module: m.name, Code: rc, Errno: errnoOf(rc)}
		m.goErr.Add(1)
		m.failure(e, probe)
		return rc, e
	case outcomeOf(err) == OutcomeTimeout:
		m.timeouts.Add(1)
		m.failure(err, probe)
		return 0, err
	}
	// The worker was lost some other way (it exited during the call).
	m.goErr.Add(1)
	m.failure(err, probe)
	return 0, err
}

// errnoOf is the errno a bare negative rc stands for.
func errnoOf(rc int) syscall.Errno {
	if rc == minInt32 {
		return 0
	}
	return syscall.Errno(-rc)
}

// Symbolize names the C function (and, with debug information, the source
// line) that pc lies in, in this process, as the frames of a CrashError
// are named. Package isolate uses it for the frames of a worker's crash,
// after moving each PC to the same place of the same object in this
// process. Results are cached per PC.
func Symbolize(pc uintptr) Frame { return symbolize(pc) }
