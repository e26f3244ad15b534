package cgoguard

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
)

// Sentinel errors. Every error a Module returns matches one of these, a
// *CrashError or a *CError under errors.Is / errors.As.
var (
	// ErrQuarantined is returned by calls to a module that crashed and has
	// not been Reset: its C state may be corrupt.
	ErrQuarantined = errors.New("cgoguard: module quarantined after a crash")
	// ErrTimeout is returned when a call outlives its deadline (the
	// context's or WithTimeout's). It also matches context.DeadlineExceeded.
	ErrTimeout error = timeoutError{}
	// ErrBusy is returned when the bulkhead (WithMaxConcurrent) is full or
	// too many timed-out calls still hold their threads (WithMaxAbandoned).
	ErrBusy = errors.New("cgoguard: module busy")
	// ErrOpen is returned while the module's circuit breaker is open, and
	// for calls over the half-open probe limit.
	ErrOpen = errors.New("cgoguard: circuit breaker open")
	// ErrClosed is returned by calls to a closed module.
	ErrClosed = errors.New("cgoguard: module closed")
	// ErrNotSupported is returned when the program was built without cgo
	// or on a platform cgoguard does not support.
	ErrNotSupported = errors.New("cgoguard: not supported (built without cgo or on an unsupported platform)")
	// ErrHandlerTaken is returned by New and Reset when another party
	// replaced one of cgoguard's signal handlers (for example with
	// signal.Ignore(syscall.SIGABRT)); a crash would then kill the
	// process. The error is a *HandlerError naming the signal.
	ErrHandlerTaken = errors.New("cgoguard: signal handler replaced")
	// ErrInvalidName is returned by New for a module name that is empty,
	// not valid UTF-8, or holds a control character or a Unicode direction
	// control: the name becomes a metric label, a JSON string and a line
	// on a terminal.
	ErrInvalidName = errors.New("cgoguard: invalid module name")
	// ErrNilFunc is returned by Call for a nil C function. The call is
	// counted as rejected.
	ErrNilFunc = errors.New("cgoguard: nil C function")
	// ErrContextDone is returned by Call when its context was already
	// cancelled or past its deadline before the call: the C function did
	// not run. The error also matches the context's error
	// (context.Canceled or context.DeadlineExceeded) but not ErrTimeout,
	// and the call is counted as rejected.
	ErrContextDone = errors.New("cgoguard: context done before the call")
)

type timeoutError struct{}

func (timeoutError) Error() string   { return "cgoguard: call timed out" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }
func (timeoutError) Is(target error) bool {
	return target == context.DeadlineExceeded
}

// Frame is one symbolised C stack frame of a crash.
type Frame struct {
	PC       uintptr // address inside the function
	Function string  // symbol name, "" when unknown
	Offset   uintptr // PC minus the symbol's address
	Object   string  // path of the executable or shared library
	File     string  // source file, when debug information has it
	Line     int     // source line, when debug information has it
}

// String formats the frame like "strlen+0x15 (/lib/x86_64-linux-gnu/libc.so.6)".
func (f Frame) String() string {
	var b strings.Builder
	if f.Function != "" {
		fmt.Fprintf(&b, "%s+%#x", f.Function, f.Offset)
	} else {
		fmt.Fprintf(&b, "%#x", f.PC)
	}
	if f.File != "" {
		fmt.Fprintf(&b, " %s:%d", f.File, f.Line)
	}
	if f.Object != "" {
		fmt.Fprintf(&b, " (%s)", f.Object)
	}
	return b.String()
}

// CrashError reports a fault (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT or
// SIGTRAP) raised inside a guarded C call. The process lives on; the module
// is quarantined unless its crash policy says otherwise.
type CrashError struct {
	Module  string         // module name
	Signal  syscall.Signal // e.g. syscall.SIGSEGV
	Code    int            // si_code, e.g. 1 (SEGV_MAPERR)
	Addr    uintptr        // si_addr: the faulting address (for SIGFPE/SIGILL the instruction)
	PC      uintptr        // program counter of the faulting instruction
	Frames  []Frame        // C frames from the fault up to the guarded call, innermost first
	GoStack []byte         // the Go stack of the goroutine that made the call
	// Blocked lists the crash signals (SIGSEGV, SIGBUS, ...) the C code had
	// blocked on its thread when it crashed. A fault with its signal
	// blocked cannot be caught at all: the kernel kills the process. The
	// thread goes back to Go with these signals unblocked.
	Blocked []syscall.Signal
}

