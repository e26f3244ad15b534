// Reduced from github.com/proglottis/gpgme data.go (BSD-3-Clause, see
// ../LICENSE).

package gpgme

/*
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/types.h>

extern void gpgme_err_set_errno(int err);
*/
import "C"

import (
	"io"
	"sync"
	"unsafe"
)

// The Data buffer used to communicate with GPGME
type Data struct {
	buf []byte
	r   io.Reader
	w   io.Writer
	err error
}

var (
	callbacks   = map[uintptr]*Data{}
	callbacksMu sync.Mutex
)

func callbackLookup(c uintptr) *Data {
	callbacksMu.Lock()
	defer callbacksMu.Unlock()
	return callbacks[c]
}

//export gogpgme_readfunc
func gogpgme_readfunc(handle, buffer unsafe.Pointer, size C.size_t) C.ssize_t {
	d := callbackLookup(uintptr(handle))
	if len(d.buf) < int(size) {
		d.buf = make([]byte, size)
	}
	n, err := d.r.Read(d.buf[:size])
	if err != nil && err != io.EOF {
		d.err = err
		C.gpgme_err_set_errno(C.EIO)
		return -1
	}
	if n > 0 {
		C.memcpy(buffer, unsafe.Pointer(&d.buf[0]), C.size_t(n))
	}
	return C.ssize_t(n)
}

//export gogpgme_writefunc
func gogpgme_writefunc(handle, buffer unsafe.Pointer, size C.size_t) C.ssize_t {
	d := callbackLookup(uintptr(handle))
	if len(d.buf) < int(size) {
		d.buf = make([]byte, size)
	}
	if size > 0 {
		C.memcpy(unsafe.Pointer(&d.buf[0]), buffer, size)
	}
	n, err := d.w.Write(d.buf[:size])
	if err != nil && err != io.EOF {
		d.err = err
		C.gpgme_err_set_errno(C.EIO)
		return -1
	}
	return C.ssize_t(n)
}
