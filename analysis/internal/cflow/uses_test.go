package cflow

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"strings"
	"testing"
)

// classifySrc declares stand-ins for the functions cmd/cgo generates, so
// that statements written in rewritten form type-check without cgo.
const classifySrc = `package x

import "unsafe"

func _Cfunc_free(p unsafe.Pointer)      {}
func _Cfunc_use(p unsafe.Pointer) int   { return 0 }
func _Cfunc_take(p unsafe.Pointer)      {}
func _cgoCheckPointer(p any, q any)     {}
func helper(p unsafe.Pointer)           {}

type box struct{ p unsafe.Pointer }

var global unsafe.Pointer

func f(p unsafe.Pointer, b *box, s []unsafe.Pointer, q unsafe.Pointer, n int) (unsafe.Pointer, []byte) {
	STMT
	return nil, nil
}
`

func TestClassify(t *testing.T) {
	tests := []struct {
		stmt string
		want Use
	}{
		{`_ = n`, None},
		{`(_Cfunc_free)(p)`, Free},
		{`func() { _cgo0 := p; _cgoCheckPointer(_cgo0, nil); _Cfunc_free(_cgo0) }()`, Free},
		{`defer func() func() { _cgo0 := p; return func() { _cgoCheckPointer(_cgo0, nil); _Cfunc_free(_cgo0) } }()()`, Free},
		{`defer func() { _Cfunc_free(p) }()`, Free},
		{`defer func() { _ = p }()`, Escape},
		{`_ = (_Cfunc_use)(p)`, Read},
		{`func() int { var _cgo0 unsafe.Pointer = p; _cgoCheckPointer(_cgo0, nil); return _Cfunc_use(_cgo0) }()`, Read},
		{`(_Cfunc_take)(p)`, Escape}, // take is an owner in this test
		{`helper(p)`, Escape},
		{`b.p = p`, Escape},
		{`global = p`, Escape},
		{`s = append(s, p)`, Escape},
		{`return p, nil`, Escape},
		{`return nil, unsafe.Slice((*byte)(p), n)`, Escape},
		{`_ = unsafe.Slice((*byte)(p), n)[0]`, Read},
		{`if p == nil { return nil, nil }`, Compare},
		{`p = q`, Assign},
		{`p = unsafe.Add(p, 1)`, Escape}, // arithmetic: the variable no longer holds the block's start
		{`*(*byte)(p) = 1`, Read},
		{`go func() { _ = p }()`, Escape},
		{`q = p`, Escape},
	}
	for _, tt := range tests {
		t.Run(tt.stmt, func(t *testing.T) {
			fset := token.NewFileSet()
			src := strings.Replace(classifySrc, "STMT", tt.stmt, 1)
			f, err := parser.ParseFile(fset, "x.go", src, 0)
			if err != nil {
				t.Fatal(err)
			}
			info := &types.Info{
				Types: map[ast.Expr]types.TypeAndValue{}, Defs: map[*ast.Ident]types.Object{},
				Uses: map[*ast.Ident]types.Object{}, Selections: map[*ast.SelectorExpr]*types.Selection{},
			}
			conf := types.Config{Importer: importer.Default(), Error: func(error) {}}
			if _, err := conf.Check("x", fset, []*ast.File{f}, info); err != nil {
				t.Logf("type errors (ignored): %v", err)
			}
			var fn *ast.FuncDecl
			for _, d := range f.Decls {
				if d, ok := d.(*ast.FuncDecl); ok && d.Name.Name == "f" {
					fn = d
				}
			}
			p := info.Defs[fn.Type.Params.List[0].Names[0]].(*types.Var)
			got := Classify(info, fn.Body.List[0], p, &Env{Owners: Owners{"take": true}})
			if got != tt.want {
				t.Errorf("Classify(%s) = %v, want %v", tt.stmt, got, tt.want)
			}
		})
	}
}
