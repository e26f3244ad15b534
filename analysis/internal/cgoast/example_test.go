package cgoast_test

import (
	"fmt"
	"go/parser"
	"go/token"

	"github.com/cgoguard/cgoguard/analysis/internal/cgoast"
)

// FuncName maps the identifiers cmd/cgo generates back to C names.
func ExampleFuncName() {
	for _, id := range []string{"_Cfunc_free", "_Cfunc__CMalloc", "_C2func_read", "fmt"} {
		name, errno, ok := cgoast.FuncName(id)
		fmt.Println(id, name, errno, ok)
	}
	// Output:
	// _Cfunc_free free false true
	// _Cfunc__CMalloc malloc false true
	// _C2func_read read true true
	// fmt  false false
}

// Preamble and Directives read the C preamble of a file.
func ExamplePreamble() {
	src := "package p\n\n// #cgo noescape sum\n// int sum(int *p, int n);\nimport \"C\"\n"
	f, err := parser.ParseFile(token.NewFileSet(), "p.go", src, parser.ParseComments)
	if err != nil {
		fmt.Println(err)
		return
	}
	text, _ := cgoast.Preamble(f)
	for _, d := range cgoast.Directives(text) {
		fmt.Println(d.Kind, d.Func, d.Line)
	}
	// Output:
	// noescape sum 0
}
