//go:build cgo

package cmem_test

import (
	"fmt"

	"github.com/cgoguard/cgoguard/cmem"
)

func Example() {
	before, _ := cmem.Live()
	p, err := cmem.CString("config.yaml")
	if err != nil {
		fmt.Println(err) // cmem.ErrNotSupported without cgo
		return
	}
	// C.load_config((*C.char)(p))
	fmt.Println(cmem.GoString(p))
	n, _ := cmem.Live()
	fmt.Println("live:", n-before)

	fmt.Println(cmem.Free(p))
	fmt.Println(cmem.Free(p) != nil) // a second Free is refused
	// Output:
	// config.yaml
	// live: 1
	// <nil>
	// true
}
