package lifetimes_test

import (
	"fmt"

	"github.com/cgoguard/cgoguard/analysis/internal/vettest"
	"github.com/cgoguard/cgoguard/analysis/lifetimes"
)

func Example() {
	findings, err := vettest.Check("testdata", []string{"bad"}, lifetimes.Analyzer)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range findings {
		fmt.Println(f)
	}
	// Output:
	// bad.go:28: CG021: finalizer frees DB.h, which Close also frees, with no guard: stop the finalizer in Close or guard the free
	// bad.go:39: CG022: d.h is passed to C.db_exec but d may be finalized during the call: add runtime.KeepAlive(d) after it
	// bad.go:48: CG023: Stmt holds C memory of d but no reference to it: DB's finalizer may free that memory while Stmt uses it; keep d in a field
	// bad.go:59: CG023: View holds C memory of d but no reference to it: DB's finalizer may free that memory while View uses it; keep d in a field
	// bad.go:69: CG021: cleanup frees Buf.p, which Free also frees, with no guard: stop the cleanup in Free or guard the free
	// bad.go:79: CG022: d.h is passed to C.db_exec but d may be finalized during the call: add runtime.KeepAlive(d) after it
}
