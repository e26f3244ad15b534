package fix

/*
#include <stdlib.h>
#include <string.h>

static int use(char *s) { return (int)strlen(s); }
*/
import "C"

import "unsafe"

var _ unsafe.Pointer

func length(s string) int {
	p := C.CString(s) // want `CG013: C.CString result p is not freed on every path`
	return int(C.use(p))
}
