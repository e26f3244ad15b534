//go:build cgo

package cgoguard

/*
#cgo CFLAGS: -I${SRCDIR}/include -Wall -Wextra -Werror -O2 -g
// -rdynamic puts the program's C functions in the dynamic symbol table, so
// crash frames are named even in binaries linked without a symbol table
// (go run, go test, -ldflags=-s).
#cgo LDFLAGS: -rdynamic -ldl
#cgo noescape cg_call
#cgo noescape cg_stats_read
#cgo nocallback cg_stats_read
#cgo noescape cg_symbolize
#cgo nocallback cg_symbolize
#include "guard.h"
// cgo's generated wrappers for functions without parameters leave one
// unused; the warning is about generated code, not ours (guard.c keeps it).
#pragma GCC diagnostic ignored "-Wunused-parameter"
*/
import "C"

import (
	"context"
	"fmt"
	"syscall"
	"unsafe"
)

const (
	modeCount = C.CG_MODE_COUNT
	modeTime  = C.CG_MODE_TIME
	modeOther = C.CG_MODE_OTHER
	// modeSampleShift is where log2 of the histogram's sampling interval
	// sits in the mode (CG_MODE_SAMPLE_SHIFT).
	modeSampleShift = C.CG_MODE_SAMPLE_SHIFT
	maxSlots        = C.CG_MAX_SLOTS
)

var installError error

func init() {
	// The Go runtime has installed its handlers by now; chain ours in front.
	if rc := C.cg_install(); rc != 0 {
		installError = fmt.Errorf("cgoguard: installing signal handlers: %w", syscall.Errno(-rc))
	}
}

func installErr() error { return installError }

// checkHandlers reports a handler that is no longer ours.
func checkHandlers() error {
	var sig, how C.int
	if C.cg_check_handlers(&sig, &how) == 0 {
		return nil
	}
	e := &HandlerError{Signal: syscall.Signal(sig)}
	switch how {
	case 1:
		e.How = "ignored"
	case 2:
		e.How = "reset to default"
	default:
		e.How = "replaced"
	}
	return e
}

// ReinstallHandlers puts cgoguard's signal handlers back where other code
// replaced them (see HandlerError), chaining to the handlers the Go runtime
// installed at start. It returns how many it put back. Use it only when
// the replacement was a mistake: the other party loses its handler.
func ReinstallHandlers() (int, error) {
	if installError != nil {
		return 0, installError
	}
	return int(C.cg_reinstall()), nil
}

// callDetail is what the slow paths of the trampoline report.
type callDetail struct {
	crash *CrashError
	cerr  *CError
}

// guardedCall runs fn(arg) in the trampoline. st is CG_STATUS_*. fn is a
// C function, never a Go pointer, so it crosses as an integer; arg keeps
// cgo's pointer rules (and escapes, as for any C call that may call back).
func guardedCall(fn, arg unsafe.Pointer, slot, mode int32, trace *[16]byte) (rc int, st int, d *callDetail) {
	var hi, lo uint64
	if trace != nil {
		for i := 0; i < 8; i++ {
			hi = hi<<8 | uint64(trace[i])
			lo = lo<<8 | uint64(trace[8+i])
		}
	}
	returned := false
	defer func() {
		if !returned {
			// A Go panic from a callback is unwinding through the call.
			C.cg_unwind(C.int(slot))
		}
	}()
	var r C.cg_ret
	if trace == nil {
		r = C.cg_call_fast(C.uintptr_t(uintptr(fn)), arg, C.int(slot<<8|mode&0xff))
	} else {
		r = C.cg_call(C.uintptr_t(uintptr(fn)), arg, C.int(slot), C.int(mode), C.uint64_t(hi), C.uint64_t(lo))
	}
	returned = true
	return int(r.rc), int(r.status), convertDetail(r.detail)
}

// convertDetail copies a trampoline detail record into Go and releases it;
// nil for none.
func convertDetail(cd *C.cg_detail) *callDetail {
	if cd == nil {
		return nil
	}
	defer C.cg_detail_release(cd)
	switch cd.kind {
	case C.CG_DETAIL_CRASH:
		ce := &CrashError{
			Signal: syscall.Signal(cd.signo),
			Code:   int(cd.si_code),
			Addr:   uintptr(cd.addr),
			PC:     uintptr(cd.pc),
		}
		n := int(cd.nframes)
		ce.Frames = make([]Frame, 0, n)
		for i := 0; i < n; i++ {
			ce.Frames = append(ce.Frames, symbolize(uintptr(cd.frames[i])))
		}
		for _, s := range []syscall.Signal{syscall.SIGSEGV, syscall.SIGBUS, syscall.SIGFPE, syscall.SIGILL, syscall.SIGABRT, syscall.SIGTRAP} {
			if cd.blocked&(1<<(s-1)) != 0 {
				ce.Blocked = append(ce.Blocked, s)
			}
		}
		return &callDetail{crash: ce}
	case C.CG_DETAIL_ERROR:
		return &callDetail{cerr: &CError{
			Code:    int(cd.err_code),
			Errno:   syscall.Errno(cd.err_errno),
			Message: boundedString(cd.msg[:]),
		}}
	}
	return nil
}

