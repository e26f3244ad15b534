package leakcheck_test

import (
	"fmt"

	"github.com/cgoguard/cgoguard/leakcheck"
)

func ExampleMeasure() {
	cache := map[int][]byte{}
	r, err := leakcheck.Measure(func() {
		cache[1] = make([]byte, 64) // replaced each time: not a leak
	}, leakcheck.Iterations(500))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("leaked:", r.Leaked())
	// Output:
	// leaked: false
}
