package probe

import (
	"errors"
	"fmt"
)

var (
	// ErrNotSupported is returned where probing cannot work at all: not
	// Linux, not amd64, or a kernel without uprobe support.
	ErrNotSupported = errors.New("cgoguard: probe: not supported")
	// ErrPermission is returned when the kernel refused to load or attach
	// the probes: probing needs root, or CAP_BPF and CAP_PERFMON (and
	// CAP_SYS_PTRACE to read another user's process), and a kernel that is
	// not locked down.
	ErrPermission = errors.New("cgoguard: probe: not permitted")
	// ErrNoProcess is returned when the process to probe does not exist or
	// exited.
	ErrNoProcess = errors.New("cgoguard: probe: no such process")
	// ErrNoFunctions is returned when no C function matched what was asked.
	ErrNoFunctions = errors.New("cgoguard: probe: no function to probe")
	// ErrClosed is returned by the methods of a closed Probe.
	ErrClosed = errors.New("cgoguard: probe: closed")
)

// AttachError is a failure to load or attach the probes. It matches
// ErrPermission or ErrNotSupported (with errors.Is) when that is the cause.
type AttachError struct {
	PID int
	// Op says what failed: "load", "attach", "open maps".
	Op string
	// Target names what was being attached ("libz.so.1.2.13:inflate"), if
	// anything.
	Target string
	// Kind is ErrPermission, ErrNotSupported, or nil for another cause.
	Kind error
	// Hint tells how to fix it, for people ("run as root, or give the
	// binary CAP_BPF and CAP_PERFMON").
	Hint string
	Err  error
}

func (e *AttachError) Error() string {
	s := fmt.Sprintf("cgoguard: probe: pid %d: %s", e.PID, e.Op)
	if e.Target != "" {
		s += " " + e.Target
	}
	s += ": " + e.Err.Error()
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// Unwrap returns the underlying error.
func (e *AttachError) Unwrap() error { return e.Err }

// Is matches the error's Kind.
func (e *AttachError) Is(target error) bool { return e.Kind != nil && target == e.Kind }
