package hub

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/cgoguard/cgoguard/checklist"
)

func body(t *testing.T, id string, res any) []byte {
	t.Helper()
	rb, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(Upload{FormatVersion: FormatVersion, ID: id, Result: rb})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeRejects(t *testing.T) {
	good := `{"checklist":"c","started":"2026-11-01T00:00:00Z","checks":[{"id":"A","outcome":"pass","attempts":1}]}`
	tests := []struct {
		name, body string
		want       []string
		format     bool
	}{
		{"not json", `{"format_version":1,`, []string{"malformed JSON"}, false},
		{"syntax error has a line", "{\"format_version\": 1,\n \"id\": x}", []string{"malformed JSON", "line 2"}, false},
		{"two values", `{"format_version":1,"id":"a","result":` + good + `} {}`, []string{"more than one value"}, false},
		{"unknown envelope field", `{"format_version":1,"id":"a","reslt":{}}`, []string{"unknown field", "reslt"}, false},
		{"missing version", `{"id":"a","result":` + good + `}`, []string{"format_version is missing"}, true},
		{"future version", `{"format_version":2,"id":"a","result":` + good + `}`, []string{"unknown format_version 2", "reads 1"}, true},
		{"missing id", `{"format_version":1,"result":` + good + `}`, []string{"id is missing"}, false},
		{"bad id", `{"format_version":1,"id":"../etc/passwd","result":` + good + `}`, []string{`id "../etc/passwd"`}, false},
		{"missing result", `{"format_version":1,"id":"a"}`, []string{"result is missing"}, false},
		{"result of wrong type", `{"format_version":1,"id":"a","result":{"checks":"x"}}`, []string{"result:", "checks"}, false},
		{"missing checklist and checks", `{"format_version":1,"id":"a","result":{}}`, []string{"result.checklist is missing", "result.checks is missing"}, false},
		{"bad check", `{"format_version":1,"id":"a","result":{"checklist":"c","checks":[{"id":"","outcome":"maybe","attempts":-1,"duration_seconds":-2},{"id":"B","outcome":"pass"},{"id":"B","outcome":"pass"}]}}`,
			[]string{"result.checks[0].id is missing", `result.checks[0].outcome "maybe"`, "attempts must not be negative", "checks[0].duration_seconds", `result.checks[2].id "B" appears twice`}, false},
		{"control character in id", `{"format_version":1,"id":"a","result":{"checklist":"c","checks":[{"id":"A\u0007","outcome":"pass"}]}}`, []string{"control characters"}, false},
		{"long context", `{"format_version":1,"id":"a","context":{"repo":"` + strings.Repeat("r", 3000) + `"},"result":` + good + `}`, []string{"context.repo is longer"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Decode([]byte(tt.body), DecodeOptions{})
			if err == nil {
				t.Fatalf("accepted: %+v", r)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not match ErrInvalid: %v", err)
			}
			if errors.Is(err, ErrUnknownFormat) != tt.format {
				t.Errorf("ErrUnknownFormat match = %v, want %v", !tt.format, tt.format)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestDecodeSummarizesAndDigests(t *testing.T) {
	res := Result{Checklist: "c", Checks: []Check{
		{ID: "A", Outcome: checklist.Pass, Attempts: 2},
		{ID: "B", Outcome: checklist.Fail, Attempts: 1},
		{ID: "C", Outcome: checklist.Waived, Attempts: 1},
		{ID: "D", Outcome: checklist.Skip},
	}}
	r, err := Decode(body(t, "run-1", res), DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := Counts{Checks: 4, Pass: 1, Fail: 1, Waived: 1, Skip: 1, Flaky: 1}
	if r.Counts != want || r.Outcome != OutcomeFail {
		t.Errorf("counts %+v outcome %s", r.Counts, r.Outcome)
	}
	if r.Started.IsZero() {
		t.Error("a run without a start time gets the time of receipt")
	}
	// Whitespace and key order do not change the digest; content does.
	indented, _ := json.MarshalIndent(json.RawMessage(body(t, "run-1", res)), "", "   ")
	r2, err := Decode(indented, DecodeOptions{})
	if err != nil || r2.Digest != r.Digest {
		t.Errorf("same content, other digest: %s %s %v", r.Digest, r2.Digest, err)
	}
	res.Checks[1].Outcome = checklist.Pass
	r3, _ := Decode(body(t, "run-1", res), DecodeOptions{})
	if r3.Digest == r.Digest || r3.Outcome != OutcomePass {
		t.Errorf("changed content kept digest or outcome: %s %s", r3.Digest, r3.Outcome)
	}
	res.Interrupted = true
	r4, _ := Decode(body(t, "run-1", res), DecodeOptions{})
	if r4.Outcome != OutcomeInterrupted {
		t.Errorf("interrupted run: %s", r4.Outcome)
	}
}

func TestEvidenceCap(t *testing.T) {
	big := strings.Repeat("é", 600) // 1200 bytes, 2-byte runes
	res := Result{Checklist: "c", Checks: []Check{
		{ID: "A", Outcome: checklist.Fail, Evidence: checklist.Evidence{Stdout: big, Stderr: "err"},
			Tests: []checklist.TestResult{{Test: "T", Output: "test output"}}},
		{ID: "B", Outcome: checklist.Pass, Evidence: checklist.Evidence{Stdout: "small"}},
	}}
	r, err := Decode(body(t, "r", res), DecodeOptions{EvidenceCap: 1001})
	if err != nil {
		t.Fatal(err)
	}
	a := r.Checks[0]
	if !a.EvidenceTruncated || !strings.Contains(a.Evidence.Stdout, EvidenceMarker+": 1000 of 1200 bytes kept]") {
		t.Fatalf("stdout not capped with a marker: truncated=%v tail %q", a.EvidenceTruncated, a.Evidence.Stdout[len(a.Evidence.Stdout)-60:])
	}
	if !strings.HasPrefix(a.Evidence.Stdout, strings.Repeat("é", 500)+"\n") {
		t.Error("cut inside a rune or kept the wrong prefix")
	}
	if !strings.Contains(a.Evidence.Stderr, "1 of 3 bytes kept") || !strings.Contains(a.Tests[0].Output, "0 of 11 bytes kept") {
		t.Errorf("budget not shared across streams: %q %q", a.Evidence.Stderr, a.Tests[0].Output)
	}
	if r.Checks[1].EvidenceTruncated || r.Checks[1].Evidence.Stdout != "small" {
		t.Error("the cap is per check")
	}
	r, _ = Decode(body(t, "r", res), DecodeOptions{EvidenceCap: -1})
	if r.Checks[0].Evidence.Stdout != big {
		t.Error("a negative cap keeps everything")
	}
}

func TestRoles(t *testing.T) {
	tests := []struct {
		role Role
		can  []Action
	}{
		{RoleAdmin, []Action{ActionRead, ActionUpload, ActionWriteChecklist, ActionApproveChecklist, ActionManageTokens}},
		{RoleAuthor, []Action{ActionRead, ActionWriteChecklist}},
		{RoleReviewer, []Action{ActionRead, ActionApproveChecklist}},
		{RoleRunner, []Action{ActionRead, ActionUpload}},
		{RoleViewer, []Action{ActionRead}},
		{Role("root"), nil},
		{Role(""), nil},
	}
	all := []Action{ActionRead, ActionUpload, ActionWriteChecklist, ActionApproveChecklist, ActionManageTokens, Action("fly")}
	for _, tt := range tests {
		for _, a := range all {
			want := false
			for _, c := range tt.can {
				want = want || c == a
			}
			if got := tt.role.Can(a); got != want {
				t.Errorf("%q.Can(%q) = %v, want %v", tt.role, a, got, want)
			}
		}
	}
	if r, err := ParseRole(" Runner "); err != nil || r != RoleRunner {
		t.Errorf("ParseRole: %v %v", r, err)
	}
	if _, err := ParseRole("owner"); err == nil || !strings.Contains(err.Error(), "admin, author, reviewer, runner, viewer") {
		t.Errorf("ParseRole(owner): %v", err)
	}
}

func TestParseWindowAndSince(t *testing.T) {
	for in, want := range map[string]float64{"30d": 30 * 24, "1d": 24, "2w": 14 * 24, "12h": 12, "90m": 1.5, "0.5d": 12} {
		d, err := ParseWindow(in)
		if err != nil || d.Hours() != want {
			t.Errorf("ParseWindow(%q) = %v, %v", in, d, err)
		}
	}
	for _, bad := range []string{"", "0d", "-1d", "d", "abc", "1y", "99999999d"} {
		if _, err := ParseWindow(bad); err == nil {
			t.Errorf("ParseWindow(%q) accepted", bad)
		}
	}
}
