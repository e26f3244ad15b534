package cflow

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"strings"
	"testing"

	"golang.org/x/tools/go/cfg"
)

// The expressions are the forms cmd/cgo writes (copied from its output
// for the calls in the comments).
func TestCCall(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		want     string // C name, "" for no C call
		errno    bool
		deferred bool
		args     []string
	}{
		{"direct", `(_Cfunc_f)(p)`, "f", false, false, []string{"p"}},
		{"malloc", `(_Cfunc__CMalloc)(16)`, "malloc", false, false, []string{"16"}},
		{"unrewritten", `C.puts(s)`, "puts", false, false, []string{"s"}},
		// C.free(unsafe.Pointer(p))
		{"checked", `func() { _cgo0 := unsafe.Pointer(p); _cgoCheckPointer(_cgo0, nil); _Cfunc_free(_cgo0) }()`,
			"free", false, false, []string{"unsafe.Pointer(p)"}},
		// r, err := C.g(q)
		{"errno", `func() (_Ctype_int, error) { _cgo0 := q; _cgoCheckPointer(_cgo0, nil); return _C2func_g(_cgo0) }()`,
			"g", true, false, []string{"q"}},
		// defer C.free(unsafe.Pointer(p))
		{"deferred", `func() func() { _cgo0 := unsafe.Pointer(p); return func() { _cgoCheckPointer(_cgo0, nil); _Cfunc_free(_cgo0) } }()()`,
			"free", false, true, []string{"unsafe.Pointer(p)"}},
		// C.free(unsafe.Pointer(&buf[0]))
		{"index", `func() { _cgoIndex0 := &buf; _cgo0 := unsafe.Pointer(&(*_cgoIndex0)[0]); _cgoCheckPointer(_cgo0, *_cgoIndex0); _Cfunc_free(_cgo0) }()`,
			"free", false, false, []string{"unsafe.Pointer(&buf[0])"}},
		// C.push((*C.br)(b), p, C.size_t(len(msg)))
		{"typed temps", `func() _Ctype_int { var _cgo0 *_Ctype_struct_br = (*_Ctype_br)(b); _cgo1 := p; var _cgo2 _Ctype_size_t = _Ctype_size_t(len(msg)); _cgoCheckPointer(_cgo1, nil); return _Cfunc_push(_cgo0, _cgo1, _cgo2) }()`,
			"push", false, false, []string{"(*_Ctype_br)(b)", "p", "_Ctype_size_t(len(msg))"}},
		{"user closure", `func() { (_Cfunc_close)(h) }()`, "", false, false, nil},
		{"go call", `fmt.Println(x)`, "", false, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := parser.ParseExpr(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			c, ok := CCall(e)
			if tt.want == "" {
				if ok {
					t.Fatalf("CCall(%s) = %q, want no C call", tt.src, c.Name)
				}
				return
			}
			if !ok {
				t.Fatalf("CCall(%s): no C call found", tt.src)
			}
			if c.Name != tt.want || c.Errno != tt.errno || c.Deferred != tt.deferred {
				t.Errorf("got name %q errno %v deferred %v, want %q %v %v", c.Name, c.Errno, c.Deferred, tt.want, tt.errno, tt.deferred)
			}
			var args []string
			for _, a := range c.Args {
				args = append(args, types.ExprString(a))
			}
			if strings.Join(args, "; ") != strings.Join(tt.args, "; ") {
				t.Errorf("args %q, want %q", args, tt.args)
			}
		})
	}
}

// TestWalker checks the path walk on small functions: whether some path
// from the first statement reaches the return without a call of done().
func TestWalker(t *testing.T) {
	tests := []struct {
		name string
		body string
		bad  bool
	}{
		{"straight", `start(); done()`, false},
		{"missing", `start(); work()`, true},
		{"early return", `start(); if x { return }; done()`, true},
		{"both arms", `start(); if x { done(); return }; done()`, false},
		{"panic arm", `start(); if x { panic("no") }; done()`, false},
		{"loop", `start(); for i := 0; i < 3; i++ { work() }; done()`, false},
		{"fail node", `start(); fail(); done()`, true},
		{"branch pruned", `start(); if skip { return }; done()`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, "x.go", "package x\nfunc f() {\n"+tt.body+"\n}", 0)
			if err != nil {
				t.Fatal(err)
			}
			fd := f.Decls[0].(*ast.FuncDecl)
			g := cfg.New(fd.Body, func(call *ast.CallExpr) bool {
				id, ok := call.Fun.(*ast.Ident)
				return !ok || id.Name != "panic"
			})
			calls := func(n ast.Node, name string) bool {
				found := false
				ast.Inspect(n, func(m ast.Node) bool {
					if c, ok := m.(*ast.CallExpr); ok {
						if id, ok := c.Fun.(*ast.Ident); ok && id.Name == name {
							found = true
						}
					}
					return true
				})
				return found
			}
			w := &Walker{
				Step: func(n ast.Node) Step {
					switch {
					case calls(n, "done"):
						return Done
					case calls(n, "fail"):
						return Fail
					}
					return Next
				},
				Branch: func(cond ast.Expr) (bool, bool) {
					if id, ok := cond.(*ast.Ident); ok && id.Name == "skip" {
						return false, true
					}
					return true, true
				},
				Dead: func(b *cfg.Block) bool {
					return len(b.Nodes) > 0 && calls(b.Nodes[len(b.Nodes)-1], "panic")
				},
			}
			b, i, ok := Find(g, fd.Body.List[0].Pos())
			if !ok {
				t.Fatal("start not found")
			}
			if _, bad := w.From(b, i); bad != tt.bad {
				t.Errorf("bad path = %v, want %v", bad, tt.bad)
			}
		})
	}
}

func TestOwnersFromComments(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "x.go", `package x

/*
// cgoguard:owns queue_push, take
*/
import "C"

//cgoguard:owns C.keep
`, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	o := OwnersFromComments([]*ast.File{f}, "flagged")
	for _, name := range []string{"queue_push", "take", "keep", "flagged"} {
		if !o[name] {
			t.Errorf("%s not an owner; owners %v", name, o)
		}
	}
	if o["free"] {
		t.Errorf("free is an owner")
	}
}
