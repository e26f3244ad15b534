//go:build cgo && linux

package isolate

/*
#include <stdint.h>
#include <stdlib.h>
#include "isolate.h"
*/
import "C"

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/cgoguard/cgoguard/arena"
	"github.com/cgoguard/cgoguard/internal/fault"
)

// serveWorker is Main in a worker process: it checks that the parent is
// alive and agrees on the function table, maps its slot and the pool's
// arena (at the parent's address), and serves until told to exit. It
// returns the exit code.
func serveWorker(v string) int {
	// The C loop runs on this thread for the life of the process.
	runtime.LockOSThread() //cgoguard:thread-exit the process ends with this thread
	fail := func(code int, format string, args ...any) int {
		fmt.Fprintf(os.Stderr, "cgoguard: isolate worker: "+format+"\n", args...)
		return code
	}
	s, err := parseSpec(v)
	if err != nil {
		return fail(exitBadSpec, "%v", err)
	}
	// The parent-death signal is set before exec; the parent may have died
	// before it took effect, so look once it is surely armed.
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0, 0, 0); err != nil {
		return fail(exitBadSpec, "PR_SET_PDEATHSIG: %v", err)
	}
	if os.Getppid() != s.ppid {
		return fail(exitNoParent, "parent %d is gone", s.ppid)
	}
	t := freeze()
	if len(t.names) != s.nfn || t.hash != s.hash {
		return fail(exitBadSpec, "module %q: this process registered %d functions (hash %x), the parent %d (hash %x): call isolate.Register only from init functions, the same way in every process", s.module, len(t.names), t.hash, s.nfn, s.hash)
	}
	// Terminal and service-manager signals are for the parent, which
	// stops its workers itself; a worker dies with it (the parent-death
	// signal) in any case.
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)

	ctl, err := unix.Mmap(fdControl, int64(s.index)*C.CG_ISO_SLOT_SIZE, C.CG_ISO_SLOT_SIZE, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fail(exitBadSpec, "map slot %d: %v", s.index, err)
	}
	unix.Close(fdControl)
	af := os.NewFile(fdArena, "arena")
	a, err := arena.OpenFile(af, arena.WithAddress(s.arenaAddr))
	af.Close()
	if err != nil {
		return fail(exitBadSpec, "map the arena at %#x: %v", s.arenaAddr, err)
	}
	lo := uintptr(a.CPtr())
	hi := lo + uintptr(mappedSize(a))
	if s.faults == 1 {
		// The parent's failpoint gates: a delay or a hang it sends with a
		// call waits at its gate here, and ends when the parent clears the
		// failpoint or its TTL runs out.
		if err := fault.Attach(fdFaults); err != nil {
			return fail(exitBadSpec, "%v", err)
		}
	}

	// The table lives in C memory for the life of the process.
	n := len(t.fns)
	fns := (*C.uintptr_t)(C.malloc(C.size_t(max(n, 1)) * C.size_t(unsafe.Sizeof(C.uintptr_t(0)))))
	for i, fn := range t.fns {
		*(*C.uintptr_t)(unsafe.Add(unsafe.Pointer(fns), i*int(unsafe.Sizeof(C.uintptr_t(0))))) = C.uintptr_t(fn)
	}
	slot := (*C.cg_iso_slot)(unsafe.Pointer(&ctl[0])) //cgoguard:ignore CG002 a successful Mmap returns CG_ISO_SLOT_SIZE bytes
	code := 0
	switch C.cg_iso_serve(slot, fns, C.uint32_t(n), C.uint64_t(lo), C.uint64_t(hi), C.int32_t(s.ppid), C.int32_t(s.index)) {
	case C.CG_ISO_SERVE_ORPHANED:
		code = exitNoParent
	case C.CG_ISO_SERVE_CRASHED:
		code = exitCrashed // the C library's memory may be corrupt: serve nothing more
	}
	// Nothing to flush, and os.Exit would run the exit hooks (the race
	// detector's waits a second).
	syscall.Exit(code)
	return code
}
