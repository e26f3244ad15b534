package suite

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ConfigFiles lists, sorted, the configuration files a driver started in
// dir may read for the packages it analyses. Each package reads the
// ConfigName file FindConfig finds from its own directory, so every such
// file in the tree of the module that holds dir (the nearest of dir and
// its parents with a go.mod) is listed, and every one in the tree of the
// workspace when there is one (the go.work named by $GOWORK, or found in
// dir or a parent). Directories the go command ignores (names starting
// with "." or "_") are not searched. Outside any module and workspace it
// lists the one file FindConfig(dir) would read, if any.
func ConfigFiles(dir string) ([]string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	var roots []string
	if mod := findUp(dir, "go.mod"); mod != "" {
		roots = append(roots, mod)
	}
	switch w := os.Getenv("GOWORK"); w {
	case "off":
	case "":
		if work := findUp(dir, "go.work"); work != "" {
			roots = append(roots, work)
		}
	default:
		if filepath.IsAbs(w) {
			roots = append(roots, filepath.Dir(w))
		}
	}
	if len(roots) == 0 {
		if name := firstConfig(dir); name != "" {
			return []string{name}, nil
		}
		return nil, nil
	}
	seen := map[string]bool{}
	var out []string
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if d != nil && d.IsDir() && path != root {
					return fs.SkipDir // unreadable: the driver cannot read it either
				}
				return err
			}
			if d.IsDir() {
				if path != root && (strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_")) {
					return fs.SkipDir
				}
				return nil
			}
			if d.Name() == ConfigName && !seen[path] {
				seen[path] = true
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrConfig, err)
		}
	}
	sort.Strings(out)
	return out, nil
}

// ConfigDigest returns a hex SHA-256 of the names and contents of the
// files ConfigFiles(dir) lists: it changes whenever one of them is
// added, removed or edited. cgoguard-vet puts it into its -V=full answer,
// which go vet uses as part of the key of its cached results, so that a
// changed configuration makes go vet analyse again.
func ConfigDigest(dir string) (string, error) {
	files, err := ConfigFiles(dir)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			// Unreadable now is a state of its own; hash the error so a
			// later readable file differs.
			data = []byte("error: " + err.Error())
		}
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// findUp returns the nearest of dir and its parents that holds name, or "".
func findUp(dir, name string) string {
	for {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// firstConfig returns the ConfigName file FindConfig would open from dir,
// or "".
func firstConfig(dir string) string {
	for {
		name := filepath.Join(dir, ConfigName)
		if _, err := os.Stat(name); err == nil || !errors.Is(err, fs.ErrNotExist) {
			return name
		}
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
