// Reduced from github.com/proglottis/gpgme data.go (BSD-3-Clause, see
// ../LICENSE).

package gpgme

/*
#include <stdlib.h>
#include <sys/types.h>

typedef struct gpgme_data *gpgme_data_t;
typedef off_t gpgme_off_t;

extern ssize_t gpgme_data_read(gpgme_data_t dh, void *buffer, size_t size);
extern ssize_t gpgme_data_write(gpgme_data_t dh, const void *buffer, size_t size);
extern gpgme_off_t gogpgme_data_seek(gpgme_data_t dh, gpgme_off_t offset, int whence);
*/
import "C"

import (
	"io"
	"runtime"
	"unsafe"
)

// The Data buffer used to communicate with GPGME
type Data struct {
	dh  C.gpgme_data_t // WARNING: Call runtime.KeepAlive(d) after ANY passing of d.dh to C
	err error
}

func (d *Data) Write(p []byte) (int, error) {
	var buffer *byte
	if len(p) > 0 {
		buffer = &p[0]
	}

	n, err := C.gpgme_data_write(d.dh, unsafe.Pointer(buffer), C.size_t(len(p)))
	runtime.KeepAlive(d)
	switch {
	case d.err != nil:
		defer func() { d.err = nil }()

		return 0, d.err
	case n < 0:
		return 0, err
	case len(p) > 0 && n == 0:
		return 0, io.EOF
	}
	return int(n), nil
}

func (d *Data) Read(p []byte) (int, error) {
	var buffer *byte
	if len(p) > 0 {
		buffer = &p[0]
	}

	n, err := C.gpgme_data_read(d.dh, unsafe.Pointer(buffer), C.size_t(len(p)))
	runtime.KeepAlive(d)
	switch {
	case d.err != nil:
		defer func() { d.err = nil }()

		return 0, d.err
	case n < 0:
		return 0, err
	case len(p) > 0 && n == 0:
		return 0, io.EOF
	}
	return int(n), nil
}

func (d *Data) Seek(offset int64, whence int) (int64, error) {
	n, err := C.gogpgme_data_seek(d.dh, C.gpgme_off_t(offset), C.int(whence))
	runtime.KeepAlive(d)
	switch {
	case d.err != nil:
		defer func() { d.err = nil }()

		return 0, d.err
	case n < 0:
		return 0, err
	}
	return int64(n), nil
}
