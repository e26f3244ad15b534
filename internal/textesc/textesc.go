// Package textesc makes untrusted text safe to show on a terminal: check
// output, titles from a checklist, module names read from another
// process's status file. A terminal acts on control characters (ESC starts
// sequences that retitle the window, clear the screen or move the cursor,
// CR overwrites a line) and Unicode direction overrides reorder what is
// shown; this package writes them as visible Go-style escapes instead.
//
// Machine formats (JSON, XML, SARIF) have their own escaping and must not
// use this package: they keep the text exact.
//
// The functions are safe for concurrent use.
package textesc

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// String returns s with every control character except newline and tab,
// every invalid UTF-8 byte and every Unicode direction or line-separator
// control written as an escape: "\x1b", "\r", "\x9b" as "\u009b",
// "\u202e". Text without such characters is returned unchanged.
func String(s string) string { return escape(s, false) }

// Line is String for text shown on one line (a table cell, a list item):
// newlines and tabs are escaped too.
func Line(s string) string { return escape(s, true) }

// needs reports whether r is shown as an escape.
func needs(r rune, line bool) bool {
	switch {
	case r == '\n' || r == '\t':
		return line
	case r < 0x20 || r == 0x7f:
		return true
	case r >= 0x80 && r <= 0x9f: // C1 controls: 0x9b is a one-byte CSI
		return true
	case r == 0x200e || r == 0x200f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
		return true // direction marks, embeddings, overrides and isolates
	case r == 0x2028 || r == 0x2029:
		return true
	}
	return false
}

func escape(s string, line bool) string {
	clean := true
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || needs(r, line) {
			clean = false
			break
		}
		i += n
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case !needs(r, line):
			b.WriteString(s[i : i+n])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += n
	}
	return b.String()
}
