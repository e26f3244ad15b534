package textesc

import (
	"testing"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	tests := []struct {
		in, str, line string
	}{
		{"plain text, ünïcode", "plain text, ünïcode", "plain text, ünïcode"},
		{"title\x1b]0;pwned\x07", `title\x1b]0;pwned\x07`, `title\x1b]0;pwned\x07`},
		{"clear\x1b[2J\x1b[H", `clear\x1b[2J\x1b[H`, `clear\x1b[2J\x1b[H`},
		{"over\rwrite", `over\rwrite`, `over\rwrite`},
		{"two\nlines\tand tab", "two\nlines\tand tab", `two\nlines\tand tab`},
		{"c1 csi \u009b2J", `c1 csi \u009b2J`, `c1 csi \u009b2J`},
		{"bidi \u202eevil\u2069", `bidi \u202eevil\u2069`, `bidi \u202eevil\u2069`},
		{"bad utf8 \xff\xfe", `bad utf8 \xff\xfe`, `bad utf8 \xff\xfe`},
		{"nul\x00del\x7f", `nul\x00del\x7f`, `nul\x00del\x7f`},
	}
	for _, tt := range tests {
		if got := String(tt.in); got != tt.str {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.str)
		}
		if got := Line(tt.in); got != tt.line {
			t.Errorf("Line(%q) = %q, want %q", tt.in, got, tt.line)
		}
	}
}

// FuzzEscape: the output never holds a character a terminal acts on and is
// valid UTF-8.
func FuzzEscape(f *testing.F) {
	f.Add("\x1b[31mred\x1b[0m\r\n\u202e\xff")
	f.Fuzz(func(t *testing.T, s string) {
		for _, out := range []string{String(s), Line(s)} {
			if !utf8.ValidString(out) {
				t.Fatalf("invalid UTF-8 out of %q: %q", s, out)
			}
			for _, r := range out {
				if r != '\n' && r != '\t' && needs(r, false) {
					t.Fatalf("%q kept %U", s, r)
				}
			}
		}
		for _, r := range Line(s) {
			if r == '\n' || r == '\t' {
				t.Fatalf("Line(%q) kept a newline or tab", s)
			}
		}
	})
}
