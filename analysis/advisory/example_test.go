package advisory_test

import (
	"fmt"

	"github.com/cgoguard/cgoguard/analysis/advisory"
	"github.com/cgoguard/cgoguard/analysis/internal/vettest"
)

// The bad package breaks its noescape/nocallback promises and calls C once
// per element.
func Example() {
	findings, err := vettest.Check("testdata", []string{"bad"}, advisory.Analyzer)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range findings {
		fmt.Println(f)
	}
	// Output:
	// bad.go:31: CG028: C.add is called once per iteration of the loop over xs; each cgo call pays the Go-to-C transition: pass the whole batch to C in one call
	// bad.go:34: CG028: C.add is called once per iteration of the loop over i; each cgo call pays the Go-to-C transition: pass the whole batch to C in one call
	// bad.go:3: CG011: #cgo noescape keep_ptr, but keep_ptr stores its argument p in kept; the Go pointer may be freed or moved while C holds it
	// bad.go:4: CG011: #cgo noescape fill, but fill stores its argument p in c->data; the Go pointer may be freed or moved while C holds it
	// bad.go:5: CG011: #cgo nocallback run_cb, but run_cb calls the function pointer cb it is given; a callback into Go from a nocallback call crashes the program
	// bad.go:6: CG011: #cgo nocallback notify, but notify calls the exported Go function goNotify; a callback into Go from a nocallback call crashes the program
}
