package cgoguard

import (
	"fmt"
	"unicode/utf8"
)

// checkName validates a module name: not empty, valid UTF-8, without
// control characters (C0, DEL, C1) or Unicode direction and line-separator
// controls. The name is a Prometheus label value (which must be UTF-8: one
// invalid name made every scrape fail), a JSON string and a line that
// `cgoguard status` prints on a terminal.
func checkName(name string) error {
	if name == "" {
		return fmt.Errorf("%w \"\": the name is empty", ErrInvalidName)
	}
	if !utf8.ValidString(name) {
		return fmt.Errorf("%w %q: not valid UTF-8", ErrInvalidName, name)
	}
	for _, r := range name {
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			return fmt.Errorf("%w %q: holds the control character %U", ErrInvalidName, name, r)
		case r == 0x200e || r == 0x200f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x2028 || r == 0x2029:
			return fmt.Errorf("%w %q: holds the Unicode control %U", ErrInvalidName, name, r)
		}
	}
	return nil
}
