// Package hazards is a package with planted cgo hazards: it is wrong on
// purpose, so that `cgoguard check ./examples/...` has something to find
// beside the clean example service. Each hazard names the checklist item
// that catches it:
//
//   - Greet leaks a C.CString per call (CG-MEM-01 vet CG013, CG-MEM-04 leak test).
//   - OpenLog leaks a FILE* and its descriptor per call (CG-MEM-05 leak test).
//   - Register stores a Go pointer into C memory (CG-PTR-01 vet CG004,
//     CG-BUILD-04 cgocheck2 test run).
//   - Counter is incremented without synchronisation (CG-BUILD-03 race run).
//   - QuietAborts ignores SIGABRT, disarming crash handlers (CG-SIG-02).
//   - hazards.c copies with strcpy and calls abort (CG-CRASH-01, CG-CRASH-02).
//   - The cgo preamble compiles C without -Wall -Werror (CG-BUILD-02).
//   - Pin locks its OS thread and never unlocks it (CG-THR-01 vet CG026).
//   - Flush ignores the C status it gets (CG-ERR-02 vet CG031).
//
// Its tests exercise the hazards only under `cgoguard check` (which sets
// CGOGUARD_CHECK=1 for the commands it runs); elsewhere, e.g. a plain
// `go test ./...`, they skip, so the project's own test runs stay green.
//
// Example (what not to do):
//
//	s := hazards.Greet("gopher") // leaks the C copy of "gopher"
//
// Concurrency: nothing here is safe; that is the point.
package hazards

import "errors"

// ErrNotSupported is returned when the package is built without cgo.
var ErrNotSupported = errors.New("cgoguard: hazards example needs cgo")
