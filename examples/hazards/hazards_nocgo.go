//go:build !cgo

package hazards

import "unsafe"

// Greet returns "" without cgo.
func Greet(name string) string { return "" }

// OpenLog returns ErrNotSupported without cgo.
func OpenLog(path string) error { return ErrNotSupported }

// Callback is a Go value that C is meant to call back.
type Callback struct{ Fn func(int) int }

// Register returns nil without cgo.
func Register(cb *Callback) unsafe.Pointer { return nil }

// Unregister does nothing without cgo.
func Unregister(slot unsafe.Pointer) {}

// Counter counts calls.
var Counter int

// Count increments Counter.
func Count() { Counter++ }

// QuietAborts does nothing without cgo.
func QuietAborts() {}

// Pin runs fn.
func Pin(fn func()) { fn() }

// Flush does nothing without cgo.
func Flush() {}

// Check returns v without cgo.
func Check(v int) int { return v }
