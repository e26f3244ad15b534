//go:build cgo

package chaos

/*
#cgo CFLAGS: -I${SRCDIR}/.. -I${SRCDIR}/../include -Wall -Wextra -Werror -O2 -g
#include "chaos.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"syscall"
	"time"
	"unsafe"

	"github.com/cgoguard/cgoguard/internal/fault"
)

const (
	supported = true
	maxSlots  = C.CG_CHAOS_SLOTS
)

// initC prepares the C side: the SIGBUS page, the gates (shared with the
// isolate workers this process starts) and the fault entry that workers
// run.
func initC() error {
	if rc := C.cg_chaos_init(); rc != 0 {
		return fmt.Errorf("cgoguard: chaos: initialising the C side: %w", syscall.Errno(-rc))
	}
	fault.SetEntry(chaosCall)
	// Without a memory file the gates are private: failpoints act in this
	// process, and modules in worker processes are left alone.
	_ = fault.Setup()
	return nil
}

var chaosCall = unsafe.Pointer(C.cg_chaos_call)

var actionCodes = map[Kind]C.int32_t{
	Segv: C.CG_CHAOS_SEGV, Bus: C.CG_CHAOS_BUS, FPE: C.CG_CHAOS_FPE, Abort: C.CG_CHAOS_ABORT,
	Delay: C.CG_CHAOS_DELAY, Hang: C.CG_CHAOS_HANG, Errno: C.CG_CHAOS_ERRNO, Error: C.CG_CHAOS_ERROR,
}

// ticket returns the chaos C function and its argument for one fired
// action. The ticket lives in Go memory for the length of the call (the
// call's goroutine holds it).
//
// In this process (isolated false), delay and hang, which call fn(arg) in
// the end, carry arg, pinned so that it may be passed inside Go memory to
// C, and unpinned once the ticket is unreachable (after the call returned).
//
// For a module whose calls run in worker processes (isolated true) the
// ticket always carries fn and arg: package isolate reads them in Go to
// find the registered function and check the argument, and sends the
// action to the worker with the call; no C code here reads the ticket's
// pointers, so nothing is pinned.
func ticket(a Action, slot int, gen uint32, fn, arg unsafe.Pointer, isolated bool) (unsafe.Pointer, unsafe.Pointer) {
	t := new(C.cg_chaos_ticket)
	t.f.action = actionCodes[a.Kind]
	t.f.slot = C.int32_t(slot)
	t.f.gen = C.uint32_t(gen)
	t.f.err = C.int32_t(a.Errno)
	t.f.code = C.int32_t(a.Code)
	t.f.delay_ns = C.int64_t(a.Delay)
	n := copy(unsafe.Slice((*byte)(unsafe.Pointer(&t.f.msg[0])), len(t.f.msg)-1), a.Message)
	t.f.msg[n] = 0
	switch {
	case isolated:
		t.fn = C.uintptr_t(uintptr(fn))
		t.arg = arg
	case a.Kind == Delay || a.Kind == Hang:
		t.fn = C.uintptr_t(uintptr(fn))
		if arg != nil {
			pin := new(runtime.Pinner)
			pin.Pin(arg)
			t.arg = arg
			runtime.AddCleanup(t, func(p *runtime.Pinner) { p.Unpin() }, pin)
		}
	}
	return chaosCall, unsafe.Pointer(t)
}

func slotGen(slot int) uint32 { return fault.Gen(slot) }

// slotExpiry makes the slot's waiters return after d at the latest (never
// for 0).
func slotExpiry(slot int, d time.Duration) { fault.Expire(slot, d) }

// slotRelease wakes every delay and hang of the slot, here and in workers.
func slotRelease(slot int) { fault.Release(slot) }

// Waiting returns the number of calls blocked in C by delay or hang
// failpoints now: in this process, and in the isolate workers of its
// modules.
func Waiting() int { return int(C.cg_chaos_waiting()) + fault.WorkerWaiting() }
