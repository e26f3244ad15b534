package bad

/*
#include <stdlib.h>
#include <string.h>

typedef struct { char name[16]; int id; } rec;
static void fill(rec *r) { strcpy(r->name, "x"); }
static int use(char *s) { return (int)strlen(s); }
*/
import "C"

import "unsafe"

func field() string {
	var r C.rec
	C.fill(&r)
	return C.GoString(&r.name[0]) // want `CG019: C.GoString on a fixed-size \[16\]C.char array that may lack a terminating NUL`
}

func local() string {
	var buf [32]C.char
	return C.GoString(&buf[0]) // want `CG019: C.GoString on a fixed-size`
}

func goBytes(b []byte) string {
	return C.GoString((*C.char)(unsafe.Pointer(&b[0]))) // want `CG019: C.GoString on a Go byte slice`
}

func sliceData(b []byte) string {
	return C.GoString((*C.char)(unsafe.Pointer(unsafe.SliceData(b)))) // want `CG019: C.GoString on a Go byte slice`
}

func cbytes(b []byte) string {
	p := C.CBytes(b)
	defer C.free(p)
	return C.GoString((*C.char)(p)) // want `CG019: C.GoString on memory from C.CBytes`
}

func nulConst() {
	p := C.CString("a\x00b") // want `CG020: C.CString of a constant holding a NUL byte`
	defer C.free(unsafe.Pointer(p))
	C.use(p)
}

func fromBytes(b []byte) {
	p := C.CString(string(b)) // want `CG020: C.CString of a string converted from bytes that may hold NUL`
	defer C.free(unsafe.Pointer(p))
	C.use(p)
}

func fromBytesVar(b []byte) {
	s := string(b)
	p := C.CString(s) // want `CG020: C.CString of a string converted from bytes`
	defer C.free(unsafe.Pointer(p))
	C.use(p)
}