// Error returns a one-line summary.
func (e *CrashError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cgoguard: module %q crashed: %s (%s) at pc=%#x addr=%#x", e.Module, SignalName(e.Signal), CodeName(e.Signal, e.Code), e.PC, e.Addr)
	if len(e.Frames) > 0 {
		fmt.Fprintf(&b, " in %s", e.Frames[0].symbol())
	}
	if len(e.Blocked) > 0 {
		names := make([]string, len(e.Blocked))
		for i, s := range e.Blocked {
			names[i] = SignalName(s)
		}
		verb := "was"
		if len(names) > 1 {
			verb = "were"
		}
		fmt.Fprintf(&b, " (%s %s blocked by the C code: a fault with its signal blocked kills the process)", strings.Join(names, ", "), verb)
	}
	return b.String()
}

func (f Frame) symbol() string {
	if f.Function != "" {
		return f.Function
	}
	return fmt.Sprintf("%#x", f.PC)
}

// CError is a failure the C function reported: a negative return value,
// optionally detailed with cg_set_error.
type CError struct {
	Module  string
	Code    int           // the rc, or the code given to cg_set_error
	Errno   syscall.Errno // -rc, or errno as recorded by cg_set_error (0 for none)
	Message string        // the cg_set_error message, or the errno text
}

// Error formats the failure.
func (e *CError) Error() string {
	msg := e.Message
	if msg == "" && e.Errno != 0 {
		msg = e.Errno.Error()
	}
	if msg == "" {
		msg = "failed"
	}
	return fmt.Sprintf("cgoguard: module %q: %s (code %d)", e.Module, msg, e.Code)
}

// Unwrap returns the errno, so errors.Is(err, fs.ErrNotExist) holds for
// ENOENT and errors.Is(err, syscall.EINVAL) for EINVAL.
func (e *CError) Unwrap() error {
	if e.Errno == 0 {
		return nil
	}
	return e.Errno
}

// HandlerError says which of cgoguard's signal handlers was replaced.
type HandlerError struct {
	Signal syscall.Signal
	// How is "ignored" (SIG_IGN), "default" (SIG_DFL) or "replaced"
	// (another handler).
	How string
}

func (e *HandlerError) Error() string {
	return fmt.Sprintf("cgoguard: the %s handler was %s by other code; guarded calls cannot catch it (see ReinstallHandlers)", SignalName(e.Signal), e.How)
}

// Is makes errors.Is(err, ErrHandlerTaken) hold.
func (e *HandlerError) Is(target error) bool { return target == ErrHandlerTaken }

// SignalName returns the conventional name of a signal, such as "SIGSEGV".
func SignalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGSEGV:
		return "SIGSEGV"
	case syscall.SIGBUS:
		return "SIGBUS"
	case syscall.SIGFPE:
		return "SIGFPE"
	case syscall.SIGILL:
		return "SIGILL"
	case syscall.SIGABRT:
		return "SIGABRT"
	case syscall.SIGTRAP:
		return "SIGTRAP"
	}
	return fmt.Sprintf("signal %d", int(s))
}

// codeNames lists the kernel's si_code names per signal, indexed by code.
var codeNames = map[syscall.Signal][]string{
	syscall.SIGSEGV: {"", "SEGV_MAPERR", "SEGV_ACCERR", "SEGV_BNDERR", "SEGV_PKUERR"},
	syscall.SIGBUS:  {"", "BUS_ADRALN", "BUS_ADRERR", "BUS_OBJERR", "BUS_MCEERR_AR", "BUS_MCEERR_AO"},
	syscall.SIGFPE:  {"", "FPE_INTDIV", "FPE_INTOVF", "FPE_FLTDIV", "FPE_FLTOVF", "FPE_FLTUND", "FPE_FLTRES", "FPE_FLTINV", "FPE_FLTSUB"},
	syscall.SIGILL:  {"", "ILL_ILLOPC", "ILL_ILLOPN", "ILL_ILLADR", "ILL_ILLTRP", "ILL_PRVOPC", "ILL_PRVREG", "ILL_COPROC", "ILL_BADSTK"},
	syscall.SIGTRAP: {"", "TRAP_BRKPT", "TRAP_TRACE", "TRAP_BRANCH", "TRAP_HWBKPT"},
}

// CodeName names a signal's si_code, such as "SEGV_MAPERR".
func CodeName(s syscall.Signal, code int) string {
	switch code {
	case 0:
		return "SI_USER"
	case -6:
		return "SI_TKILL"
	case -1:
		return "SI_QUEUE"
	case 0x80:
		return "SI_KERNEL"
	}
	if n := codeNames[s]; code > 0 && code < len(n) {
		return n[code]
	}
	return fmt.Sprintf("code %d", code)
}
