// Package fault is the contract between package chaos, which decides that
// a guarded call misbehaves, and package isolate, which carries that
// decision into a worker process: the fault a call carries (fault.h), the
// gates that delays and hangs wait at (a page of a memory file the parent
// creates and its workers map), the C entry that runs a fault, the
// isolated runners that carry faults, and the names functions are
// registered under. Neither package imports the other; both import this
// one.
//
// All functions are safe for concurrent use. Gates change only in the
// parent process.
package fault

import (
	"os"
	"sync"
)

// WorkerEnv marks a process started as an isolate worker; its value is
// the worker's spec (package isolate's).
const WorkerEnv = "CGOGUARD_ISOLATE_WORKER"

// InWorker reports whether this process was started as an isolate worker.
// A worker runs faults but never decides them, and never changes a gate.
var InWorker = os.Getenv(WorkerEnv) != ""

// carriers are the isolated runners (package isolate's pools) that carry
// faults to their workers, with how many of their calls wait at a gate.
var carriers sync.Map // any (cgoguard.Isolated) -> func() int

// AddCarrier records that the isolated runner iso carries faults into its
// workers; waiting returns how many of its calls wait at a gate now.
func AddCarrier(iso any, waiting func() int) { carriers.Store(iso, waiting) }

// RemoveCarrier forgets iso.
func RemoveCarrier(iso any) { carriers.Delete(iso) }

// Carries reports whether the isolated runner iso carries faults.
func Carries(iso any) bool {
	if iso == nil {
		return false
	}
	_, ok := carriers.Load(iso)
	return ok
}

// WorkerWaiting returns how many calls wait at a gate in worker processes.
func WorkerWaiting() int {
	n := 0
	carriers.Range(func(_, v any) bool {
		n += v.(func() int)()
		return true
	})
	return n
}

// names are the names C functions were registered under with
// isolate.Register, by address.
var names sync.Map // uintptr -> string

// NameFunc records that the C function at fn is registered as name.
func NameFunc(fn uintptr, name string) { names.Store(fn, name) }

// FuncName returns the name the C function at fn was registered under.
func FuncName(fn uintptr) (string, bool) {
	v, ok := names.Load(fn)
	if !ok {
		return "", false
	}
	return v.(string), true
}
