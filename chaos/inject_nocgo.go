//go:build !cgo

package chaos

import (
	"time"
	"unsafe"

	"github.com/cgoguard/cgoguard"
)

const (
	supported = false
	maxSlots  = 256
)

// initC fails without cgo: failpoints act inside guarded C calls.
func initC() error { return cgoguard.ErrNotSupported }

func ticket(a Action, slot int, gen uint32, fn, arg unsafe.Pointer, isolated bool) (unsafe.Pointer, unsafe.Pointer) {
	return fn, arg
}

func slotGen(slot int) uint32              { return 0 }
func slotExpiry(slot int, d time.Duration) {}
func slotRelease(slot int)                 {}

// Waiting returns 0 without cgo.
func Waiting() int { return 0 }
