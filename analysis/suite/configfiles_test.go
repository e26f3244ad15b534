package suite_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cgoguard/cgoguard/analysis/suite"
)

// writeFiles creates the files (relative names to contents) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestConfigFiles checks which configuration files a driver started in a
// directory may read: every one in the module's tree (packages below the
// start directory read their own), none that Go ignores or that lies
// above the module root, and the workspace's when there is one.
func TestConfigFiles(t *testing.T) {
	t.Setenv("GOWORK", "")
	for _, tc := range []struct {
		name  string
		files map[string]string
		start string
		want  []string
	}{
		{
			name:  "module tree",
			files: map[string]string{"m/go.mod": "module m\n", "m/.cgoguard.yaml": "", "m/a/b/.cgoguard.yaml": "", "m/_skip/.cgoguard.yaml": "", "m/.hidden/.cgoguard.yaml": "", ".cgoguard.yaml": ""},
			start: "m/a",
			want:  []string{"m/.cgoguard.yaml", "m/a/b/.cgoguard.yaml"},
		},
		{
			name:  "no config",
			files: map[string]string{"m/go.mod": "module m\n", "m/a/x.go": "package a\n"},
			start: "m",
			want:  nil,
		},
		{
			name:  "workspace",
			files: map[string]string{"go.work": "go 1.26\n", "m/go.mod": "module m\n", "n/go.mod": "module n\n", "n/.cgoguard.yaml": "", "m/.cgoguard.yaml": ""},
			start: "m",
			want:  []string{"m/.cgoguard.yaml", "n/.cgoguard.yaml"},
		},
		{
			name:  "outside a module",
			files: map[string]string{"a/.cgoguard.yaml": "", "a/b/c/.keep": "", "a/b/d/.cgoguard.yaml": ""},
			start: "a/b/c",
			want:  []string{"a/.cgoguard.yaml"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tc.files)
			got, err := suite.ConfigFiles(filepath.Join(dir, tc.start))
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, w := range tc.want {
				want = append(want, filepath.Join(dir, w))
			}
			if tc.name == "outside a module" && len(got) == 1 && got[0] != want[0] {
				// A configuration file above the temporary directory
				// would be found first; then this case says nothing.
				t.Skipf("a %s above the test directory: %s", suite.ConfigName, got[0])
			}
			if !slices.Equal(got, want) {
				t.Errorf("ConfigFiles = %q, want %q", got, want)
			}
		})
	}
}

// TestConfigDigest checks that the digest changes when a configuration
// file of the module is edited, added or removed, and only then.
func TestConfigDigest(t *testing.T) {
	t.Setenv("GOWORK", "off")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"go.mod": "module m\n", "a/a.go": "package a\n"})
	digest := func() string {
		t.Helper()
		d, err := suite.ConfigDigest(filepath.Join(dir, "a"))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	seen := map[string]string{}
	step := func(name string) {
		t.Helper()
		d := digest()
		if prev, dup := seen[d]; dup {
			t.Errorf("%s: digest %s is the same as after %s", name, d, prev)
		}
		seen[d] = name
	}
	step("no configuration")
	writeFiles(t, dir, map[string]string{".cgoguard.yaml": "vet:\n  disable: [CG024]\n"})
	step("root configuration added")
	if again := digest(); seen[again] != "root configuration added" {
		t.Errorf("digest not stable without a change")
	}
	writeFiles(t, dir, map[string]string{".cgoguard.yaml": "vet:\n  disable: [CG025]\n"})
	step("root configuration edited")
	writeFiles(t, dir, map[string]string{"a/sub/.cgoguard.yaml": "vet:\n  tests: true\n"})
	step("configuration added below the start directory")
	writeFiles(t, dir, map[string]string{"a/x.go": "package a\n// edited\n"})
	if d := digest(); seen[d] != "configuration added below the start directory" {
		t.Errorf("editing a Go file changed the configuration digest")
	}
	if err := os.Remove(filepath.Join(dir, ".cgoguard.yaml")); err != nil {
		t.Fatal(err)
	}
	step("root configuration removed")
}
