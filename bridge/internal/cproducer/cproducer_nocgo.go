//go:build !cgo

package cproducer

import (
	"errors"
	"unsafe"
)

// ErrNotSupported is returned by Start without cgo: there are no C threads.
var ErrNotSupported = errors.New("cgoguard: cproducer needs cgo")

// Mode is what each producer thread does per message.
type Mode int

// Config describes a run.
type Config struct {
	Threads   int
	PerThread uint64
	Mode      Mode
	Size      int
	PauseNS   int64
	Batch     int
	FirstID   uint32
	Together  bool
}

// Run is a set of running producer threads.
type Run struct{}

// Start returns ErrNotSupported without cgo.
func Start(b unsafe.Pointer, cfg Config) (*Run, error) { return nil, ErrNotSupported }
