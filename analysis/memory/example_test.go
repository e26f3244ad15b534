package memory_test

import (
	"fmt"

	"github.com/cgoguard/cgoguard/analysis/internal/vettest"
	"github.com/cgoguard/cgoguard/analysis/memory"
)

// The fix package allocates a C string and never frees it.
func Example() {
	findings, err := vettest.Check("testdata", []string{"fix"}, memory.Analyzer)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range findings {
		fmt.Println(f)
	}
	// Output:
	// fix.go:16: CG013: C.CString result p is not freed on every path
}
