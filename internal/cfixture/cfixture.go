//go:build cgo

// Package cfixture holds C functions that fail, crash, block and call back
// into Go on purpose, for the tests and benchmarks of package cgoguard.
// Each is exported as the unsafe.Pointer that Module.Call takes.
package cfixture

/*
#cgo CFLAGS: -I${SRCDIR}/../../include -Wall -Wextra -Werror -O2 -g
#cgo LDFLAGS: -lz
#include <stdlib.h>
#include "cfixture.h"
#pragma GCC diagnostic ignored "-Wunused-parameter"
*/
import "C"

import (
	"sync"
	"unsafe"
)

// C functions of type int fn(void *arg).
var (
	Empty            = unsafe.Pointer(C.fx_empty)
	Ret              = unsafe.Pointer(C.fx_ret)             // returns *(int*)arg
	Count            = unsafe.Pointer(C.fx_count)           // ++*(int*)arg, returns the new count
	Getpid           = unsafe.Pointer(C.fx_getpid)          // returns the calling process's pid
	Errno            = unsafe.Pointer(C.fx_errno)           // returns -*(int*)arg, or -ENOENT
	SetError         = unsafe.Pointer(C.fx_set_error)       // cg_set_error(7, ...) with errno EACCES
	SetErrorErrno    = unsafe.Pointer(C.fx_set_error_errno) // cg_set_error_errno(9, ENOENT, ...)
	SetErrorThenOK   = unsafe.Pointer(C.fx_set_error_then_ok)
	Segv             = unsafe.Pointer(C.fx_segv)        // writes to the address arg
	StrlenNull       = unsafe.Pointer(C.fx_strlen_null) // libc strlen(NULL)
	MemcpyNull       = unsafe.Pointer(C.fx_memcpy_null) // libc memcpy to NULL
	InflateBadStream = unsafe.Pointer(C.fx_inflate_bad_stream)
	InflateNullInput = unsafe.Pointer(C.fx_inflate_null_input)
	Bus              = unsafe.Pointer(C.fx_bus)
	FPE              = unsafe.Pointer(C.fx_fpe)
	Ill              = unsafe.Pointer(C.fx_ill)
	Abort            = unsafe.Pointer(C.fx_abort)
	Assert           = unsafe.Pointer(C.fx_assert) // assert(arg != NULL)
	Trap             = unsafe.Pointer(C.fx_trap)
	Overflow         = unsafe.Pointer(C.fx_overflow)
	SleepMS          = unsafe.Pointer(C.fx_sleep_ms) // sleeps *(int*)arg ms
	WaitGate         = unsafe.Pointer(C.fx_wait_gate)
	Callback         = unsafe.Pointer(C.fx_callback) // calls the Go callback with *(int*)arg
	InGuard          = unsafe.Pointer(C.fx_in_guard)
	TraceID          = unsafe.Pointer(C.fx_trace)            // cg_trace_id into the 33-byte buffer arg
	WaitGateSegv     = unsafe.Pointer(C.fx_wait_gate_segv)   // waits for the gate, then writes through NULL
	BlockSegvAbort   = unsafe.Pointer(C.fx_block_segv_abort) // blocks SIGSEGV on its thread, then aborts
	BlockSegvFault   = unsafe.Pointer(C.fx_block_segv_fault) // blocks SIGSEGV on its thread, then faults
)

// SetGate opens (true) or closes the gate WaitGate waits for.
func SetGate(open bool) {
	v := 0
	if open {
		v = 1
	}
	C.fx_gate_set(C.int(v))
}

// RawCall calls fn(arg) directly, without a guard.
func RawCall(fn, arg unsafe.Pointer) int {
	return int(C.fx_raw(fn, arg))
}

// RawEmpty calls the empty C function directly: the baseline of a cgo call.
func RawEmpty() int { return int(C.fx_empty(nil)) }

var (
	cbMu sync.Mutex
	cbFn func(id int) int
)

// SetCallback sets the Go function that Callback calls.
func SetCallback(fn func(id int) int) {
	cbMu.Lock()
	cbFn = fn
	cbMu.Unlock()
}

//export fxGoCallback
func fxGoCallback(id C.int) C.int {
	cbMu.Lock()
	fn := cbFn
	cbMu.Unlock()
	return C.int(fn(int(id)))
}

// Int returns C memory of n bytes holding v as a C int, for arguments.
func Int(v int) unsafe.Pointer {
	p := C.malloc(C.size_t(unsafe.Sizeof(C.int(0))))
	*(*C.int)(p) = C.int(v)
	return p
}

// Free frees memory from Int.
func Free(p unsafe.Pointer) { C.free(p) }

// SigMask is a C function that writes the calling thread's blocked-signal
// mask (signals 1-64, as a uint64) to arg.
var SigMask = unsafe.Pointer(C.fx_sigmask)

// HeapInUse returns the bytes glibc malloc has handed out (mallinfo2).
func HeapInUse() int64 { return int64(C.fx_heap_in_use()) }

// CallbackUnmarked calls the Go callback without cg_callback_begin/end.
var CallbackUnmarked = unsafe.Pointer(C.fx_callback_unmarked)

// BadAddress returns an unmapped address (0xdead0000) for Segv to write to.
func BadAddress() unsafe.Pointer { return C.fx_bad_address() }

// RawEmptyArg calls the empty C function directly with arg: the baseline of
// a cgo call that passes a pointer, as a C function int fn(void *arg) is
// called without cgoguard.
func RawEmptyArg(arg unsafe.Pointer) int { return int(C.fx_empty(arg)) }
