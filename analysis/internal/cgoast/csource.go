package cgoast

import (
	"go/ast"
	"go/token"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// CSource is a piece of C source text an analyzer can search: a preamble
// or a .c/.h file of the package. Offsets into Text map back to positions
// with Pos.
type CSource struct {
	// Name is the file the text comes from.
	Name string
	// Text is the C text.
	Text string
	// Code is Text with comments and string/char literals blanked out
	// (replaced by spaces, newlines kept), so offsets are the same.
	Code string

	fset     *token.FileSet
	preamble token.Pos   // start of the preamble comment, for preambles
	file     *token.File // for whole files added to the FileSet
}

// Pos returns the position of byte offset off of the text: the start of
// its line for preambles (whose comment markers shift columns), the exact
// position for files.
func (s *CSource) Pos(off int) token.Pos {
	if s.file != nil {
		if off > s.file.Size() {
			off = s.file.Size()
		}
		return s.file.Pos(off)
	}
	line := strings.Count(s.Text[:off], "\n")
	return LinePos(s.fset, s.preamble, line)
}

// IsPreamble reports whether the source is a cgo preamble.
func (s *CSource) IsPreamble() bool { return s.file == nil }

// File returns the token.File of a C file (nil for preambles); its
// positions are valid in the pass's FileSet.
func (s *CSource) File() *token.File { return s.file }

// CSources returns the preambles of the package's files and its C files
// (.c and .h among pass.OtherFiles), read with pass.ReadFile and added to
// pass.Fset so findings in them can be reported. Unreadable files are
// skipped.
func CSources(pass *analysis.Pass) []*CSource {
	var out []*CSource
	for _, f := range UserFiles(pass.Files) {
		text, pos := Preamble(f)
		if strings.TrimSpace(text) == "" {
			continue
		}
		out = append(out, &CSource{
			Name: pass.Fset.Position(pos).Filename, Text: text, Code: StripC(text),
			fset: pass.Fset, preamble: pos,
		})
	}
	for _, name := range pass.OtherFiles {
		if !strings.HasSuffix(name, ".c") && !strings.HasSuffix(name, ".h") {
			continue
		}
		content, err := pass.ReadFile(name)
		if err != nil {
			continue
		}
		tf := pass.Fset.AddFile(name, -1, len(content))
		tf.SetLinesForContent(content)
		text := string(content)
		out = append(out, &CSource{Name: name, Text: text, Code: StripC(text), fset: pass.Fset, file: tf})
	}
	return out
}

// StripC blanks out C comments and string and character literals, keeping
// length and newlines.
func StripC(src string) string {
	b := []byte(src)
	const (
		code = iota
		line
		block
		str
		chr
	)
	state := code
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch state {
		case code:
			switch {
			case c == '/' && i+1 < len(b) && b[i+1] == '/':
				state = line
				b[i], b[i+1] = ' ', ' '
				i++
			case c == '/' && i+1 < len(b) && b[i+1] == '*':
				state = block
				b[i], b[i+1] = ' ', ' '
				i++
			case c == '"':
				state = str
			case c == '\'':
				state = chr
			}
		case line:
			if c == '\n' {
				state = code
			} else {
				b[i] = ' '
			}
		case block:
			if c == '*' && i+1 < len(b) && b[i+1] == '/' {
				b[i], b[i+1] = ' ', ' '
				i++
				state = code
			} else if c != '\n' {
				b[i] = ' '
			}
		case str, chr:
			end := byte('"')
			if state == chr {
				end = '\''
			}
			switch {
			case c == '\\' && i+1 < len(b):
				b[i] = ' '
				if b[i+1] != '\n' {
					b[i+1] = ' '
				}
				i++
			case c == end:
				state = code
			case c == '\n':
				state = code
			default:
				b[i] = ' '
			}
		}
	}
	return string(b)
}

// CFunc is a C function definition found in C text.
type CFunc struct {
	Name string
	// Params is the text between the parentheses of the definition.
	Params string
	// Body is the text between the braces, from Code (comments blanked).
	Body string
	// Start and End are offsets of the definition in the text.
	Start, End int
}

// CFuncs finds the function definitions in code (comment-stripped C text)
// by matching "name(params) {" at brace depth 0.
func CFuncs(code string) []CFunc {
	var out []CFunc
	depth := 0
	for i := 0; i < len(code); i++ {
		switch code[i] {
		case '{':
			if depth == 0 {
				if f, ok := funcHead(code, i); ok {
					end := matchBrace(code, i)
					f.Body = code[i+1 : end]
					f.End = end + 1
					out = append(out, f)
					i = end
					continue
				}
			}
			depth++
		case '}':
			if depth > 0 {
				depth--
			}
		}
	}
	return out
}

// funcHead recognises "name ( params )" just before the brace at i.
func funcHead(code string, brace int) (CFunc, bool) {
	j := brace - 1
	for j >= 0 && isSpace(code[j]) {
		j--
	}
	if j < 0 || code[j] != ')' {
		return CFunc{}, false
	}
	close := j
	depth := 0
	for ; j >= 0; j-- {
		if code[j] == ')' {
			depth++
		} else if code[j] == '(' {
			depth--
			if depth == 0 {
				break
			}
		}
	}
	if j < 0 {
		return CFunc{}, false
	}
	open := j
	j--
	for j >= 0 && isSpace(code[j]) {
		j--
	}
	end := j + 1
	for j >= 0 && isIdent(code[j]) {
		j--
	}
	name := code[j+1 : end]
	if name == "" || name == "if" || name == "while" || name == "for" || name == "switch" {
		return CFunc{}, false
	}
	return CFunc{Name: name, Params: code[open+1 : close], Start: j + 1}, true
}

func matchBrace(code string, open int) int {
	depth := 0
	for i := open; i < len(code); i++ {
		switch code[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return len(code) - 1
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// CallArgs returns the top-level comma-separated arguments of the call
// whose opening parenthesis is at open, and the offset of the closing
// parenthesis.
func CallArgs(code string, open int) ([]string, int) {
	var args []string
	depth := 0
	start := open + 1
	for i := open; i < len(code); i++ {
		switch code[i] {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
			if depth == 0 {
				args = append(args, strings.TrimSpace(code[start:i]))
				return args, i
			}
		case ',':
			if depth == 1 {
				args = append(args, strings.TrimSpace(code[start:i]))
				start = i + 1
			}
		}
	}
	return args, len(code)
}

// ExportedFuncs returns the names of the package's //export functions.
func ExportedFuncs(files []*ast.File) map[string]bool {
	out := map[string]bool{}
	for _, f := range files {
		for _, fd := range Funcs(f) {
			if n := ExportName(fd); n != "" {
				out[n] = true
			}
		}
	}
	return out
}
