// Package cgoast recognises cgo constructs in the syntax trees that
// go/analysis passes see.
//
// When a package that imports "C" is loaded with types (go vet, go/packages,
// analysistest), the analyzers see the files rewritten by cmd/cgo, not the
// files the user wrote:
//
//	C.f(x)                 _Cfunc_f(x)
//	C.malloc(n)            _Cfunc__CMalloc(n)
//	C.CString(s)           _Cfunc_CString(s)
//	r, err := C.f()        r, err := _C2func_f()
//	C.int                  _Ctype_int
//	C.f(p) (p a pointer)   func() _Ctype_int { _cgo0 := p; _cgoCheckPointer(_cgo0, nil); return _Cfunc_f(_cgo0) }()
//	defer C.f(p)           defer func() func() { _cgo0 := p; return func() { ...; _Cfunc_f(_cgo0) } }()()
//	C.f(&s[0])             ... _cgoIndex0 := &s; _cgo0 := unsafe.Pointer(&(*_cgoIndex0)[0]) ...
//
// The rewritten files carry //line directives (at the top and inside lines
// as /*line :L:C*/ comments), so token.FileSet positions of the rewritten
// nodes already map back to the user's source file and line. The generated
// _cgo_gotypes.go file has no such directive; UserFiles leaves it out.
//
// The package also reads the C preamble and answers type questions (is this a
// C type, does this Go type hold Go pointers). It needs no cgo to run.
//
// All functions are pure and safe for concurrent use.
package cgoast
