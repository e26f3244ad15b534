package cgoast_test

import (
	"bytes"
	"go/ast"
	"go/format"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/cgoguard/cgoguard/analysis/internal/cgoast"
)

// probe reports every C call with its user-level arguments printed back as
// source, plus the preamble directives.
var probe = &analysis.Analyzer{
	Name: "probe",
	Doc:  "test analyzer describing cgo calls",
	Run: func(pass *analysis.Pass) (any, error) {
		files := cgoast.UserFiles(pass.Files)
		if len(files) != 1 {
			pass.Reportf(pass.Files[0].Pos(), "%d user files, want 1", len(files))
		}
		for _, f := range files {
			if !cgoast.UsesCgo(f) {
				pass.Reportf(f.Pos(), "UsesCgo false")
			}
			cgoast.Inspect(f, func(c *cgoast.Call, stack []ast.Node) {
				if stack[len(stack)-1] != c.Expr {
					pass.Reportf(c.Pos(), "stack does not end at the call")
				}
				var args []string
				for _, a := range c.Args {
					if s, i, ok := c.AddrOfElem(pass.TypesInfo, a); ok {
						args = append(args, "&"+show(pass.Fset, s)+"["+show(pass.Fset, i)+"]")
						continue
					}
					args = append(args, show(pass.Fset, c.Base(a)))
				}
				pass.Reportf(c.Pos(), "%s args=%s errno=%v checked=%v", c.Name, strings.Join(args, ","), c.Errno, c.Checked)
			})
			text, _ := cgoast.Preamble(f)
			ds := cgoast.Directives(text)
			if len(ds) != 2 || ds[0].Kind != "noescape" || ds[1].Kind != "nocallback" || ds[0].Func != "take" || ds[0].Line != 1 {
				pass.Reportf(f.Pos(), "directives %+v", ds)
			}
		}
		return nil, nil
	},
}

// show prints e as source; it maps cgo's rewritten names back to C.x and
// resolves &(*_cgoIndexN)[i] through the probe's caller.
func show(fset *token.FileSet, e ast.Expr) string {
	var b bytes.Buffer
	format.Node(&b, fset, e)
	s := b.String()
	s = strings.ReplaceAll(s, "_Ctype_", "C.")
	s = strings.ReplaceAll(s, "_Cfunc_", "C.")
	return s
}

func TestInspect(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), probe, "calls")
}

func TestFuncName(t *testing.T) {
	for _, tc := range []struct {
		id    string
		name  string
		errno bool
		ok    bool
	}{
		{"_Cfunc_free", "free", false, true},
		{"_Cfunc__CMalloc", "malloc", false, true},
		{"_Cfunc_CString", "CString", false, true},
		{"_C2func_read", "read", true, true},
		{"_Cfunc_", "", false, false},
		{"_Ctype_int", "", false, false},
		{"free", "", false, false},
	} {
		name, errno, ok := cgoast.FuncName(tc.id)
		if name != tc.name || errno != tc.errno || ok != tc.ok {
			t.Errorf("FuncName(%q) = %q, %v, %v; want %q, %v, %v", tc.id, name, errno, ok, tc.name, tc.errno, tc.ok)
		}
	}
}

func TestIsTemp(t *testing.T) {
	for id, want := range map[string]bool{
		"_cgo0": true, "_cgo12": true, "_cgoIndex0": true, "_cgoBase1": true,
		"_cgo": false, "_cgoCheckPointer": false, "_cgoIndex": false, "cgo0": false,
	} {
		if got := cgoast.IsTemp(id); got != want {
			t.Errorf("IsTemp(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestPreambleSourceForm(t *testing.T) {
	src := "package p\n\n// #include <stdio.h>\n// #cgo noescape f\nimport \"C\"\n"
	f, err := parser.ParseFile(token.NewFileSet(), "p.go", src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	text, pos := cgoast.Preamble(f)
	if !pos.IsValid() || text != " #include <stdio.h>\n #cgo noescape f" {
		t.Fatalf("Preamble = %q, %v", text, pos)
	}
	if d := cgoast.Directives(text); len(d) != 1 || d[0].Func != "f" || d[0].Line != 1 {
		t.Fatalf("Directives = %+v", d)
	}
	if !cgoast.UsesCgo(f) || cgoast.IsGenerated(f) || cgoast.IsRewritten(f) {
		t.Fatal("source-form cgo file misclassified")
	}
}

func TestContainsGoPointer(t *testing.T) {
	src := `package p
import "unsafe"
type _Ctype_int int32
type _Ctype_struct_s struct{ p *_Ctype_int }
type plain struct{ a, b int; c [4]byte }
type withPtr struct{ a int; p *int }
type withStr struct{ s string }
type nested struct{ in [2]withPtr }
type cptr struct{ p *_Ctype_int }
type up struct{ p unsafe.Pointer }
type empty [0]*int
var (
	vPlain plain; vWithPtr withPtr; vWithStr withStr; vNested nested; vC _Ctype_struct_s
	vCptr cptr; vUp up; vEmpty empty; vSlice []int; vInt int
)`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := (&types.Config{Importer: importer.Default()}).Check("p", fset, []*ast.File{f}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{
		"vPlain": false, "vWithPtr": true, "vWithStr": true, "vNested": true, "vC": false,
		"vCptr": false, "vUp": false, "vEmpty": false, "vSlice": true, "vInt": false,
	} {
		typ := pkg.Scope().Lookup(name).Type()
		if got := cgoast.ContainsGoPointer(typ); got != want {
			t.Errorf("ContainsGoPointer(%s %s) = %v, want %v", name, typ, got, want)
		}
	}
	if !cgoast.IsCType(pkg.Scope().Lookup("vC").Type()) || cgoast.CTypeName(pkg.Scope().Lookup("vC").Type()) != "struct_s" {
		t.Error("IsCType/CTypeName on _Ctype_struct_s")
	}
}

func TestKeeps(t *testing.T) {
	marked := map[string]bool{"hold_for_later": true}
	for name, want := range map[string]bool{
		"register_cb": true, "cbRegister": true, "set_userdata": true, "attach_ctx": true,
		"subscribe": true, "queue_enqueue": true, "retain": true, "keep_ptr": true, "leaky_keep_handle": true,
		"hold_for_later": true,
		"unregister_cb":  false, "deregister": false, "un_subscribe": false, "detach": false,
		"set_keepalive": false, "process": false, "write": false,
	} {
		if got := cgoast.Keeps(marked, name); got != want {
			t.Errorf("Keeps(%q) = %v, want %v", name, got, want)
		}
	}
}
