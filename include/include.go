// Package include carries cgoguard's public C headers (cgoguard.h and the
// section headers it includes), so that tools can write them into a user's
// cgo package: "cgoguard header -o DIR" does.
//
// The functions are safe for concurrent use.
package include

import (
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

//go:embed *.h
var files embed.FS

// Names returns the header file names, cgoguard.h first.
func Names() []string {
	ents, _ := files.ReadDir(".")
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Slice(names, func(i, j int) bool {
		if (names[i] == "cgoguard.h") != (names[j] == "cgoguard.h") {
			return names[i] == "cgoguard.h"
		}
		return names[i] < names[j]
	})
	return names
}

// File returns the content of one header.
func File(name string) ([]byte, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("cgoguard: no header %q", name)
	}
	return b, nil
}

// Write writes every header into dir (which must exist) and returns the
// paths written. Existing files are replaced.
func Write(dir string) ([]string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("cgoguard: header directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("cgoguard: header directory %s is not a directory", dir)
	}
	var out []string
	for _, n := range Names() {
		b, _ := files.ReadFile(n)
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return out, fmt.Errorf("cgoguard: writing header: %w", err)
		}
		out = append(out, p)
	}
	return out, nil
}
