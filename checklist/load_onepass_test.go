package checklist_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/cgoguard/cgoguard/checklist"
	_ "github.com/cgoguard/cgoguard/checklist/kinds"
)

// TestParseReportsEveryRoundAtOnce: YAML type errors, model errors, `with`
// errors and cycles of one file come back from one Parse, each with its line.
func TestParseReportsEveryRoundAtOnce(t *testing.T) {
	_, err := checklist.LoadFile("testdata/allrounds.yaml", checklist.LoadOptions{})
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		`testdata/allrounds.yaml:7: check A: unknown key colour`,
		`testdata/allrounds.yaml:12: check B: timeout_seconds: want a number of seconds, not the string "abc"`,
		`testdata/allrounds.yaml:13: check C: title is required`,
		`testdata/allrounds.yaml:21: check D: with: unknown key stdout_match (known: run, argv,`,
		`testdata/allrounds.yaml:32: check F: with: serve.ready_seconds must be from 0 to 86400, not +Inf`,
		`depends_on cycle: E -> F -> E`,
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not contain %q:\n%v", w, err)
		}
	}
}

func TestParseHostileInput(t *testing.T) {
	const head = "checklist: x\nchecks:\n"
	one := func(extra string) string {
		return head + "  - id: A\n    title: t\n    kind: command\n    with: {run: \"true\"}\n" + extra
	}
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"second document", one("---\nchecklist: y\nchecks:\n  - {id: B, title: u, kind: file}\n"),
			[]string{"x.yaml:7: ", "one YAML document", "second document starts at line 7"}},
		{"huge timeout", one("    timeout_seconds: 1e12\n"), []string{"x.yaml:7: check A: timeout_seconds must be from 0 to 86400", "1e+12"}},
		{"infinite timeout", one("    timeout_seconds: .inf\n"), []string{"x.yaml:7: check A: timeout_seconds must be from 0 to 86400", "+Inf"}},
		{"nan timeout", one("    timeout_seconds: .nan\n"), []string{"x.yaml:7: check A: timeout_seconds must be from 0 to 86400", "NaN"}},
		{"negative timeout", one("    timeout_seconds: -1\n"), []string{"x.yaml:7: check A: timeout_seconds must be from 0 to 86400"}},
		{"nan delay", one("    retry_on_failure: {attempts: 2, delay_seconds: .nan}\n"), []string{"x.yaml:7: check A: retry_on_failure.delay_seconds must be from 0 to 3600"}},
		{"huge attempts", one("    retry_on_failure: {attempts: 99999999999999999999}\n"), []string{"x.yaml:7: check A: retry_on_failure.attempts: want a whole number"}},
		{"string timeout", one("    timeout_seconds: abc\n"), []string{`x.yaml:7: check A: timeout_seconds: want a number of seconds, not the string "abc"`}},
		{"list for a string", one("    prevents: [a, b]\n"), []string{"x.yaml:7: check A: prevents: want a string, not a list"}},
		{"non-ASCII id", head + "  - {id: Prüfung, title: t, kind: file}\n", []string{"x.yaml:3: check Prüfung: id must be ASCII letters"}},
		{"environment variable", head + "  - id: A\n    title: t\n    kind: command\n    with: {run: \"echo ${HOME}\"}\n",
			[]string{"x.yaml:6: check A: with: run: undefined variable ${HOME}", "not from the environment", "--var HOME=", "$HOME"}},
		{"exit code range", head + "  - id: A\n    title: t\n    kind: command\n    with:\n      run: \"true\"\n      exit_code: 300\n",
			[]string{"x.yaml:8: check A: with: exit_code must be from 0 to 255"}},
		{"status range", head + "  - id: A\n    title: t\n    kind: http\n    with:\n      url: http://x/\n      status: 1000\n",
			[]string{"x.yaml:8: check A: with: status must be from 100 to 599"}},
		{"metric value nan", head + "  - id: A\n    title: t\n    kind: metric\n    with:\n      url: http://x/metrics\n      series: up\n      value: .nan\n",
			[]string{"x.yaml:9: check A: with: value must be a finite number"}},
		{"with type", head + "  - id: A\n    title: t\n    kind: gotest\n    with:\n      min_tests: many\n",
			[]string{`x.yaml:7: check A: with: min_tests: want a whole number, not the string "many"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := checklist.Parse("x.yaml", []byte(tt.yaml), checklist.LoadOptions{})
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, checklist.ErrInvalid) {
				t.Fatalf("%v is not ErrInvalid", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

// A document marker before the only document, and an empty trailing one,
// are not a second checklist.
func TestParseOneDocumentWithMarkers(t *testing.T) {
	data := "---\nchecklist: x\nchecks:\n  - {id: A, title: t, kind: file, with: {paths: [x]}}\n---\n"
	if _, err := checklist.Parse("x.yaml", []byte(data), checklist.LoadOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestUsedVars(t *testing.T) {
	data := "checklist: x\nchecks:\n  - id: A\n    title: t\n    kind: command\n    with: {run: \"echo ${WORD} ${PACKAGES}\"}\n"
	cl, err := checklist.Parse("x.yaml", []byte(data), checklist.LoadOptions{Vars: map[string]string{"WORD": "w", "UNUSED": "u"}})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(cl.UsedVars(), ",")
	if got != "PACKAGES,WORD" {
		t.Fatalf("UsedVars = %s, want PACKAGES,WORD", got)
	}
	other, _ := checklist.Parse("y.yaml", []byte("checklist: y\nchecks:\n  - {id: B, title: t, kind: command, with: {run: \"echo ${UNUSED}\"}}\n"),
		checklist.LoadOptions{Vars: map[string]string{"UNUSED": "u"}})
	m, err := checklist.Merge(cl, other)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(m.UsedVars(), ","); got != "PACKAGES,UNUSED,WORD" {
		t.Fatalf("merged UsedVars = %s", got)
	}
}

func TestShippedChecklistStillLoads(t *testing.T) {
	data, err := os.ReadFile("../checklists/cgo-reliability.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range []string{"", "ci"} {
		if _, err := checklist.Parse("cgo-reliability.yaml", data, checklist.LoadOptions{Env: env}); err != nil {
			t.Fatalf("env %q: %v", env, err)
		}
	}
}
