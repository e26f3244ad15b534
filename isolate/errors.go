package isolate

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/cgoguard/cgoguard"
)

var (
	// ErrTimeout is cgoguard.ErrTimeout, the same value (errors.Is matches
	// either): a call that outlived its deadline (WithCallTimeout or the
	// context's), or waited past it for a free worker.
	ErrTimeout = cgoguard.ErrTimeout
	// ErrClosed is cgoguard.ErrClosed, the same value (errors.Is matches
	// either): a call to a closed pool or module.
	ErrClosed = cgoguard.ErrClosed
	// ErrNotSupported is returned where worker processes cannot run: a
	// build without cgo, or a system other than Linux.
	ErrNotSupported = errors.New("cgoguard: isolate: not supported (needs Linux and cgo)")
	// ErrUnavailable is returned by calls while no worker can start (the
	// last start of every worker failed); it wraps the last *StartError.
	ErrUnavailable = errors.New("cgoguard: isolate: no worker available")
	// ErrNotRegistered is returned for a function that was not registered
	// with Register.
	ErrNotRegistered = errors.New("cgoguard: isolate: function not registered")
	// ErrArgument is returned for a call argument outside the pool's arena.
	ErrArgument = errors.New("cgoguard: isolate: argument not in the pool's arena")
	// ErrInWorker is returned by New in a process started as a worker: the
	// program did not call Main first in main.
	ErrInWorker = errors.New("cgoguard: isolate: this process is a worker (isolate.Main must be called first in main)")
)

// StartError reports a worker that did not start: it exited, or was not
// ready within the start timeout. It matches ErrUnavailable only when
// wrapped by it.
type StartError struct {
	Module string
	Worker int    // the worker's number in the pool (cg_isolate_worker); -1 if none was assigned
	PID    int    // 0 if the process did not start at all
	Status string // "exit status 2", "signal: segmentation fault", "not ready after 10s", ...
	Stderr string // the end of what the worker wrote to stderr and stdout
	Err    error  // the underlying error, if any
}

// Error names the worker, how it ended and the end of its output.
func (e *StartError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cgoguard: isolate: module %q: worker %d", e.Module, e.Worker)
	if e.PID != 0 {
		fmt.Fprintf(&b, " (pid %d)", e.PID)
	}
	fmt.Fprintf(&b, " did not start: %s", e.Status)
	if s := strings.TrimSpace(e.Stderr); s != "" {
		fmt.Fprintf(&b, "; its output ends with: %s", s)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *StartError) Unwrap() error { return e.Err }

// ExitError reports a worker that ended while it ran a call without a
// crash report: killed from outside (by the OOM killer, say), faulting
// where the guard does not catch it (on another thread), or exiting
// (exit() in the C library). When a signal ended it, Crash holds what is
// known (the signal; no address or frames) and errors.As finds it.
type ExitError struct {
	Module string
	Worker int // the worker's number in the pool (cg_isolate_worker)
	PID    int
	State  *os.ProcessState
	Stderr string // the end of the worker's output
	Crash  *cgoguard.CrashError
}

// Error names the worker and how it ended.
func (e *ExitError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cgoguard: isolate: module %q: worker %d (pid %d) ended during the call: %v", e.Module, e.Worker, e.PID, e.State)
	if s := strings.TrimSpace(e.Stderr); s != "" {
		fmt.Fprintf(&b, "; its output ends with: %s", s)
	}
	return b.String()
}

// Unwrap returns Crash (nil when the worker exited with a status).
func (e *ExitError) Unwrap() error {
	if e.Crash == nil {
		return nil
	}
	return e.Crash
}
