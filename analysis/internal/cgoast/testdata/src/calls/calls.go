package calls

/*
#cgo noescape take
#cgo nocallback take
#include <errno.h>
#include <stdlib.h>
static int take(void *p, int n) { (void)p; return n; }
static int fail(int e) { errno = e; return -1; }
*/
import "C"

import "unsafe"

type T struct{ p *int }

func Calls(s string, b []byte, t *T) {
	cs := C.CString(s)               // want `CString args=s errno=false checked=false`
	defer C.free(unsafe.Pointer(cs)) // want `free args=unsafe.Pointer\(cs\) errno=false checked=true`
	p := C.malloc(8)                 // want `malloc args=8 errno=false checked=false`
	C.free(p)                        // want `free args=p errno=false checked=true`
	r, err := C.fail(1)              // want `fail args=1 errno=true checked=false`
	_, _ = r, err
	C.take(unsafe.Pointer(&b[0]), C.int(len(b))) // want `take args=&b\[0\],C.int\(len\(b\)\) errno=false checked=true`
	go C.take(nil, 2)                            // want `take args=nil,2 errno=false checked=false`
	x := C.take(unsafe.Pointer(C.CString(s)), 0) // want `take args=unsafe.Pointer\(C.CString\(s\)\),0 errno=false checked=true` `CString args=s errno=false checked=false`
	_ = x
	_ = C.GoString(cs) // want `GoString args=cs errno=false checked=false`
	_ = t
}
