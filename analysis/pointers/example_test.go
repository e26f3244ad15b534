package pointers_test

import (
	"fmt"

	"github.com/cgoguard/cgoguard/analysis/internal/vettest"
	"github.com/cgoguard/cgoguard/analysis/pointers"
)

// The pinfix package pins an object and never unpins it.
func Example() {
	findings, err := vettest.Check("testdata", []string{"pinfix"}, pointers.Analyzer)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range findings {
		fmt.Println(f)
	}
	// Output:
	// pin.go:9: CG005: runtime.Pinner p pins objects but is never unpinned; the objects stay pinned for the life of the program (add defer p.Unpin())
}
