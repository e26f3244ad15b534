package cgoast_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"strings"
	"testing"

	"github.com/cgoguard/cgoguard/analysis/internal/cgoast"
)

func TestStripC(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"int x; // c\nint y;", "int x;     \nint y;"},
		{"a /* b\nc */ d", "a     \n     d"},
		{`f("x;//y", 'z');`, `f("     ", ' ');`},
		{`s = "a\"b";`, `s = "    ";`},
		{"no comments", "no comments"},
	} {
		got := cgoast.StripC(tc.in)
		if got != tc.want {
			t.Errorf("StripC(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if len(got) != len(tc.in) || strings.Count(got, "\n") != strings.Count(tc.in, "\n") {
			t.Errorf("StripC(%q) changed length or lines", tc.in)
		}
	}
}

func TestCFuncs(t *testing.T) {
	code := cgoast.StripC(`
static int add(int a, int b) { if (a) { return a + b; } return b; }
struct s { int x; };
void (*table[2])(void);
static void run(void (*cb)(int)) {
	while (1) { cb(1); }
}
`)
	fs := cgoast.CFuncs(code)
	var names []string
	for _, f := range fs {
		names = append(names, f.Name)
	}
	if !reflect.DeepEqual(names, []string{"add", "run"}) {
		t.Fatalf("CFuncs names = %q", names)
	}
	if fs[0].Params != "int a, int b" || !strings.Contains(fs[0].Body, "return a + b;") {
		t.Errorf("add = %+v", fs[0])
	}
	if !strings.Contains(fs[1].Body, "cb(1)") || code[fs[1].Start:fs[1].Start+3] != "run" {
		t.Errorf("run = %+v", fs[1])
	}
}

func TestCallArgs(t *testing.T) {
	code := "sigaction(SIGSEGV, &sa, f(a, b)); rest"
	args, end := cgoast.CallArgs(code, strings.Index(code, "("))
	if !reflect.DeepEqual(args, []string{"SIGSEGV", "&sa", "f(a, b)"}) || code[end] != ')' || code[end+1] != ';' {
		t.Errorf("CallArgs = %q, %d", args, end)
	}
}

func TestMarkedAndExported(t *testing.T) {
	src := `package p

// #include <stdlib.h>
// //cgoguard:keeps hold_a, hold_b
import "C"

//cgoguard:keeps other
//export goCallback
func goCallback() {}

func notExported() {}
`
	f, err := parser.ParseFile(token.NewFileSet(), "p.go", src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	files := []*ast.File{f}
	if got := cgoast.Marked(files, "keeps"); !reflect.DeepEqual(got, map[string]bool{"hold_a": true, "hold_b": true, "other": true}) {
		t.Errorf("Marked = %v", got)
	}
	if got := cgoast.ExportedFuncs(files); !reflect.DeepEqual(got, map[string]bool{"goCallback": true}) {
		t.Errorf("ExportedFuncs = %v", got)
	}
	if got := cgoast.Marked(files, "owns"); len(got) != 0 {
		t.Errorf("Marked(owns) = %v", got)
	}
}

func TestFormat(t *testing.T) {
	e, err := parser.ParseExpr("_Cfunc_f(_Ctype_int(x), _Cfunc__CMalloc(4))")
	if err != nil {
		t.Fatal(err)
	}
	if got := cgoast.Format(token.NewFileSet(), e); got != "C.f(C.int(x), C.malloc(4))" {
		t.Errorf("Format = %q", got)
	}
}
