// Reduced from github.com/proglottis/gpgme data.go (BSD-3-Clause, see
// ../LICENSE).

package gpgme

/*
#include <stdlib.h>

typedef unsigned int gpgme_error_t;
typedef struct gpgme_data *gpgme_data_t;

extern gpgme_error_t gpgme_data_new(gpgme_data_t *dh);
extern void gpgme_data_release(gpgme_data_t dh);
*/
import "C"

import (
	"runtime"
)

// The Data buffer used to communicate with GPGME
type Data struct {
	dh C.gpgme_data_t // WARNING: Call runtime.KeepAlive(d) after ANY passing of d.dh to C
}

func newData() *Data {
	d := &Data{}
	runtime.SetFinalizer(d, (*Data).Close)
	return d
}

// NewData returns a new memory based data buffer
func NewData() (*Data, error) {
	d := newData()
	return d, handleError(C.gpgme_data_new(&d.dh))
}

// Close releases any resources associated with the data buffer
func (d *Data) Close() error {
	if d.dh == nil {
		return nil
	}
	_, err := C.gpgme_data_release(d.dh) // bug: CG030
	runtime.KeepAlive(d)
	d.dh = nil
	return err
}

// Error is a GPGME error.
type Error struct {
	err C.gpgme_error_t
}

func (e Error) Error() string { return "gpgme error" }

func handleError(err C.gpgme_error_t) error {
	if err == 0 {
		return nil
	}
	return Error{err: err}
}
