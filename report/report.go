package report

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/cgoguard/cgoguard/checklist"
)

// ErrUnknownFormat is returned by Lookup and ParseOutput for a format
// that is not registered.
var ErrUnknownFormat = errors.New("cgoguard: unknown report format")

// Format writes the result of a checklist run in one output format.
type Format interface {
	Write(w io.Writer, r *checklist.Result) error
}

// FormatFunc adapts a function to Format.
type FormatFunc func(w io.Writer, r *checklist.Result) error

// Write calls f.
func (f FormatFunc) Write(w io.Writer, r *checklist.Result) error { return f(w, r) }

var (
	mu      sync.RWMutex
	formats = map[string]Format{}
)

// Register makes a format available under name; it panics on a second
// registration of the same name.
func Register(name string, f Format) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := formats[name]; dup {
		panic("cgoguard: report format registered twice: " + name)
	}
	formats[name] = f
}

// Lookup returns the format registered under name (or under the format
// an alias names, see CanonicalFormat).
func Lookup(name string) (Format, error) {
	mu.RLock()
	defer mu.RUnlock()
	f, ok := formats[CanonicalFormat(name)]
	if !ok {
		return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownFormat, name, FormatList(namesLocked()))
	}
	return f, nil
}

// Names lists the registered formats, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	return namesLocked()
}

func namesLocked() []string {
	n := make([]string, 0, len(formats))
	for k := range formats {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Output is one requested output: a format and where to write it ("-"
// for standard output).
type Output struct {
	Format string
	Path   string
}

// formatAliases maps the other names a format is accepted under to its
// own name.
var formatAliases = map[string]string{"txt": "text"}

// CanonicalFormat returns the name of the format that name spells: "txt"
// is "text"; any other name is returned unchanged. Every cgoguard command
// that takes a format name (check -o, chaos run -o, probe -o, vet
// -format) accepts the aliases.
func CanonicalFormat(name string) string {
	if c, ok := formatAliases[name]; ok {
		return c
	}
	return name
}

// FormatList lists format names for a message, each followed by its
// aliases: "json, text (or txt)".
func FormatList(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n
		var alias []string
		for a, c := range formatAliases {
			if c == n {
				alias = append(alias, a)
			}
		}
		sort.Strings(alias)
		if len(alias) > 0 {
			out[i] += " (or " + strings.Join(alias, ", ") + ")"
		}
	}
	return strings.Join(out, ", ")
}

// ParseOutputIn parses FORMAT=PATH, or FORMAT alone meaning standard
// output ("-"), and checks that FORMAT (or an alias of it, see
// CanonicalFormat) is one of formats. The returned Output names the
// format by its own name. An unknown format is an error wrapping
// ErrUnknownFormat that lists the accepted ones.
func ParseOutputIn(s string, formats []string) (Output, error) {
	f, p, ok := strings.Cut(s, "=")
	if !ok {
		p = "-"
	}
	if f == "" || p == "" {
		return Output{}, fmt.Errorf("cgoguard: output %q is not FORMAT=PATH", s)
	}
	if strings.IndexByte(p, 0) >= 0 {
		return Output{}, fmt.Errorf("cgoguard: output %q: the path holds a NUL byte", s)
	}
	f = CanonicalFormat(f)
	for _, k := range formats {
		if f == k {
			return Output{Format: f, Path: p}, nil
		}
	}
	return Output{}, fmt.Errorf("%w %q (known: %s)", ErrUnknownFormat, f, FormatList(formats))
}

// ParseOutput parses FORMAT=PATH (or FORMAT alone, meaning standard
// output) and checks that the format is registered (an alias such as
// "txt" stands for its format, see CanonicalFormat).
func ParseOutput(s string) (Output, error) {
	return ParseOutputIn(s, Names())
}

func init() {
	Register("text", Text{})
	Register("json", FormatFunc(writeJSON))
	Register("junit", FormatFunc(writeJUnit))
	Register("sarif", FormatFunc(writeSARIF))
	Register("prometheus", FormatFunc(writePrometheus))
}
