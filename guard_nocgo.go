//go:build !cgo

package cgoguard

import (
	"context"
	"unsafe"
)

const (
	modeCount = 1
	modeTime  = 2
	modeOther = 4
	// modeSampleShift matches CG_MODE_SAMPLE_SHIFT in guard.h.
	modeSampleShift = 4
	maxSlots        = 256
)

func installErr() error    { return ErrNotSupported }
func checkHandlers() error { return ErrNotSupported }

// ReinstallHandlers returns ErrNotSupported without cgo.
func ReinstallHandlers() (int, error) { return 0, ErrNotSupported }

type callDetail struct {
	crash *CrashError
	cerr  *CError
}

func guardedCall(fn, arg unsafe.Pointer, slot, mode int32, trace *[16]byte) (int, int, *callDetail) {
	return 0, 1, nil
}

func dlSymbol(pc uintptr) (name, object string, base, symAddr uintptr, ok bool) {
	return "", "", 0, 0, false
}

type slotStats struct {
	started               uint64
	ok, err, crash, other uint64
	sumTicks              uint64
	hist                  [64]uint64
}

func (s *slotStats) finished() uint64 { return s.ok + s.err + s.crash + s.other }

func (s *slotStats) timed() uint64 {
	var n uint64
	for _, v := range s.hist {
		n += v
	}
	return n
}

func readSlot(slot int32) slotStats { return slotStats{} }
func openSlot(slot int32)           {}
func closeSlot(slot int32)          {}
func tickSource() bool              { return false }
func ticksNow() uint64              { return 0 }
func monoNanos() uint64             { return 0 }

// Call returns ErrNotSupported without cgo.
func (m *Module) Call(ctx context.Context, fn, arg unsafe.Pointer) (int, error) {
	return 0, ErrNotSupported
}
