package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

func init() {
	// Other tests of this package may define -update too.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// TestVetGolden runs "cgoguard vet" on the fixture module in
// testdata/vet/src and compares stdout and stderr with golden files named
// by case, exit code and format (testdata/vet/<case>.exit<N>.<format>).
// Refresh them with go test -run TestVetGolden -update.
func TestVetGolden(t *testing.T) {
	golden, err := filepath.Abs(filepath.Join("testdata", "vet"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		exit   int
		format string
	}{
		{"findings", []string{"./bad"}, 1, "txt"},
		{"findings", []string{"-format", "json", "./bad"}, 1, "json"},
		{"findings", []string{"-format", "sarif", "./bad"}, 1, "sarif"},
		{"clean", []string{"./clean"}, 0, "txt"},
		{"clean", []string{"-format", "json", "./clean"}, 0, "json"},
		{"only-cg024", []string{"-format", "json", "-rules", "CG024", "./bad"}, 1, "json"},
		{"disabled", []string{"-disable", "CG001,CG002,CG003,CG024,CG000", "./bad"}, 0, "txt"},
		{"broken", []string{"-format", "json", "./broken"}, 3, "json"},
		{"c-error", []string{"./nohdr", "./bad", "./clean"}, 3, "txt"},
		{"c-error", []string{"-format", "json", "./nohdr", "./clean"}, 3, "json"},
		{"advisory-off", []string{"./hot"}, 1, "txt"},
		{"advisory", []string{"-advisory", "./hot"}, 1, "txt"},
		{"advisory-all", []string{"-advisory", "-advisory-max", "-1", "-advisory-package-max", "-1", "./hot"}, 1, "txt"},
		{"advisory-package-cap", []string{"-advisory", "-advisory-max", "-1", "./hot"}, 1, "txt"},
		{"advisory-named", []string{"-rules", "CG028", "./hot"}, 1, "txt"},
		{"advisory-config", []string{"-config", "advisory.yaml", "./hot"}, 1, "txt"},
		{"advisory-flag-over-config", []string{"-config", "advisory.yaml", "-advisory=false", "./hot"}, 1, "txt"},
		{"bad-config", []string{"-config", "badconfig.yaml", "./hot"}, 2, "txt"},
		{"bad-advisory-max", []string{"-advisory-max", "0", "./hot"}, 2, "txt"},
		{"no-tests", []string{"./withtests"}, 0, "txt"},
		{"tests", []string{"-tests", "./withtests"}, 1, "txt"},
		{"tests-broken", []string{"-tests", "./brokentest"}, 3, "txt"},
		{"missing", []string{"./missing"}, 2, "txt"},
		{"bad-format", []string{"-format", "xml", "./bad"}, 2, "txt"},
		{"format-txt", []string{"-format", "txt", "./bad"}, 1, "txt"},
		{"unknown-rule", []string{"-rules", "CG099", "./bad"}, 2, "txt"},
		{"analyzer-flag-off", []string{"-rules", "CG031", "./status"}, 1, "txt"},
		{"analyzer-flag", []string{"-rules", "CG031", "-cerrors.nostatus", "+mylib_flush", "./status"}, 0, "txt"},
		{"analyzer-flag-config", []string{"-config", "nostatus.yaml", "-rules", "CG031", "./status"}, 0, "txt"},
		{"analyzer-flag-over-config", []string{"-config", "nostatus.yaml", "-rules", "CG031", "-cerrors.nostatus=", "./status"}, 1, "txt"},
		{"analyzer-flag-bad", []string{"-rules", "CG031", "-cerrors.funcs", "lib_[", "./status"}, 2, "txt"},
	} {
		t.Run(tc.name+"."+tc.format, func(t *testing.T) {
			t.Chdir(filepath.Join(golden, "src"))
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"vet"}, tc.args...), &stdout, &stderr)
			if code != tc.exit {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.exit, stdout.String(), stderr.String())
			}
			got := stdout.String()
			if stderr.Len() > 0 {
				got += "--- stderr\n" + stderr.String()
			}
			file := filepath.Join(golden, tc.name+".exit"+itoa(tc.exit)+"."+tc.format)
			if updating() {
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s:\n--- got\n%s\n--- want\n%s", file, got, want)
			}
		})
	}
}

func itoa(n int) string { return string(rune('0' + n)) }