// boundedString copies a fixed C buffer up to its first NUL, never past
// its end.
func boundedString(b []C.char) string {
	n := 0
	for n < len(b) && b[n] != 0 {
		n++
	}
	return C.GoStringN(&b[0], C.int(n))
}

// dlSymbol asks the dynamic loader about pc.
func dlSymbol(pc uintptr) (name, object string, base, symAddr uintptr, ok bool) {
	var nbuf, obuf [512]C.char
	var b, s C.uintptr_t
	if C.cg_symbolize(C.uintptr_t(pc), &nbuf[0], C.size_t(len(nbuf)), &obuf[0], C.size_t(len(obuf)), &b, &s) == 0 {
		return "", "", 0, 0, false
	}
	return boundedString(nbuf[:]), boundedString(obuf[:]), uintptr(b), uintptr(s), true
}

// slotStats is one module's C counters summed over threads (see
// cg_mstats in guard.h).
type slotStats struct {
	started               uint64
	ok, err, crash, other uint64
	sumTicks              uint64
	hist                  [C.CG_HIST_BUCKETS]uint64
}

// finished returns the calls that ended: each ends in exactly one of ok,
// err, crash and other.
func (s *slotStats) finished() uint64 { return s.ok + s.err + s.crash + s.other }

// timed returns the calls in the duration histogram.
func (s *slotStats) timed() uint64 {
	var n uint64
	for _, v := range s.hist {
		n += v
	}
	return n
}

func readSlot(slot int32) slotStats {
	var cs C.cg_mstats
	var s slotStats
	if C.cg_stats_read(C.int(slot), &cs) != 0 {
		return s
	}
	s.started = uint64(cs.started)
	s.ok, s.err, s.crash, s.other = uint64(cs.ok), uint64(cs.err), uint64(cs.crash), uint64(cs.other)
	s.sumTicks = uint64(cs.sum_ticks)
	for i := range s.hist {
		s.hist[i] = uint64(cs.hist[i])
	}
	return s
}

func openSlot(slot int32) { C.cg_slot_open(C.int(slot)) }

// closeSlot marks the slot closed and makes every thread see it before
// in-flight counts are read.
func closeSlot(slot int32) {
	C.cg_slot_close(C.int(slot))
	C.cg_membarrier()
}

func tickSource() (tsc bool) { return C.cg_tick_source() != 0 }
func ticksNow() uint64       { return uint64(C.cg_ticks_now()) }
func monoNanos() uint64      { return uint64(C.cg_mono_ns()) }

// Call runs the C function fn (of type int fn(void *arg)) with arg under the
// module's guard and policies. rc >= 0 returns (rc, nil); rc < 0 returns
// (rc, *CError). A crash returns a *CrashError and quarantines the module
// (unless its policy is Restart); a timeout returns ErrTimeout; calls the
// module refuses return ErrQuarantined, ErrOpen, ErrBusy or ErrClosed.
//
// With no deadline, no bulkhead and no observer the call runs on the
// caller's goroutine and thread with no allocation and no syscall.
func (m *Module) Call(ctx context.Context, fn, arg unsafe.Pointer) (int, error) {
	if t := typeWord(ctx); m.word.Load() == 0 && fn != nil && (t == bgType || t == todoType || doneIsNil(ctx)) {
		// The trampoline inline: one Go frame fewer on the hot path.
		returned := false
		defer func() {
			if !returned {
				C.cg_unwind(C.int(m.slot)) // a Go panic from a callback unwinds through the call
			}
		}()
		r := C.cg_call_fast(C.uintptr_t(uintptr(fn)), arg, C.int(m.slotMode))
		returned = true
		if r.status == 0 && r.detail == nil && r.rc >= 0 {
			m.resetRun()
			return int(r.rc), nil
		}
		return m.finish(int(r.rc), int(r.status), convertDetail(r.detail), false, false)
	}
	return m.callSlow(ctx, fn, arg)
}
