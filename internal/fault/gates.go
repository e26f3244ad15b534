//go:build cgo

package fault

/*
#cgo CFLAGS: -Wall -Wextra -Werror -O2 -g
#include "fault.h"
*/
import "C"

import (
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// Supported reports whether faults can run (a build with cgo).
const Supported = true

var (
	setupOnce sync.Once
	gatesFile *os.File
	setupErr  error
	entry     unsafe.Pointer
)

// Setup creates the gates in a memory file (once; not in a worker). If
// the file cannot be made the gates live in private memory: failpoints act
// in this process, File returns nil, and the error says why.
func Setup() error {
	if InWorker {
		return nil
	}
	setupOnce.Do(func() {
		fd := int(C.cg_fault_setup())
		if fd < 0 {
			setupErr = fmt.Errorf("cgoguard: failpoint gates in a memory file: %w", syscall.Errno(-fd))
			return
		}
		gatesFile = os.NewFile(uintptr(fd), "memfd:cgoguard-failpoints")
	})
	return setupErr
}

// File returns the memory file of the gates, for a worker to inherit, or
// nil when there is none (Setup not run, or it fell back to private
// memory).
func File() *os.File {
	if InWorker {
		return nil
	}
	return gatesFile
}

// Attach maps the parent's gates from descriptor fd, read-only, in a
// worker, and closes fd.
func Attach(fd int) error {
	rc := C.cg_fault_attach(C.int(fd))
	syscall.Close(fd)
	if rc != 0 {
		return fmt.Errorf("cgoguard: map the failpoint gates: %w", syscall.Errno(-rc))
	}
	return nil
}

// SetEntry installs fn, a C function int fn(void *ticket), as the fault
// entry: the function run in place of a call that carries a fault, here
// and in the workers (package chaos does it in its init, which runs in
// workers too).
func SetEntry(fn unsafe.Pointer) {
	entry = fn
	C.cg_fault_entry = (*[0]byte)(fn)
}

// Entry returns the fault entry, or nil when none is installed.
func Entry() unsafe.Pointer { return entry }

// Gen returns the generation of gate slot: a ticket made now waits until
// it changes.
func Gen(slot int) uint32 { return uint32(C.cg_fault_gen(C.int(slot))) }

// Expire makes the waiters at gate slot return after d at the latest
// (never for 0).
func Expire(slot int, d time.Duration) { C.cg_fault_expiry(C.int(slot), C.int64_t(d)) }

// Release opens gate slot: every call waiting at it, in this process and
// in workers, returns.
func Release(slot int) { C.cg_fault_release(C.int(slot)) }
