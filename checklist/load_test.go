package checklist

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseValid(t *testing.T) {
	tests := []struct {
		env      string
		vars     map[string]string
		wantEcho string
	}{
		{"", nil, "echo hello dev.example"},
		{"prod", nil, "echo hello prod.example"},
		{"prod", map[string]string{"GREETING": "hi"}, "echo hi prod.example"},
	}
	for _, tt := range tests {
		t.Run(tt.env+tt.wantEcho, func(t *testing.T) {
			cl, err := LoadFile("testdata/valid.yaml", LoadOptions{Env: tt.env, Vars: tt.vars})
			if err != nil {
				t.Fatal(err)
			}
			if cl.Name != "sample" || cl.Version != 2 || len(cl.Checks) != 2 {
				t.Fatalf("got %+v", cl)
			}
			if got := cl.Checks[0].With["run"]; got != tt.wantEcho {
				t.Fatalf("run = %q, want %q", got, tt.wantEcho)
			}
			c := cl.Checks[1]
			if c.Line != 14 || cl.Checks[0].Line != 10 {
				t.Fatalf("lines = %d, %d; want 10, 14", cl.Checks[0].Line, c.Line)
			}
			if c.Severity != SeverityHigh || c.Timeout() != 120*time.Second || c.Attempts() != 2 ||
				c.Retry.DelaySeconds != 1 || c.Evidence != "required" || c.DependsOn[0] != "CG-BUILD-01" {
				t.Fatalf("check decoded wrong: %+v", c)
			}
			if c.Waiver.Expires.String() != "2027-01-31" || c.Waiver.Reason == "" {
				t.Fatalf("waiver = %+v", c.Waiver)
			}
		})
	}
}

func TestParseErrorsNameLines(t *testing.T) {
	const head = "checklist: x\nchecks:\n"
	tests := []struct {
		name string
		yaml string
		want string // file:line: message fragment
	}{
		{"unknown key", head + "  - id: A\n    title: t\n    kind: command\n    colour: red\n", "x.yaml:6: check A: unknown key colour"},
		{"unknown kind", head + "  - id: A\n    title: t\n    kind: shell\n", `x.yaml:5: check A: unknown kind "shell"`},
		{"missing title", head + "  - id: A\n    kind: file\n    with: {paths: [x]}\n", "x.yaml:3: check A: title is required"},
		{"duplicate id", head + "  - {id: A, title: t, kind: file}\n  - {id: A, title: u, kind: file}\n", "x.yaml:4: check A: duplicate id (first at line 3)"},
		{"bad severity", head + "  - {id: A, title: t, kind: file, severity: severe}\n", `x.yaml:3: check A: unknown severity "severe"`},
		{"wrong type", head + "  - {id: A, title: t, kind: file, timeout_seconds: soon}\n", `x.yaml:3: check A: timeout_seconds: want a number of seconds, not the string "soon"`},
		{"bad date", head + "  - {id: A, title: t, kind: file, waiver: {reason: r, expires: someday}}\n", `x.yaml:3: check A: waiver.expires: date "someday" is not YYYY-MM-DD`},
		{"dangling dependency", head + "  - {id: A, title: t, kind: file, depends_on: [B]}\n", `x.yaml:3: check A: depends_on names unknown check "B"`},
		{"cycle", head + "  - {id: A, title: t, kind: file, depends_on: [B]}\n  - {id: B, title: u, kind: file, depends_on: [A]}\n", "x.yaml:3: depends_on cycle: A -> B -> A"},
		{"undefined var", head + "  - id: A\n    title: t\n    kind: command\n    with: {run: \"echo ${NOPE}\"}\n", "x.yaml:6: check A: with: run: undefined variable ${NOPE}"},
		{"bad retry", head + "  - id: A\n    title: t\n    kind: file\n    retry_on_failure: {attempts: 0}\n", "x.yaml:6: check A: retry_on_failure.attempts must be 1 to 10"},
		{"syntax", head + "  - id: [\n", "x.yaml:3: did not find expected node content"},
		{"no checks", "checklist: x\n", "x.yaml:1: checks: at least one check is required"},
		{"not a mapping", "- a\n- b\n", "x.yaml:1: a checklist is a mapping"},
		{"empty", "", "x.yaml: empty checklist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tt.yaml), LoadOptions{})
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("%v is not ErrInvalid", err)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("%T is not *ConfigError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error\n%v\ndoes not contain\n%s", err, tt.want)
			}
		})
	}
}

