package handles_test

import (
	"fmt"

	"github.com/cgoguard/cgoguard/analysis/handles"
	"github.com/cgoguard/cgoguard/analysis/internal/vettest"
)

// The fix package creates a handle and never deletes it.
func Example() {
	findings, err := vettest.Check("testdata", []string{"fix"}, handles.Analyzer)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range findings {
		fmt.Println(f)
	}
	// Output:
	// fix.go:6: CG024: handle h is never deleted; the value it holds is never released (add defer h.Delete())
}
