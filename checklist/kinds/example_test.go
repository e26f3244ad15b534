package kinds_test

import (
	"context"
	"fmt"

	"github.com/cgoguard/cgoguard/checklist"
)

// A file check over the source files of packages: forbidden lines are
// listed with file:line.
func Example() {
	cl, err := checklist.Parse("x.yaml", []byte(`checklist: x
checks:
  - id: NO-ADD
    title: no Add function
    kind: file
    with: {package_files: [go], not_matches: "^func Add"}
`), checklist.LoadOptions{})
	if err != nil {
		panic(err)
	}
	res, err := checklist.NewRunner(checklist.WithDir("testdata/mod"), checklist.WithPackages("./...")).Run(context.Background(), cl)
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Checks[0].Outcome, res.Checks[0].Message)
	// Output: fail 1 line(s) match "^func Add", first: testdata/mod/pkg/pkg.go:5: func Add(a, b int) int { return a + b }
}
