package diag_test

import (
	"fmt"

	"github.com/cgoguard/cgoguard/analysis/internal/diag"
)

func ExampleParseDirective() {
	rules, reason, ok := diag.ParseDirective("//cgoguard:ignore CG013,cg014 the queue frees it")
	fmt.Println(rules, reason, ok)
	// Output:
	// [CG013 CG014] the queue frees it true
}
