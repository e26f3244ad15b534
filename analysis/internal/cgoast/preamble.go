package cgoast

import (
	"go/ast"
	"go/token"
	"regexp"
	"strings"
)

// Preamble returns the C preamble of f: the comment immediately before
// import "C" (source form) or before the import _ "unsafe" that replaces
// it in the rewritten form, with comment markers removed and line breaks
// kept, so line n of the text is n lines below the comment's first line. It returns ""
// when f has no preamble. Pos is the position of the comment, so findings in
// the preamble can be reported on the user's lines.
func Preamble(f *ast.File) (text string, pos token.Pos) {
	rewritten := IsRewritten(f)
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.IMPORT {
			continue
		}
		for _, sp := range gd.Specs {
			is := sp.(*ast.ImportSpec)
			isC := is.Path.Value == `"C"`
			if rewritten && is.Path.Value == `"unsafe"` && is.Name != nil && is.Name.Name == "_" {
				isC = true
			}
			if !isC {
				continue
			}
			doc := is.Doc
			if doc == nil && len(gd.Specs) == 1 {
				doc = gd.Doc
			}
			if doc == nil {
				return "", token.NoPos
			}
			return commentText(doc), doc.Pos()
		}
	}
	return "", token.NoPos
}

// Directive is one #cgo line of a preamble that is not a build flag:
// "#cgo noescape f" or "#cgo nocallback f".
type Directive struct {
	// Kind is "noescape" or "nocallback".
	Kind string
	// Func is the C function named.
	Func string
	// Line is the 0-based line of the directive within the preamble text.
	Line int
}

var cgoDirective = regexp.MustCompile(`^\s*#\s*cgo\s+(noescape|nocallback)\s+([A-Za-z_][A-Za-z0-9_]*)\s*$`)

// Directives returns the #cgo noescape and #cgo nocallback directives of a
// preamble.
func Directives(preamble string) []Directive {
	var out []Directive
	for i, line := range strings.Split(StripC(preamble), "\n") {
		if m := cgoDirective.FindStringSubmatch(line); m != nil {
			out = append(out, Directive{Kind: m[1], Func: m[2], Line: i})
		}
	}
	return out
}

// LinePos returns the position of the 0-based line n of the preamble that
// starts at pos (as returned by Preamble), counting lines of the comment
// as written. It returns pos when the line cannot be found.
func LinePos(fset *token.FileSet, pos token.Pos, n int) token.Pos {
	tf := fset.File(pos)
	if tf == nil {
		return pos
	}
	start := tf.PositionFor(pos, false).Line
	target := start + n
	if target > tf.LineCount() {
		return pos
	}
	return tf.LineStart(target)
}

// commentText strips comment markers but keeps every line.
func commentText(cg *ast.CommentGroup) string {
	var b strings.Builder
	for i, c := range cg.List {
		if i > 0 {
			b.WriteByte('\n')
		}
		t := c.Text
		if strings.HasPrefix(t, "//") {
			b.WriteString(t[2:])
			continue
		}
		t = strings.TrimPrefix(t, "/*")
		t = strings.TrimSuffix(t, "*/")
		b.WriteString(t)
	}
	return b.String()
}
