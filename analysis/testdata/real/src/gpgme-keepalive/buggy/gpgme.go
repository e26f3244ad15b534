// Reduced from github.com/proglottis/gpgme data.go and gpgme.go
// (BSD-3-Clause, see ../LICENSE).

package gpgme

/*
#include <stdlib.h>

typedef unsigned int gpgme_error_t;
typedef struct gpgme_data *gpgme_data_t;
typedef struct gpgme_context *gpgme_ctx_t;

extern gpgme_error_t gpgme_new(gpgme_ctx_t *ctx);
extern void gpgme_release(gpgme_ctx_t ctx);
extern gpgme_error_t gpgme_data_new(gpgme_data_t *dh);
extern void gpgme_data_release(gpgme_data_t dh);
extern char *gpgme_data_get_file_name(gpgme_data_t dh);
extern gpgme_error_t gpgme_op_decrypt(gpgme_ctx_t ctx, gpgme_data_t cipher, gpgme_data_t plain);
*/
import "C"

import (
	"runtime"
)

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

// The Data buffer used to communicate with GPGME
type Data struct {
	dh C.gpgme_data_t
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
	C.gpgme_data_release(d.dh)
	d.dh = nil
	return nil
}

// Name returns the associated filename if any
func (d *Data) Name() string {
	return C.GoString(C.gpgme_data_get_file_name(d.dh)) // bug: CG022
}

// Context is a GPGME context.
type Context struct {
	ctx C.gpgme_ctx_t
}

// New returns a new context.
func New() (*Context, error) {
	c := &Context{}
	err := C.gpgme_new(&c.ctx)
	runtime.SetFinalizer(c, (*Context).Release)
	return c, handleError(err)
}

// Release releases the context.
func (c *Context) Release() {
	if c.ctx == nil {
		return
	}
	C.gpgme_release(c.ctx)
	c.ctx = nil
}

// Decrypt decrypts ciphertext into plaintext.
func (c *Context) Decrypt(ciphertext, plaintext *Data) error {
	return handleError(C.gpgme_op_decrypt(c.ctx, ciphertext.dh, plaintext.dh)) // bug: CG022
}
