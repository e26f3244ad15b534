package good

/*
#include <stdlib.h>
#include <string.h>
#include <limits.h>

typedef struct { char name[16]; char *label; } rec;
static void fill(rec *r) { strcpy(r->name, "x"); r->label = r->name; }
static int use(char *s) { return (int)strlen(s); }
static const char *version(void) { return "1.0"; }
static void fill_name(char *b, size_t n) { strncpy(b, "name", n - 1); b[n - 1] = 0; }
*/
import "C"

import (
	"errors"
	"strings"
	"unsafe"
)

func bounded() string {
	var r C.rec
	C.fill(&r)
	n := C.strnlen(&r.name[0], C.size_t(len(r.name)))
	return C.GoStringN(&r.name[0], C.int(n))
}

func pointerField() string {
	var r C.rec
	C.fill(&r)
	return C.GoString(r.label)
}

func fromC() string {
	return C.GoString(C.version())
}

func roundTrip(s string) string {
	p := C.CString(s)
	defer C.free(unsafe.Pointer(p))
	return C.GoString(p)
}

func terminatedBytes(b []byte) string {
	b = append(b, 0)
	return C.GoStringN((*C.char)(unsafe.Pointer(&b[0])), C.int(len(b)-1))
}

func plainString(s string) {
	p := C.CString(s)
	defer C.free(unsafe.Pointer(p))
	C.use(p)
}

func checked(b []byte) error {
	s := string(b)
	if strings.IndexByte(s, 0) >= 0 {
		return errors.New("name holds NUL")
	}
	p := C.CString(s)
	defer C.free(unsafe.Pointer(p))
	C.use(p)
	return nil
}

func checkedBytes(b []byte) error {
	if strings.ContainsRune(string(b), 0) {
		return errors.New("name holds NUL")
	}
	return nil
}

func constant() {
	p := C.CString("plain")
	defer C.free(unsafe.Pointer(p))
	C.use(p)
}

func sized() string {
	var buf [64]C.char
	C.fill_name(&buf[0], C.size_t(len(buf)))
	return C.GoString(&buf[0])
}

func filledByRealpath(name string) string {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	buf := make([]byte, C.PATH_MAX+1)
	if C.realpath(cname, (*C.char)(unsafe.Pointer(&buf[0]))) == nil {
		return ""
	}
	return C.GoString((*C.char)(unsafe.Pointer(&buf[0])))
}
