package hub

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cgoguard/cgoguard/checklist"
)

// FormatVersion is the version of the upload format this package writes
// and reads. An upload with another version is refused with
// ErrUnknownFormat.
const FormatVersion = 1

// DefaultEvidenceCap bounds the evidence kept per check (command output
// and test output together) when DecodeOptions.EvidenceCap is 0.
const DefaultEvidenceCap = 256 << 10

// Limits on identifiers; longer values are refused.
const (
	maxIDLen      = 128
	maxNameLen    = 256
	maxContextLen = 2048
)

// Upload is the body of POST /api/v1/runs: one run's JSON result (report
// format json, as `cgoguard check -o json=FILE` writes it) with where it
// ran. ID is chosen by the client, so a retried upload is stored once.
type Upload struct {
	// FormatVersion must be FormatVersion.
	FormatVersion int `json:"format_version"`
	// ID names the run: 1 to 128 letters, digits, '.', '_', ':' or '-',
	// starting with a letter or digit.
	ID string `json:"id"`
	// Context says where the run happened.
	Context Context `json:"context"`
	// Result is the run's JSON result.
	Result json.RawMessage `json:"result"`
}

// Context says where a run happened. Every field is optional.
type Context struct {
	// Repo is the repository, e.g. "github.com/org/service" or "org/service".
	Repo string `json:"repo,omitempty"`
	// Branch is the branch (or merge request source branch).
	Branch string `json:"branch,omitempty"`
	// Commit is the commit hash.
	Commit string `json:"commit,omitempty"`
	// JobURL links to the CI job.
	JobURL string `json:"job_url,omitempty"`
	// Host is the machine that ran the checks.
	Host string `json:"host,omitempty"`
	// CI names the CI system: github, gitlab, jenkins, or empty.
	CI string `json:"ci,omitempty"`
}

// Result is a checklist run as report format json writes it.
type Result struct {
	Checklist       string    `json:"checklist"`
	Files           []string  `json:"files,omitempty"`
	Env             string    `json:"env,omitempty"`
	Packages        []string  `json:"packages,omitempty"`
	Started         time.Time `json:"started"`
	DurationSeconds float64   `json:"duration_seconds"`
	Interrupted     bool      `json:"interrupted,omitempty"`
	Checks          []Check   `json:"checks"`
	// Source names the hub's checklist version that ran (check
	// --from-hub), and whether a cached copy ran while the hub was
	// unreachable.
	Source *checklist.Source `json:"source,omitempty"`
}

// Check is one check of a run.
type Check struct {
	ID              string                 `json:"id"`
	Title           string                 `json:"title,omitempty"`
	Severity        string                 `json:"severity,omitempty"`
	Kind            string                 `json:"kind,omitempty"`
	Prevents        string                 `json:"prevents,omitempty"`
	Fix             string                 `json:"fix,omitempty"`
	File            string                 `json:"file,omitempty"`
	Line            int                    `json:"line,omitempty"`
	Outcome         checklist.Outcome      `json:"outcome"`
	Message         string                 `json:"message,omitempty"`
	Attempts        int                    `json:"attempts"`
	DurationSeconds float64                `json:"duration_seconds"`
	Evidence        checklist.Evidence     `json:"evidence"`
	Findings        []checklist.Finding    `json:"findings,omitempty"`
	Tests           []checklist.TestResult `json:"tests,omitempty"`
	Waiver          *checklist.Waiver      `json:"waiver,omitempty"`
	// EvidenceTruncated is set by the hub when the evidence was longer
	// than its cap and was cut (the cut text ends with a marker).
	EvidenceTruncated bool `json:"evidence_truncated,omitempty"`
}

// Flaky reports whether the check passed only after a retry.
func (c Check) Flaky() bool { return c.Outcome == checklist.Pass && c.Attempts > 1 }

// Run outcomes.
const (
	OutcomePass        = "pass"
	OutcomeFail        = "fail"
	OutcomeInterrupted = "interrupted"
)

// RunOutcomes lists the outcomes of a whole run.
var RunOutcomes = []string{OutcomePass, OutcomeFail, OutcomeInterrupted}

