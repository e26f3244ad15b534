// Package chaos runs red-blue experiments on a Go program that embeds C:
// failpoints that make guarded C calls misbehave exactly at the Go→C
// boundary, an SLO watch over Prometheus metrics, remediation, and a
// recovery clock that gives each experiment a verdict.
//
// # Failpoints
//
// A failpoint makes the guarded calls of a module (cgoguard.New), or of one
// C function of it, misbehave without touching the C code. The action runs
// in C, below the guard frame, on the calling thread, so the real capture,
// quarantine, breaker and timeout paths run:
//
//	segv, bus, fpe, abort  a real SIGSEGV (NULL store), SIGBUS (a page past
//	                       the end of a file), SIGFPE (integer division by
//	                       zero) or SIGABRT (raised as abort() raises it)
//	delay(D)               sleep D in C, then call the function
//	hang                   block in C until the failpoint is cleared or
//	                       expires, then call the function; a call with a
//	                       deadline is abandoned by it (ErrTimeout) and its
//	                       thread released when the failpoint goes
//	errno(E)               return -E without calling the function
//	error(C,M[,E])         fail as cg_set_error_errno(C, E, "%s", M) would
//	off                    nothing: the call runs normally
//
// Failpoints act on isolated modules too (cgoguard.WithIsolation with
// package isolate's pools): the triggers are evaluated here, once per call,
// and the action goes to the worker with the call, which runs it on the
// thread serving the call, under the same guard. A segv really crashes the
// worker (a *cgoguard.CrashError with the worker's frames, the worker
// replaced and counted in cgoguard_worker_restarts_total), a hang blocks in
// the worker until the failpoint is cleared or expires or the call's
// timeout has the worker killed, a delay sleeps there, and errno and error
// return without calling the function. A function is also targeted by the
// name it was registered under with isolate.Register. Modules of another
// cgoguard.Isolated runner are left alone (Info.Unreachable).
//
// Failpoints are set from the environment at start (CGOGUARD_FAILPOINTS),
// with Set and SetTTL, or over HTTP with Handler (GET lists, PUT sets with
// a TTL, DELETE clears, POST .../reset resets a module; a bearer token
// from CGOGUARD_ADMIN_TOKEN is required). Each fired failpoint counts in
// cgoguard_failpoints_fired_total{module,action} (Collector).
//
// # Spec grammar
//
// A spec is one line; whitespace around tokens is ignored:
//
//	spec     = [ entry *( ";" entry ) ]
//	entry    = target "=" sequence
//	target   = module [ "." function ]
//	module   = name / quoted          ; the name given to cgoguard.New
//	function = name / quoted          ; a name given with Name, or the C symbol
//	name     = 1*( ALPHA / DIGIT / "_" / "-" / "/" / "@" / ":" / "+" )
//	quoted   = a Go double-quoted string ("my.module")
//	sequence = term *( "->" term )
//	term     = [ count "*" ] [ trigger ] action
//	count    = 1*DIGIT                 ; fire on N calls, then the term is used up
//	trigger  = percent "%"             ; fire with this probability (0 < p <= 100)
//	         / "%" 1*DIGIT             ; fire on every Nth call reaching the term
//	percent  = 1*DIGIT [ "." 1*DIGIT ]
//	action   = "off" / "segv" / "bus" / "fpe" / "abort" / "hang"
//	         / "delay(" duration ")"   ; a Go duration: 200ms, 1.5s
//	         / "errno(" errno ")"      ; a name (EIO) or a number
//	         / "error(" code "," message [ "," errno ] ")"
//	code     = [ "-" ] 1*DIGIT
//	message  = quoted / 1*( any character but "," ")" ";" )
//
// On each call the terms are tried from the left; the first whose trigger
// fires acts, a term with a count is used up after firing that many times,
// and a call that no term fires on runs normally. A function target is
// tried before the module-wide one. Examples:
//
//	zlib.inflate=10%segv;zlib=delay(200ms)  10% of inflate calls crash; every zlib call is 200ms slower
//	zlib=2*errno(EIO)->off                  the first two calls fail with EIO, then nothing
//	zlib=%10hang                            every tenth call hangs until cleared
//	zlib=1*off->3*abort                     the second to fourth calls abort
//
// # Cost when off
//
// A failpoint marks its module's state word, the word the guarded fast
// path already loads. With no failpoint set on a module its calls do no
// extra work; a marked module's calls take the slow path, which asks this
// package what to call.
//
// # Experiments
//
// An experiment file (YAML, JSON Schema in Schema) is a table of
// experiments: per fault type, the target, the duration, the steady state
// and the SLO (each a PromQL query evaluated by a Prometheus server, or a
// metric scraped from /metrics with a label match, an operator, a
// threshold and a window), the recovery SLA, the remediation, the poll
// interval and how many healthy polls in a row close the fault. A Runner
// checks the steady state, injects the fault (journalled first, so
// Runner.Cleanup can revert what a killed runner left), watches the SLO,
// removes the fault after the duration, runs the remediation, and polls
// until the SLO holds ConsecutiveOK times in a row: held, recovered (with
// the measured time), sla_missed or aborted. WriteReport writes the
// red-blue table as text, JSON, JUnit, HTML with an SVG plot per
// experiment, or as a checklist run.
//
// # Example
//
//	m, _ := cgoguard.New("zlib", cgoguard.WithCrashPolicy(cgoguard.Restart))
//	chaos.Name(unsafe.Pointer(C.inflate_entry), "inflate")
//	if err := chaos.SetTTL("zlib.inflate=10%segv", time.Minute); err != nil {
//		log.Fatal(err)
//	}
//	_, err := m.Call(ctx, unsafe.Pointer(C.inflate_entry), arg) // a *cgoguard.CrashError one time in ten
//	chaos.Clear()
//
//	mux.Handle("/debug/cgoguard/failpoints", chaos.Handler())
//	mux.Handle("/debug/cgoguard/failpoints/", chaos.Handler())
//	reg.MustRegister(chaos.Collector())
//
//	f, err := chaos.LoadFile("chaos/experiments/service.yaml", map[string]string{"SERVICE": url})
//	res, err := chaos.NewRunner().Run(ctx, f)
//	chaos.WriteReport(os.Stdout, "text", res)
//
// # Concurrency
//
// All exported functions and methods are safe to be used concurrently
// unless specified otherwise; a Runner runs one Run at a time. Failpoints
// act only in programs built with cgo; without it Set returns
// cgoguard.ErrNotSupported, while experiment files, runners and reports
// work.
package chaos
