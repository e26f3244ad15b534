//go:build cgo

package chaos

/*
#cgo CFLAGS: -I${SRCDIR}/../include -Wall -Wextra -Werror -O2 -g
#include "chaos.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

const (
	supported = true
	maxSlots  = C.CG_CHAOS_SLOTS
)

// initC prepares the C side (the condition variable, the SIGBUS page).
func initC() error {
	if rc := C.cg_chaos_init(); rc != 0 {
		return fmt.Errorf("cgoguard: chaos: initialising the C side: %w", syscall.Errno(-rc))
	}
	return nil
}

var chaosCall = unsafe.Pointer(C.cg_chaos_call)

var actionCodes = map[Kind]C.int{
	Segv: C.CG_CHAOS_SEGV, Bus: C.CG_CHAOS_BUS, FPE: C.CG_CHAOS_FPE, Abort: C.CG_CHAOS_ABORT,
	Delay: C.CG_CHAOS_DELAY, Hang: C.CG_CHAOS_HANG, Errno: C.CG_CHAOS_ERRNO, Error: C.CG_CHAOS_ERROR,
}

// ticket returns the chaos C function and its argument for one fired
// action. The ticket lives in Go memory for the length of the call (the
// call's goroutine holds it); for delay and hang, which call fn(arg) in the
// end, it carries arg, pinned so that it may be passed inside Go memory to
// C, and unpinned once the ticket is unreachable (after the call returned).
func ticket(a Action, slot int, gen uint64, fn, arg unsafe.Pointer) (unsafe.Pointer, unsafe.Pointer) {
	t := new(C.cg_chaos_ticket)
	t.action = actionCodes[a.Kind]
	t.slot = C.int(slot)
	t.gen = C.uint64_t(gen)
	t.err = C.int(a.Errno)
	t.code = C.int(a.Code)
	t.delay_ns = C.int64_t(a.Delay)
	n := copy(unsafe.Slice((*byte)(unsafe.Pointer(&t.msg[0])), len(t.msg)-1), a.Message)
	t.msg[n] = 0
	if a.Kind == Delay || a.Kind == Hang {
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

func slotGen(slot int) uint64 { return uint64(C.cg_chaos_gen(C.int(slot))) }

// slotExpiry makes the slot's waiters return after d at the latest (never
// for 0).
func slotExpiry(slot int, d time.Duration) { C.cg_chaos_expiry(C.int(slot), C.int64_t(d)) }

// slotRelease wakes every delay and hang of the slot.
func slotRelease(slot int) { C.cg_chaos_release(C.int(slot)) }

// Waiting returns the number of calls blocked in C by delay or hang
// failpoints now.
func Waiting() int { return int(C.cg_chaos_waiting()) }
