package cstrings_test

import (
	"fmt"

	"github.com/cgoguard/cgoguard/analysis/cstrings"
	"github.com/cgoguard/cgoguard/analysis/internal/vettest"
)

func Example() {
	findings, err := vettest.Check("testdata", []string{"bad"}, cstrings.Analyzer)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range findings {
		fmt.Println(f)
	}
	// Output:
	// bad.go:18: CG019: C.GoString on a fixed-size [16]C.char array that may lack a terminating NUL; use C.GoStringN with a bound
	// bad.go:23: CG019: C.GoString on a fixed-size [32]C.char array that may lack a terminating NUL; use C.GoStringN with a bound
	// bad.go:27: CG019: C.GoString on a Go byte slice that may lack a terminating NUL; use C.GoStringN with a bound
	// bad.go:31: CG019: C.GoString on a Go byte slice that may lack a terminating NUL; use C.GoStringN with a bound
	// bad.go:37: CG019: C.GoString on memory from C.CBytes that may lack a terminating NUL; use C.GoStringN with a bound
	// bad.go:41: CG020: C.CString of a constant holding a NUL byte: C sees the string cut at the NUL
	// bad.go:47: CG020: C.CString of a string converted from bytes that may hold NUL; check with strings.IndexByte(s, 0) first
	// bad.go:54: CG020: C.CString of a string converted from bytes that may hold NUL; check with strings.IndexByte(s, 0) first
}
