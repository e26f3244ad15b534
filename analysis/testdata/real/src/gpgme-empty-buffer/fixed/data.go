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
	"runtime"
	"sync"
	"unsafe"
)

// The Data buffer used to communicate with GPGME
type Data struct {
	buf []byte
	r   io.Reader
	w   io.Writer
	cbc uintptr
	err error
}

var callbacks struct {
	sync.Mutex
	m map[uintptr]interface{}
	c uintptr
}

func callbackAdd(v interface{}) uintptr {
	callbacks.Lock()
	defer callbacks.Unlock()
	if callbacks.m == nil {
		callbacks.m = make(map[uintptr]interface{})
	}
	callbacks.c++
	ret := callbacks.c
	callbacks.m[ret] = v
	return ret
}

func callbackLookup(c uintptr) interface{} {
	callbacks.Lock()
	defer callbacks.Unlock()
	ret := callbacks.m[c]
	if ret == nil {
		panic("callback pointer not found")
	}
	return ret
}

func callbackDelete(c uintptr) {
	callbacks.Lock()
	defer callbacks.Unlock()
	delete(callbacks.m, c)
}

func newData() *Data {
	d := &Data{}
	runtime.SetFinalizer(d, (*Data).Close)
	return d
}

// NewDataReader returns a new callback based data buffer
func NewDataReader(r io.Reader) *Data {
	d := newData()
	d.r = r
	d.cbc = callbackAdd(d)
	return d
}

// Close releases any resources associated with the data buffer
func (d *Data) Close() error {
	if d.cbc > 0 {
		callbackDelete(d.cbc)
	}
	return nil
}

//export gogpgme_readfunc
func gogpgme_readfunc(handle, buffer unsafe.Pointer, size C.size_t) C.ssize_t {
	d := callbackLookup(uintptr(handle)).(*Data)
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
	d := callbackLookup(uintptr(handle)).(*Data)
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
