// Package nohdr includes a header no machine has: cgo cannot compile its
// C code, so vet cannot analyse it (and analyses the packages beside it).
package nohdr

// #include <cgoguard_fixture_missing_header.h>
import "C"

// Call calls into the library whose header is missing.
func Call() { C.missing_call() }