// Counts are the number of checks per outcome in a run.
type Counts struct {
	Checks  int `json:"checks"`
	Pass    int `json:"pass"`
	Fail    int `json:"fail"`
	Timeout int `json:"timeout"`
	Error   int `json:"error"`
	Skip    int `json:"skip"`
	Waived  int `json:"waived"`
	// Flaky counts checks that passed only after a retry.
	Flaky int `json:"flaky"`
}

// RunSummary is a stored run without its checks: a row of the runs list.
type RunSummary struct {
	ID              string    `json:"id"`
	Checklist       string    `json:"checklist"`
	Context         Context   `json:"context"`
	Env             string    `json:"env,omitempty"`
	Started         time.Time `json:"started"`
	Received        time.Time `json:"received"`
	DurationSeconds float64   `json:"duration_seconds"`
	// Outcome is pass, fail (a check failed, timed out or errored) or
	// interrupted.
	Outcome string `json:"outcome"`
	Counts  Counts `json:"counts"`
	// UploadedBy names the token that uploaded the run.
	UploadedBy string `json:"uploaded_by,omitempty"`
	// Source is the hub checklist version that ran, when it came from a
	// hub; ChecklistVersion repeats its version (0 for a local file).
	Source           *checklist.Source `json:"source,omitempty"`
	ChecklistVersion int               `json:"checklist_version,omitempty"`
	// RequestID is the run request (a /checklist run comment) the run
	// answered.
	RequestID string `json:"request_id,omitempty"`
}

// Run is a stored run with all its checks.
type Run struct {
	RunSummary
	Files    []string `json:"files,omitempty"`
	Packages []string `json:"packages,omitempty"`
	// Digest identifies the upload's content: a second upload with the
	// same id and digest is a retry, with another digest a conflict.
	Digest string  `json:"digest"`
	Checks []Check `json:"checks"`
}

