// Package status holds the errno and status patterns that need more than
// the order of two uses: void functions, results kept in fields, errno
// documented as the signal, and statuses that are no bug to ignore. Lines
// without a want comment are correct code that must stay quiet.
package status

/*
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void lib_release(void *p) { (void)p; }
static void lib_reset(void) { errno = 0; }
static void *ctx_new(void) { return 0; }
static int proxy(void) { errno = EINTR; return -1; }
static int lib_open(void **db) { *db = 0; return 0; }
static int lib_close(void *db) { (void)db; return 0; }
struct lib_options { int version; };
static int lib_options_init(struct lib_options *o, unsigned v) { o->version = (int)v; return 0; }
static int lib_teardown(void) { return 0; }
static int lib_flush(void) { return 0; }
static int lib_last_error(void) { return 0; }
static int lib_init(void) { return 0; }

static int wrap_proxy(void) { return proxy(); }

// cgoguard:errno proxy
// cgoguard:nostatus lib_teardown
*/
import "C"

import (
	"errors"
	"fmt"
	"time"
	"unsafe"
)

// The errno form of a void function: errno says nothing about failure.
func voidRelease(p unsafe.Pointer) error {
	_, err := C.lib_release(p) // want `CG030: C.lib_release returns void, so errno after it says nothing about failure`
	return err
}

// A void function whose C definition sets errno on purpose.
func voidDocumented() error {
	_, err := C.lib_reset()
	return err
}

type holder struct{ ctx unsafe.Pointer }

// The result assigned to a field is tested after errno.
func fieldResultLate(h *holder) error {
	var err error
	h.ctx, err = C.ctx_new()
	if err != nil { // want `CG030: err from C.ctx_new is read before h.ctx`
		return err
	}
	return nil
}

// The result assigned to a field, tested before errno.
func fieldResultFirst(h *holder) error {
	var err error
	h.ctx, err = C.ctx_new()
	if h.ctx == nil {
		return fmt.Errorf("init: %w", err)
	}
	return nil
}

// A function that documents errno as its only signal (configured in the
// preamble) and strtol, whose result cannot signal failure.
func documented(s *C.char) (int64, error) {
	_, err := C.proxy()
	if err != nil {
		return 0, err
	}
	v, err := C.strtol(s, nil, 10)
	if err != nil {
		return 0, err
	}
	return int64(v), nil
}

// Best-effort cleanup on a path that already returns an error.
func open() (unsafe.Pointer, error) {
	var db unsafe.Pointer
	if rv := C.lib_open(&db); rv != 0 {
		err := errors.New("open failed")
		C.lib_close(db)
		return nil, err
	}
	return db, nil
}

// The same close on the success path matters.
func closeAtEnd(db unsafe.Pointer) error {
	C.lib_close(db) // want `CG031: status returned by C.lib_close is ignored`
	return nil
}

// An options initialiser: fails only on a version mismatch the header's
// own constant rules out.
func options() C.struct_lib_options {
	var o C.struct_lib_options
	C.lib_options_init(&o, 1)
	return o
}

// Configured as carrying no status.
func teardown() { C.lib_teardown() }

// The status is checked by other means right after.
func flushChecked() error {
	C.lib_flush()
	if C.lib_last_error() != 0 {
		return errors.New("flush failed")
	}
	return nil
}

// A flush whose failure nothing checks.
func flushLost() {
	C.lib_flush() // want `CG031: status returned by C.lib_flush is ignored`
}

// A periodic flush in a goroutine: the next round retries.
func flusher(stop chan struct{}) {
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				C.lib_flush()
			}
		}
	}()
}

// A deferred close of a stream opened for reading only.
func readAll(path string) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	mode := C.CString("rb")
	defer C.free(unsafe.Pointer(mode))
	f := C.fopen(cpath, mode)
	if f == nil {
		return
	}
	defer func() { C.fclose(f) }()
}

// A deferred close of a stream opened for writing loses buffered data.
func writeAll(path string) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	mode := C.CString("wb")
	defer C.free(unsafe.Pointer(mode))
	f := C.fopen(cpath, mode)
	if f == nil {
		return
	}
	defer func() { C.fclose(f) }() // want `CG031: status returned by C.fclose is ignored`
}

type producer struct{ stop chan struct{} }

// A periodic flush in a method the package runs as a goroutine.
func (p *producer) flushLoop() {
	for {
		select {
		case <-p.stop:
			return
		case <-time.After(time.Second):
			C.lib_flush()
		}
	}
}

func (p *producer) start() { go p.flushLoop() }

// A cleanup inside a nested block of an error path.
func openNested() (unsafe.Pointer, error) {
	var db unsafe.Pointer
	if rv := C.lib_open(&db); rv != 0 {
		err := errors.New("open failed")
		if db != nil {
			C.lib_close(db)
		}
		return nil, err
	}
	return db, nil
}

// A wrapper around a function documenting errno.
func wrapped() error {
	_, err := C.wrap_proxy()
	return err
}

// A stream a Go helper opened for reading.
func openStream(path, mode string) (*C.FILE, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	cmode := C.CString(mode)
	defer C.free(unsafe.Pointer(cmode))
	f := C.fopen(cpath, cmode)
	if f == nil {
		return nil, errors.New("open failed")
	}
	return f, nil
}

func ping(path string) error {
	f, err := openStream(path, "rb")
	if err != nil {
		return err
	}
	defer C.fclose(f)
	return nil
}

// A deferred close of a stream a Go helper opened for writing, with an
// error returned after: not a cleanup on an error path.
func dump(path string) error {
	f, err := openStream(path, "w")
	if err != nil {
		return err
	}
	defer C.fclose(f) // want `CG031: status returned by C.fclose is ignored`
	return errors.New("written")
}

// Library initialisation can fail.
func init() {
	C.lib_init() // want `CG031: status returned by C.lib_init is ignored`
}
