// Package isolate runs guarded C calls in worker processes that are killed
// and restarted: the one recovery that is sound after a crash (the
// library's heap and locks may be corrupt) and the one way to take back a
// call that hangs (a thread blocked in C cannot be cancelled, a process
// can be killed).
//
// The program's own binary is the worker: a pool re-executes it, and
// Main, called first in main, turns that process into a worker. The C
// entry points cross the process boundary by name: Register them in init,
// so that every process holds the same table (a worker refuses to start
// when its table differs from the parent's).
//
//	/*
//	#include "codec.h" // int decode(void *arg); struct req {...};
//	*/
//	import "C"
//
//	func init() { isolate.Register("decode", unsafe.Pointer(C.decode)) }
//
//	func main() {
//		isolate.Main() // in a worker: serves calls, never returns
//
//		p, err := isolate.New("codec", isolate.WithWorkers(4), isolate.WithCallTimeout(2*time.Second))
//		if err != nil {
//			log.Fatal(err)
//		}
//		defer p.Close()
//
//		ref, buf, err := p.Arena().Alloc(int(C.sizeof_struct_req), 8)
//		req := (*C.struct_req)(unsafe.Pointer(&buf[0]))
//		// ... fill req; pointers in it must point into p.Arena() too
//		rc, err := p.Call(ctx, "decode", ref)
//		var crash *cgoguard.CrashError
//		if errors.As(err, &crash) {
//			// the worker died (signal, address, C frames in crash); it is being replaced
//		}
//	}
//
// Moving an existing module out of process is one option; its callers keep
// calling Module.Call with the C function and an argument in the pool's
// arena:
//
//	m, err := cgoguard.New("codec", cgoguard.WithIsolation(isolate.WithWorkers(4), isolate.WithCallTimeout(time.Second)),
//		cgoguard.WithBreaker(cgoguard.BreakerConfig{}))
//	p, _ := isolate.PoolOf(m) // p.Arena() for the arguments
//
// WithIsolation joins the pool's options into one Isolator; giving it
// isolate.Isolator(opts...) instead is the same.
//
// # Calls
//
// A call's argument lives in the pool's arena (package arena, backed by a
// memory file that exists in no directory), which every worker maps at the
// same address as the parent: Go fills the block, the worker's C code
// reads and writes it in place, and pointers from it into the arena are
// valid on both sides. Nothing is copied or serialised. The request (the
// function's index, the argument's address, the trace id) and the result
// (rc, the cg_set_error detail, or a crash record) travel through a slot
// page per worker, with a futex wake-up each way. The worker runs the
// function in the root package's guarded-call trampoline, so a crash is
// caught there and reported with its signal, address and frames; the
// parent names the frames (moving each PC to the same place of the same
// object in its own address space).
//
// Results come back as from an in-process call: rc >= 0, or a
// *cgoguard.CError, or a *cgoguard.CrashError, or an error matching
// cgoguard.ErrTimeout. A worker that ends during a call without a report
// (killed from outside, a fault on a thread of its own, exit()) yields an
// *ExitError, which wraps a *cgoguard.CrashError when a signal ended it.
//
// # Workers
//
// Each worker runs one call at a time; a call waits for an idle worker.
// After a crash the worker is killed (once the parent has read its memory
// map) and replaced: by a ready spare (WithSpares) at once, else by a new
// process. Calls that were on a dying worker fail at once, never wait on
// it; a call whose worker died before taking it goes to another. At a
// deadline the call returns ErrTimeout and its worker gets WithKillGrace
// to finish before it is killed with SIGKILL and replaced. Replacements in
// a row back off (WithRestartBackoff), so a library that crashes on every
// call, or a worker that dies while starting (reported as a *StartError
// with the end of its output), never restarts in a hot loop; while no
// worker can start, calls fail at once with ErrUnavailable.
//
// Workers die with their parent: the parent-death signal (SIGKILL) is set
// before exec, from a thread that lives as long as the pool, and a worker
// checks at start, and every second while idle, that its parent is still
// the process that started it. Workers run in their own process group and
// ignore SIGINT, SIGTERM and SIGHUP: the parent stops them (Close). No
// shared memory is left behind: the arena and the slots are memory files
// without a name, gone with the last process that maps them.
//
// # Module semantics
//
// A pool runs the calls of a cgoguard.Module (New creates it; Isolator is
// given to cgoguard.New), so its breaker, bulkhead, observer, metrics
// (cgoguard_calls_total and the others, under the module's name; package
// observe adds cgoguard_worker_restarts_total{module,reason} and
// cgoguard_workers), readiness (/readyz fails while no worker can start)
// and status file apply. A crash does not quarantine an isolated module:
// the crashed process is gone; it still counts for the breaker.
//
// # Failpoints
//
// Package chaos's failpoints act on a pool's module: the parent evaluates
// the triggers once per call and sends the action with the call; the worker
// runs it on the thread serving the call, under the same guard (a segv
// crashes the worker and takes the crash path above, a hang holds the
// worker until the failpoint is cleared or expires or the call times out,
// errno and error return without calling the function). A function is
// targeted by the name it was registered under. A call without a fault
// pays one word written with the request and one branch in the worker.
//
// Concurrency: Register is for init functions. Pools, their methods and
// the module's Call are safe for concurrent use by any number of
// goroutines.
package isolate
