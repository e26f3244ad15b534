//go:build cgo

package hazards

// #cgo CFLAGS: -O2
// #include <stdlib.h>
// #include "hazards.h"
import "C"

import (
	"os/signal"
	"runtime"
	"syscall"
	"unsafe"
)

// Greet returns a greeting made by C. Hazard: the C copy of name is never
// freed.
func Greet(name string) string {
	buf := (*C.char)(C.calloc(256, 1))
	defer C.free(unsafe.Pointer(buf))
	if C.hz_greet(C.CString(name), buf, 256) != 0 {
		return ""
	}
	return C.GoString(buf)
}

// OpenLog opens a log file through C stdio. Hazard: the FILE* (and its
// descriptor) is never closed.
func OpenLog(path string) error {
	p := C.CString(path)
	defer C.free(unsafe.Pointer(p))
	if f := C.hz_open_log(p); f == nil {
		return syscall.ENOENT
	}
	return nil
}

// Callback is a Go value that C is meant to call back.
type Callback struct{ Fn func(int) int }

// Register stores cb in a C slot. Hazard: a Go pointer is written into C
// memory, where the Go garbage collector cannot see it.
func Register(cb *Callback) unsafe.Pointer {
	slot := (*C.hz_slot)(C.calloc(1, C.size_t(unsafe.Sizeof(C.hz_slot{}))))
	slot.cb = unsafe.Pointer(cb)
	return unsafe.Pointer(slot)
}

// Unregister frees a slot made by Register.
func Unregister(slot unsafe.Pointer) { C.free(slot) }

// Counter counts calls. Hazard: it is updated without synchronisation.
var Counter int

// Count increments Counter.
func Count() { Counter++ }

// QuietAborts silences SIGABRT. Hazard: it replaces the crash handler, so
// the next abort() in C kills the process without a report.
func QuietAborts() { signal.Ignore(syscall.SIGABRT) }

// Pin runs fn on a locked OS thread. Hazard: the thread is never unlocked.
func Pin(fn func()) {
	runtime.LockOSThread()
	fn()
}

// Flush flushes C stdio. Hazard: the status is ignored.
func Flush() {
	C.hz_flush()
}

// Check validates v in C; a negative v aborts the process.
func Check(v int) int { return int(C.hz_check(C.int(v))) }
