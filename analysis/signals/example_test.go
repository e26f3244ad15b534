package signals_test

import (
	"fmt"

	"github.com/cgoguard/cgoguard/analysis/internal/vettest"
	"github.com/cgoguard/cgoguard/analysis/signals"
)

// The cfile package's install.c takes SIGFPE without SA_ONSTACK and
// without saving Go's handler.
func Example() {
	findings, err := vettest.Check("testdata", []string{"cfile"}, signals.Analyzer)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range findings {
		fmt.Println(f)
	}
	// Output:
	// install.c:11: CG032: sigaction(SIGFPE, ...) installs a handler without SA_ONSTACK; signals arriving on Go threads then run it on a goroutine stack
	// install.c:11: CG032: sigaction(SIGFPE, ...) replaces Go's handler without saving it; faults in Go code no longer become panics (save the old action and call it for faults outside your code)
}
