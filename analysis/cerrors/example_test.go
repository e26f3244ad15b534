package cerrors_test

import (
	"fmt"

	"github.com/cgoguard/cgoguard/analysis/cerrors"
	"github.com/cgoguard/cgoguard/analysis/internal/vettest"
)

func Example() {
	findings, err := vettest.Check("testdata", []string{"bad"}, cerrors.Analyzer)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range findings {
		fmt.Println(f)
	}
	// Output:
	// bad.go:20: CG030: err from C.op is read before n: C functions may leave errno set on success, so test n for failure first
	// bad.go:27: CG030: errno from C.op is read but the result is discarded: errno may be left set on success, so check the result for failure first
	// bad.go:32: CG031: status returned by C.close is ignored; check it, or assign it to _ if it truly does not matter
	// bad.go:36: CG031: status returned by C.pthread_mutex_unlock is ignored; check it, or assign it to _ if it truly does not matter
	// bad.go:42: CG031: status returned by C.lib_flush is ignored; check it, or assign it to _ if it truly does not matter
	// bad.go:43: CG031: status returned by C.db_close is ignored; check it, or assign it to _ if it truly does not matter
}
