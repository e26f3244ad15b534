package noreturn

// #include <stdlib.h>
// static void put(const char *s) { (void)s; }
import "C"

import (
	"log"
	"os"
	"unsafe"
)

// Fatal leaves the process on the path that does not free: not a leak.
func Fatal(s string, bad bool) {
	cs := C.CString(s)
	if bad {
		log.Fatalf("bad input %q", s)
	}
	C.put(cs)
	C.free(unsafe.Pointer(cs))
}

// Exit is the same with os.Exit.
func Exit(s string, bad bool) {
	cs := C.CString(s)
	if bad {
		os.Exit(2)
	}
	C.put(cs)
	C.free(unsafe.Pointer(cs))
}

// Leak returns without freeing.
func Leak(s string, bad bool) {
	cs := C.CString(s)
	if bad {
		return
	}
	C.put(cs)
	C.free(unsafe.Pointer(cs))
}
