// Package cgoguard makes C code inside a Go program fail like Go code: a
// crash in C (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT from abort() or
// assert, SIGTRAP, a C stack overflow) becomes a *CrashError returned by
// the call while the process lives on; a failure the C code reports becomes
// a *CError that errors.Is understands; and every C library gets its own
// timeouts, bulkhead, circuit breaker and quarantine.
//
// A Module is one fault domain, usually one C library:
//
//	m, err := cgoguard.New("zlib",
//		cgoguard.WithTimeout(2*time.Second),
//		cgoguard.WithMaxConcurrent(32),
//		cgoguard.WithReset(func() error { C.codec_reinit(); return nil }))
//	...
//	rc, err := m.Call(ctx, unsafe.Pointer(C.decode_entry), unsafe.Pointer(req))
//	var crash *cgoguard.CrashError
//	switch {
//	case errors.As(err, &crash):
//		log.Printf("C crashed: %v\n%v", crash, crash.Frames)
//	case errors.Is(err, fs.ErrNotExist): // the C code returned -ENOENT
//	case errors.Is(err, cgoguard.ErrQuarantined): // it crashed before; Reset it
//	}
//
// The C function has the signature int fn(void *arg). A result >= 0 is
// returned as is; a negative result is a *CError whose Errno is -rc, unless
// the C code called cg_set_error (include/cgoguard.h) to give its own code,
// errno and message.
//
// # How a crash is caught
//
// At init, after the Go runtime has installed its signal handlers,
// cgoguard installs its own for the six signals above and keeps Go's. A
// guarded call pushes a guard frame (a setjmp that saves neither the
// signal mask nor more than the stack and frame pointers, so no syscall)
// on a per-thread chain. The handler takes a signal
// only when it was raised on this thread inside a guarded call, by C code
// running on the thread's stack below the guard frame; then it records the
// signal, address, PC and C frames, restores the thread's signal mask and
// jumps back to the guard frame. Every other signal goes to Go's handler:
// a nil dereference in Go code is still a recoverable panic, a crash in C
// code outside a guarded call still ends the process with Go's report, and
// a Go callback that panics inside a guarded call keeps Go's semantics.
//
// After a crash the C library's state (its heap, locks, globals) may be
// corrupt, so the module is quarantined until Reset; WithCrashPolicy(Restart)
// declares a library safe to keep using. WithCrashDir writes a JSON report
// per crash and keeps the newest WithMaxCrashReports (default 100) of the
// module; a report that cannot be written is counted in
// Stats.CrashReportErrors and logged once.
//
// # States and refused calls
//
// Module.State reads like this on dashboards and in /readyz: "serving"
// (Closed: the breaker is closed, calls run), "breaker_open" (Open),
// "breaker_half_open" (HalfOpen), "quarantined" (Quarantined), and
// "closed" (Stopped) only once Close was called. Calls that never reach C
// return a sentinel and count as rejected: ErrQuarantined, ErrOpen,
// ErrBusy, ErrClosed, ErrNilFunc (a nil C function) and ErrContextDone (the
// context was cancelled or past its deadline before the call; the error
// also matches the context's error, not ErrTimeout). ErrTimeout is only for
// a call that ran and outlived its deadline; if such an abandoned call
// crashes later, it is also counted as a crash. Module names are valid
// UTF-8 without control characters (ErrInvalidName). In-process capture is for
// diagnosis and for keeping the other modules serving; only a separate
// process isolates a library completely.
//
// A C call cannot be cancelled. A call that outlives its deadline returns
// ErrTimeout while the C function keeps its OS thread until it returns;
// WithMaxAbandoned caps such calls and WithMaxConcurrent caps all calls,
// so the number of threads stays bounded.
//
// # Cgo contract
//
// The rules a program using cgoguard follows. MUST rules are required for
// correct behaviour; SHOULD rules for good diagnostics.
//
//   - A guarded function MUST have the C type int fn(void *arg) and MUST be
//     passed as unsafe.Pointer(C.fn). Its argument follows the cgo
//     pointer-passing rules: Go memory passed as arg MUST NOT contain Go
//     pointers and MUST NOT be kept by C after the call returns.
//   - C code that calls into Go (an //export-ed function) from inside a
//     guarded call MUST mark the region with cg_callback_begin and
//     cg_callback_end (or CG_CALLBACK). cgoguard tells a fault in Go code
//     from a fault in C by the stack it happens on, but a C function the Go
//     callback calls without a guard of its own runs on the same stack as
//     the outer guarded call; only the mark keeps its crash Go's. When such
//     a crash comes from an unmarked region, cgoguard sees the callback's
//     frame on the stack, prints a line pointing to this rule and hands the
//     crash to the Go runtime, which ends the process.
//   - C code MUST NOT block SIGSEGV, SIGBUS, SIGFPE, SIGILL or SIGTRAP: a
//     fault with its signal blocked kills the process before any handler
//     runs. A crash caught while such signals were blocked lists them in
//     CrashError.Blocked, and the thread returns to Go with them unblocked.
//   - C code MUST NOT install handlers for SIGSEGV, SIGBUS, SIGFPE, SIGILL,
//     SIGABRT or SIGTRAP after cgoguard's init; Go code MUST NOT
//     signal.Ignore them. New and Reset check, and return a *HandlerError
//     naming a signal that was taken; ReinstallHandlers takes it back.
//     Handlers C code installs MUST use SA_ONSTACK (as os/signal requires).
//   - C code MUST NOT longjmp out of a guarded call, and MUST NOT rely on
//     cleanup after a crash: memory, locks and descriptors a crashed call
//     held are lost. That is why a crashed module is quarantined; its reset
//     function (WithReset) SHOULD re-initialise the library's global state.
//   - A crash that happens while the C code holds a lock of the C runtime
//     (malloc's arena lock, stdio's locks, the dynamic loader's lock) leaves
//     that lock held on that thread. cgoguard itself allocates nothing on
//     the crash path for this reason, but the program SHOULD treat such a
//     crash as a reason to restart the process.
//   - C code SHOULD report failures with cg_set_error (code, errno and a
//     message, copied into the Go error) or by returning a negative errno.
//   - A C call SHOULD be given a deadline only when its library tolerates
//     a call that is abandoned mid-way and returns later.
//
// # C header
//
// The C API (cg_set_error, cg_callback_begin/end, cg_trace_id and the
// arena, bridge and observe sections) is declared in include/cgoguard.h.
// A cgo package outside this module takes one step to include it: write
// the headers into the package with
//
//	//go:generate go run github.com/cgoguard/cgoguard/cmd/cgoguard header -o .
//
// and #include "cgoguard.h" in its preamble or C files. The functions are
// defined by the cgoguard packages and resolved when the program links.
//
// # Concurrency
//
// All exported functions and methods are safe to be used concurrently
// unless specified otherwise. Without a deadline, a bulkhead or an
// observer, Call runs on the caller's goroutine with no allocation and no
// syscall; counting outcomes costs a few nanoseconds in per-thread C
// counters.
//
// Without cgo (CGO_ENABLED=0) the package compiles and New returns
// ErrNotSupported.
package cgoguard
