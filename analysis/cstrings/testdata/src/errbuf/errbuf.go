// Package errbuf holds the error-string out-parameter convention: C
// writes a NUL-terminated message into a caller's buffer on failure, and
// Go reads it only then. Lines without a want comment are correct code.
package errbuf

/*
#include <stdlib.h>
#include <string.h>

typedef struct lib lib;
static lib *lib_new(const char *name, char *errstr, size_t size) {
	(void)name;
	strncpy(errstr, "no such thing", size - 1);
	errstr[size - 1] = 0;
	return NULL;
}
static int normalize(char *buf, size_t size, const char *name) { strncpy(buf, name, size); return 0; }
*/
import "C"

import (
	"errors"
	"unsafe"
)

// The library writes its message into errstr on failure.
func newLib(name string) (*C.lib, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	errstr := (*C.char)(C.malloc(512))
	defer C.free(unsafe.Pointer(errstr))
	if l := C.lib_new(cname, errstr, 512); l == nil {
		return nil, errors.New(C.GoString(errstr))
	}
	return nil, nil
}

// The buffer goes to C through a Go wrapper first.
func set(name string) error {
	errstr := (*C.char)(C.malloc(128))
	defer C.free(unsafe.Pointer(errstr))
	if !fill(errstr, name) {
		return errors.New(C.GoString(errstr))
	}
	return nil
}

func fill(buf *C.char, name string) bool {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	return C.normalize(buf, 128, cname) == 0
}

// Memory read as a string that nothing wrote.
func unwritten() string {
	buf := (*C.char)(C.malloc(64))
	defer C.free(unsafe.Pointer(buf))
	return C.GoString(buf) // want `CG019: C.GoString on memory from C.malloc`
}
