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

// Lookup returns the format registered under name.
func Lookup(name string) (Format, error) {
	mu.RLock()
	defer mu.RUnlock()
	f, ok := formats[name]
	if !ok {
		return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownFormat, name, strings.Join(namesLocked(), ", "))
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

// ParseOutput parses FORMAT=PATH (or FORMAT alone, meaning standard
// output) and checks that the format is registered.
func ParseOutput(s string) (Output, error) {
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
	if _, err := Lookup(f); err != nil {
		return Output{}, err
	}
	return Output{Format: f, Path: p}, nil
}

func init() {
	Register("text", Text{})
	Register("json", FormatFunc(writeJSON))
	Register("junit", FormatFunc(writeJUnit))
	Register("sarif", FormatFunc(writeSARIF))
	Register("prometheus", FormatFunc(writePrometheus))
}