func TestParseUnknownEnv(t *testing.T) {
	_, err := LoadFile("testdata/valid.yaml", LoadOptions{Env: "staging"})
	if err == nil || !strings.Contains(err.Error(), `testdata/valid.yaml:3: environment "staging" is not declared under vars (declared: default, prod)`) {
		t.Fatalf("err = %v", err)
	}
}

func TestWaiverExpiry(t *testing.T) {
	w := Waiver{Reason: "r"}
	if err := w.Expires.UnmarshalText([]byte("2027-01-31")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		now  string
		want bool
	}{
		{"2027-01-30T12:00:00Z", false},
		{"2027-01-31T23:59:59Z", false},
		{"2027-02-01T00:00:00Z", true},
	}
	for _, tt := range tests {
		now, _ := time.Parse(time.RFC3339, tt.now)
		if got := w.Expired(now); got != tt.want {
			t.Errorf("Expired(%s) = %v, want %v", tt.now, got, tt.want)
		}
	}
}

func TestMergeRejectsDuplicateIDs(t *testing.T) {
	a, err := LoadFile("testdata/valid.yaml", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := LoadFile("testdata/valid.yaml", LoadOptions{})
	b.File = "other.yaml"
	if _, err := Merge(a, b); err == nil || !strings.Contains(err.Error(), "CG-BUILD-01 is in both") {
		t.Fatalf("err = %v", err)
	}
	b.Checks = b.Checks[:0]
	b.Checks = append(b.Checks, Check{ID: "Z", Title: "z", Kind: "file"})
	m, err := Merge(a, b)
	if err != nil || len(m.Checks) != 3 || m.Checks[2].File != "other.yaml" || m.Name != "sample+sample" {
		t.Fatalf("merge = %+v, %v", m, err)
	}
}

// FuzzParse: the loader never panics and either returns a checklist that
// satisfies its own invariants (the ones Run relies on: unique ids, no
// cycle, numbers in range, `with` valid for its kind) or a *ConfigError
// with at least one problem.
func FuzzParse(f *testing.F) {
	seed, _ := os.ReadFile("testdata/valid.yaml")
	f.Add(seed)
	shipped, _ := os.ReadFile("../checklists/cgo-reliability.yaml")
	f.Add(shipped)
	f.Add([]byte("checklist: x\nchecks:\n  - {id: A, title: t, kind: file, depends_on: [A]}\n"))
	f.Add([]byte("checklist: x\nchecks: [{id: A, title: t, kind: command, with: {run: '${X}'}}]\nvars: {default: {X: y}}\n"))
	f.Add([]byte("&a [*a]"))
	f.Add([]byte("checklist: x\nchecks:\n  - {id: A, title: t, kind: command, with: {run: x}, timeout_seconds: .inf}\n---\nchecklist: y\n"))
	f.Add([]byte("checklist: x\nchecks:\n  - {id: A, title: t, kind: http, with: {url: /x, serve: {run: x, ready_seconds: 1e300}, status: 99}}\n"))
	f.Add([]byte("checklist: x\nchecks:\n  - {id: \"\\e[2J\", title: [t], kind: metric, with: {url: u, series: 'a{b=\"c\"}', value: .nan}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cl, err := Parse("fuzz.yaml", data, LoadOptions{})
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) || len(ce.Problems) == 0 {
				t.Fatalf("error %v (%T) is not a *ConfigError with problems", err, err)
			}
			return
		}
		ids := map[string]bool{}
		for _, c := range cl.Checks {
			if c.ID == "" || c.Title == "" || ids[c.ID] {
				t.Fatalf("invalid check accepted: %+v", c)
			}
			ids[c.ID] = true
		}
		if findCycle(cl.Checks) != nil {
			t.Fatal("cycle accepted")
		}
		for _, c := range cl.Checks {
			if d := c.Timeout(); d <= 0 || d > MaxTimeoutSeconds*time.Second {
				t.Fatalf("check %s: timeout %v accepted", c.ID, d)
			}
			if a := c.Attempts(); a < 1 || a > MaxAttempts {
				t.Fatalf("check %s: %d attempts accepted", c.ID, a)
			}
		}
		if err := NewRunner().Validate(cl); err != nil {
			t.Fatalf("Parse accepted what Validate rejects: %v", err)
		}
	})
}