// DecodeOptions tune Decode.
type DecodeOptions struct {
	// EvidenceCap bounds the evidence bytes kept per check; 0 means
	// DefaultEvidenceCap, a negative value keeps everything.
	EvidenceCap int
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]*$`)

// ValidID reports whether id may name a run.
func ValidID(id string) bool { return len(id) <= maxIDLen && idPattern.MatchString(id) }

// Decode parses and checks an upload body and returns the run to store
// (Received and UploadedBy are left for the caller). Every problem is
// reported in one *InvalidError; nothing is half-accepted.
func Decode(body []byte, o DecodeOptions) (*Run, error) {
	var up Upload
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&up); err != nil {
		return nil, &InvalidError{What: "upload", Problems: []string{"malformed JSON: " + jsonError(body, err)}}
	}
	if dec.More() {
		return nil, &InvalidError{What: "upload", Problems: []string{"malformed JSON: more than one value in the body"}}
	}
	switch {
	case up.FormatVersion == 0:
		return nil, &InvalidError{What: "upload", Problems: []string{fmt.Sprintf("format_version is missing (this hub reads %d)", FormatVersion)}, Format: true}
	case up.FormatVersion != FormatVersion:
		return nil, &InvalidError{What: "upload", Problems: []string{fmt.Sprintf("unknown format_version %d (this hub reads %d; upgrade the hub)", up.FormatVersion, FormatVersion)}, Format: true}
	}
	inv := &InvalidError{What: "upload"}
	if up.ID == "" {
		inv.add("id is missing")
	} else if !ValidID(up.ID) {
		inv.add("id %q must be 1 to %d letters, digits, '.', '_', ':' or '-', starting with a letter or digit", clip(up.ID), maxIDLen)
	}
	for _, f := range []struct{ name, v string }{
		{"repo", up.Context.Repo}, {"branch", up.Context.Branch}, {"commit", up.Context.Commit},
		{"job_url", up.Context.JobURL}, {"host", up.Context.Host}, {"ci", up.Context.CI},
	} {
		if len(f.v) > maxContextLen {
			inv.add("context.%s is longer than %d bytes", f.name, maxContextLen)
		}
	}
	if len(bytes.TrimSpace(up.Result)) == 0 || string(bytes.TrimSpace(up.Result)) == "null" {
		inv.add("result is missing")
		return nil, inv
	}
	var res Result
	if err := json.Unmarshal(up.Result, &res); err != nil {
		inv.add("result: %s", jsonError(up.Result, err))
		return nil, inv
	}
	validateResult(&res, inv)
	if err := inv.orNil(); err != nil {
		return nil, err
	}
	digest, err := Digest(up.ID, up.Context, &res)
	if err != nil {
		return nil, err
	}
	if res.Started.IsZero() {
		res.Started = time.Now().UTC()
	}
	run := &Run{
		RunSummary: RunSummary{
			ID:              up.ID,
			Checklist:       res.Checklist,
			Context:         up.Context,
			Env:             res.Env,
			Started:         res.Started,
			DurationSeconds: res.DurationSeconds,
			Source:          res.Source,
		},
		Files:    res.Files,
		Packages: res.Packages,
		Digest:   digest,
		Checks:   res.Checks,
	}
	if run.Source != nil {
		run.ChecklistVersion = run.Source.Version
	}
	capEvidence(run.Checks, o.EvidenceCap)
	sanitizeRun(run)
	run.Summarize(res.Interrupted)
	return run, nil
}

// Digest returns the content digest of a run: the SHA-256 of its id,
// context and result in canonical JSON.
func Digest(id string, c Context, r *Result) (string, error) {
	b, err := json.Marshal(struct {
		ID      string  `json:"id"`
		Context Context `json:"context"`
		Result  *Result `json:"result"`
	}{id, c, r})
	if err != nil {
		return "", fmt.Errorf("cgoguard: digest: %w", err)
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// Summarize sets the run's counts and outcome from its checks.
func (r *Run) Summarize(interrupted bool) {
	c := Counts{Checks: len(r.Checks)}
	failed := false
	for i := range r.Checks {
		ch := &r.Checks[i]
		switch ch.Outcome {
		case checklist.Pass:
			c.Pass++
		case checklist.Fail:
			c.Fail++
		case checklist.Timeout:
			c.Timeout++
		case checklist.Error:
			c.Error++
		case checklist.Skip:
			c.Skip++
		case checklist.Waived:
			c.Waived++
		}
		if ch.Flaky() {
			c.Flaky++
		}
		failed = failed || ch.Outcome.Failed()
	}
	r.Counts = c
	switch {
	case interrupted:
		r.Outcome = OutcomeInterrupted
	case failed:
		r.Outcome = OutcomeFail
	default:
		r.Outcome = OutcomePass
	}
}

func validateResult(res *Result, inv *InvalidError) {
	switch {
	case res.Checklist == "":
		inv.add("result.checklist is missing")
	case len(res.Checklist) > maxNameLen:
		inv.add("result.checklist is longer than %d bytes", maxNameLen)
	case hasControl(res.Checklist):
		inv.add("result.checklist %q has control characters", clip(res.Checklist))
	}
	if res.Checks == nil {
		inv.add("result.checks is missing")
	}
	if src := res.Source; src != nil {
		if src.Version < 0 {
			inv.add("result.source.version must not be negative")
		}
		for _, f := range []struct{ name, v string }{{"hub", src.Hub}, {"name", src.Name}, {"digest", src.Digest}, {"offline", src.Offline}} {
			if len(f.v) > maxContextLen || hasControl(f.v) {
				inv.add("result.source.%s is longer than %d bytes or has control characters", f.name, maxContextLen)
			}
		}
	}
	if !finite(res.DurationSeconds) || res.DurationSeconds < 0 {
		inv.add("result.duration_seconds must be a non-negative number")
	}
	seen := make(map[string]bool, len(res.Checks))
	for i := range res.Checks {
		c := &res.Checks[i]
		at := fmt.Sprintf("result.checks[%d]", i)
		switch {
		case c.ID == "":
			inv.add("%s.id is missing", at)
		case len(c.ID) > maxNameLen:
			inv.add("%s.id is longer than %d bytes", at, maxNameLen)
		case hasControl(c.ID):
			inv.add("%s.id %q has control characters", at, clip(c.ID))
		case seen[c.ID]:
			inv.add("%s.id %q appears twice in the run", at, clip(c.ID))
		}
		seen[c.ID] = true
		if !knownOutcome(c.Outcome) {
			inv.add("%s.outcome %q is not one of %s", at, clip(string(c.Outcome)), outcomeNames())
		}
		if c.Attempts < 0 {
			inv.add("%s.attempts must not be negative", at)
		}
		if !finite(c.DurationSeconds) || c.DurationSeconds < 0 {
			inv.add("%s.duration_seconds must be a non-negative number", at)
		}
	}
}

func knownOutcome(o checklist.Outcome) bool {
	for _, x := range checklist.Outcomes {
		if x == o {
			return true
		}
	}
	return false
}

func outcomeNames() string {
	n := make([]string, len(checklist.Outcomes))
	for i, o := range checklist.Outcomes {
		n[i] = string(o)
	}
	return strings.Join(n, ", ")
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func hasControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0
}

// clip shortens a value quoted in an error message.
func clip(s string) string {
	if len(s) <= 64 {
		return s
	}
	return truncateUTF8(s, 64) + "…"
}

// jsonError describes a decoding error with the line and column of a
// syntax error.
func jsonError(body []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var off int64 = -1
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(body)) {
		return err.Error()
	}
	line := 1 + bytes.Count(body[:off], []byte("\n"))
	col := off - int64(bytes.LastIndexByte(body[:off], '\n'))
	return fmt.Sprintf("line %d, column %d: %v", line, col, err)
}

// EvidenceMarker starts the line appended to evidence that was cut to its cap.
const EvidenceMarker = "[cgoguard hub: evidence truncated"

// capEvidence keeps at most limit bytes of output per check: stdout
// first, then stderr, then the tests' output; cut text ends with a marker
// line saying how much was kept.
func capEvidence(checks []Check, limit int) {
	if limit == 0 {
		limit = DefaultEvidenceCap
	}
	if limit < 0 {
		return
	}
	for i := range checks {
		c := &checks[i]
		budget := limit
		cut := func(s *string) {
			n := len(*s)
			if n <= budget {
				budget -= n
				return
			}
			kept := truncateUTF8(*s, budget)
			budget -= len(kept)
			*s = kept + fmt.Sprintf("\n%s: %d of %d bytes kept]", EvidenceMarker, len(kept), n)
			c.EvidenceTruncated = true
		}
		cut(&c.Evidence.Stdout)
		cut(&c.Evidence.Stderr)
		for j := range c.Tests {
			cut(&c.Tests[j].Output)
		}
	}
}

// truncateUTF8 returns the longest prefix of s of at most n bytes that
// does not split a rune.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// sanitizeRun replaces NUL characters, which PostgreSQL text cannot hold,
// by U+FFFD in every stored string, so both stores keep the same text.
func sanitizeRun(r *Run) {
	s := func(p *string) {
		if strings.IndexByte(*p, 0) >= 0 {
			*p = strings.ReplaceAll(*p, "\x00", "\uFFFD")
		}
	}
	if r.Source != nil {
		for _, p := range []*string{&r.Source.Hub, &r.Source.Name, &r.Source.Digest, &r.Source.Offline} {
			s(p)
		}
	}
	for _, p := range []*string{&r.Checklist, &r.Env, &r.Context.Repo, &r.Context.Branch, &r.Context.Commit, &r.Context.JobURL, &r.Context.Host, &r.Context.CI} {
		s(p)
	}
	for i := range r.Files {
		s(&r.Files[i])
	}
	for i := range r.Packages {
		s(&r.Packages[i])
	}
	for i := range r.Checks {
		c := &r.Checks[i]
		for _, p := range []*string{&c.ID, &c.Title, &c.Severity, &c.Kind, &c.Prevents, &c.Fix, &c.File, &c.Message,
			&c.Evidence.Command, &c.Evidence.Stdout, &c.Evidence.Stderr} {
			s(p)
		}
		for j := range c.Findings {
			f := &c.Findings[j]
			for _, p := range []*string{&f.Rule, &f.Severity, &f.Message, &f.File, &f.Justification} {
				s(p)
			}
		}
		for j := range c.Tests {
			t := &c.Tests[j]
			for _, p := range []*string{&t.Package, &t.Test, &t.Outcome, &t.Output} {
				s(p)
			}
		}
		if c.Waiver != nil {
			s(&c.Waiver.Reason)
		}
	}
}
