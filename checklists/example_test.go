package checklists_test

import (
	"fmt"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/checklists"
)

func Example() {
	cl, err := checklist.Parse(checklists.DefaultName, checklists.Default, checklist.LoadOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Println(cl.Name, len(cl.Checks), cl.Checks[0].ID)
	// Output: cgo-reliability 32 CG-BUILD-01
}
