package suite_test

import (
	"fmt"

	"github.com/cgoguard/cgoguard/analysis/suite"
)

// The registry says which analyzer checks a rule and where its page is.
func ExampleAnalyzerFor() {
	r, _ := suite.Lookup("CG024")
	fmt.Println(r.ID, r.Name, r.Severity)
	fmt.Println(suite.AnalyzerFor("CG024").Name)
	fmt.Println(r.URL())
	// Output:
	// CG024 handle-not-deleted warning
	// handles
	// https://github.com/cgoguard/cgoguard/blob/main/docs/rules/CG024.md
}
