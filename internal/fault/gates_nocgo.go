//go:build !cgo

package fault

import (
	"errors"
	"os"
	"time"
	"unsafe"
)

// Supported reports whether faults can run: not without cgo.
const Supported = false

var errNoCgo = errors.New("cgoguard: failpoints need cgo")

// Setup fails without cgo.
func Setup() error { return errNoCgo }

// File returns nil without cgo.
func File() *os.File { return nil }

// Attach fails without cgo.
func Attach(fd int) error { return errNoCgo }

// SetEntry does nothing without cgo.
func SetEntry(fn unsafe.Pointer) {}

// Entry returns nil without cgo.
func Entry() unsafe.Pointer { return nil }

// Gen returns 0 without cgo.
func Gen(slot int) uint32 { return 0 }

// Expire does nothing without cgo.
func Expire(slot int, d time.Duration) {}

// Release does nothing without cgo.
func Release(slot int) {}
