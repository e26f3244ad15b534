package kinds

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/checklist/internal/proc"
)

// gotestParams are the `with` keys of gotest and leak checks.
type gotestParams struct {
	// Packages override the run's packages.
	Packages []string `yaml:"packages"`
	// Run and Skip are go test's -run and -skip patterns. A leak check's
	// Run defaults to "Leak".
	Run  string `yaml:"run"`
	Skip string `yaml:"skip"`
	// Flags are further go test flags, e.g. ["-race", "-count=1"].
	Flags []string `yaml:"flags"`
	// Env adds environment variables, e.g. {GOEXPERIMENT: cgocheck2}.
	Env map[string]string `yaml:"env"`
	// MinTests fails the check when fewer tests ran (default 0).
	MinTests int `yaml:"min_tests"`
}

func parseGotest(with map[string]any) (*gotestParams, error) {
	var p gotestParams
	if err := decode(with, &p); err != nil {
		return nil, err
	}
	var errs []error
	for i, f := range p.Flags {
		if !strings.HasPrefix(f, "-") {
			errs = append(errs, fieldErr(fmt.Sprintf("flags[%d]", i), "%q is not a flag (packages go under packages)", f))
		} else if f == "-json" || strings.HasPrefix(f, "-run") || strings.HasPrefix(f, "-skip") {
			errs = append(errs, fieldErr(fmt.Sprintf("flags[%d]", i), "%q is set by the check itself (use run/skip)", f))
		}
	}
	if _, err := compile("run", p.Run); err != nil {
		errs = append(errs, err)
	}
	if _, err := compile("skip", p.Skip); err != nil {
		errs = append(errs, err)
	}
	if err := checklist.MustBeIn("min_tests", float64(p.MinTests), 0, 1e6); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &p, nil
}

type gotestKind struct{}

func (gotestKind) Validate(with map[string]any) error {
	_, err := parseGotest(with)
	return err
}

func (gotestKind) Run(ctx context.Context, env *checklist.Env, c *checklist.Check) checklist.Observation {
	p, err := parseGotest(c.With)
	if err != nil {
		return checklist.Observation{Err: err}
	}
	obs, _ := runGoTest(ctx, env, p)
	return obs
}

type leakKind struct{}

func (leakKind) Validate(with map[string]any) error {
	_, err := parseGotest(with)
	return err
}

// leakLine finds leakcheck report lines, with or without the file:line
// prefix that testing adds to t.Error output.
var leakLine = regexp.MustCompile(`(?m)^\s*(?:\S+\.go:\d+: )?(leakcheck:.*)$`)

func (leakKind) Run(ctx context.Context, env *checklist.Env, c *checklist.Check) checklist.Observation {
	p, err := parseGotest(c.With)
	if err != nil {
		return checklist.Observation{Err: err}
	}
	if p.Run == "" {
		p.Run = "Leak"
	}
	obs, all := runGoTest(ctx, env, p)
	var leaks []string
	for _, m := range leakLine.FindAllStringSubmatch(all, -1) {
		leaks = append(leaks, strings.TrimSpace(m[1]))
	}
	if len(leaks) > 0 {
		report := strings.Join(leaks, "\n")
		obs.Evidence.Stdout = report + "\n\n" + obs.Evidence.Stdout
		if !obs.Passed && obs.Err == nil {
			counts := obs.Message
			if i := strings.Index(counts, "; "); i >= 0 {
				counts = counts[:i]
			}
			obs.Message = fmt.Sprintf("%s (%d leakcheck line(s); tests: %s)", leaks[0], len(leaks), counts)
		}
	}
	if len(obs.Tests) == 0 && obs.Err == nil && obs.Passed {
		obs.Message = fmt.Sprintf("no leak test matched -run %q", p.Run)
	}
	return obs
}

// testEvent is one line of go test -json (test2json) output.
type testEvent struct {
	Action     string
	Package    string
	ImportPath string
	Test       string
	Elapsed    float64
	Output     string
}

type testKey struct{ pkg, test string }

// runGoTest runs go test -json and folds the events into an observation.
// It also returns the whole (bounded) text output for pattern searches.
func runGoTest(ctx context.Context, env *checklist.Env, p *gotestParams) (checklist.Observation, string) {
	pkgs := p.Packages
	if len(pkgs) == 0 {
		pkgs = env.Packages
	}
	argv := []string{"go", "test", "-json"}
	argv = append(argv, p.Flags...)
	if p.Run != "" {
		argv = append(argv, "-run", p.Run)
	}
	if p.Skip != "" {
		argv = append(argv, "-skip", p.Skip)
	}
	argv = append(argv, pkgs...)

	pr, pw := io.Pipe()
	type folded struct {
		tests   []checklist.TestResult
		failed  []string
		pkgOK   []string
		pkgFail []string
		all     string
	}
	done := make(chan folded, 1)
	limit := env.EvidenceLimit
	go func() {
		var f folded
		outputs := map[testKey]*proc.Buffer{}
		running := map[testKey]bool{}
		pkgOut := map[string]*proc.Buffer{}
		all := proc.NewBuffer(4 * max(limit, 1024))
		buf := func(m map[testKey]*proc.Buffer, k testKey) *proc.Buffer {
			b := m[k]
			if b == nil {
				b = proc.NewBuffer(max(limit/4, 512))
				m[k] = b
			}
			return b
		}
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			var ev testEvent
			if json.Unmarshal(sc.Bytes(), &ev) != nil {
				// Not an event (go command diagnostics): keep as output.
				all.Write(append(sc.Bytes(), '\n'))
				continue
			}
			switch {
			case ev.Action == "build-output":
				all.Write([]byte(ev.Output))
				b := pkgOut[ev.ImportPath]
				if b == nil {
					b = proc.NewBuffer(max(limit/4, 512))
					pkgOut[ev.ImportPath] = b
				}
				b.Write([]byte(ev.Output))
			case ev.Action == "output":
				all.Write([]byte(ev.Output))
				if ev.Test != "" {
					buf(outputs, testKey{ev.Package, ev.Test}).Write([]byte(ev.Output))
				} else {
					b := pkgOut[ev.Package]
					if b == nil {
						b = proc.NewBuffer(max(limit/4, 512))
						pkgOut[ev.Package] = b
					}
					b.Write([]byte(ev.Output))
				}
			case ev.Test != "" && ev.Action == "run":
				running[testKey{ev.Package, ev.Test}] = true
			case ev.Test != "" && (ev.Action == "pass" || ev.Action == "fail" || ev.Action == "skip"):
				delete(running, testKey{ev.Package, ev.Test})
				tr := checklist.TestResult{Package: ev.Package, Test: ev.Test, Outcome: ev.Action, Elapsed: ev.Elapsed}
				if ev.Action == "fail" {
					tr.Output = buf(outputs, testKey{ev.Package, ev.Test}).String()
					f.failed = append(f.failed, ev.Package+"."+ev.Test)
				}
				f.tests = append(f.tests, tr)
			case ev.Test == "" && ev.Action == "pass":
				f.pkgOK = append(f.pkgOK, fmt.Sprintf("ok   %s %.2fs", ev.Package, ev.Elapsed))
			case ev.Test == "" && ev.Action == "skip":
				f.pkgOK = append(f.pkgOK, fmt.Sprintf("?    %s [no test files]", ev.Package))
			case ev.Test == "" && ev.Action == "fail":
				// A test binary that died (a fatal error, a signal) leaves
				// its running tests without a result: they failed.
				var died []string
				for k := range running {
					if k.pkg == ev.Package {
						died = append(died, k.test)
					}
				}
				sort.Strings(died)
				for _, name := range died {
					delete(running, testKey{ev.Package, name})
					f.tests = append(f.tests, checklist.TestResult{Package: ev.Package, Test: name, Outcome: "fail",
						Output: buf(outputs, testKey{ev.Package, name}).String()})
					f.failed = append(f.failed, ev.Package+"."+name)
				}
				out := ""
				if b := pkgOut[ev.Package]; b != nil {
					out = b.String()
				}
				f.pkgFail = append(f.pkgFail, fmt.Sprintf("FAIL %s\n%s", ev.Package, indent(out)))
			}
		}
		_, _ = io.Copy(io.Discard, pr)
		f.all = all.String()
		done <- f
	}()
	out, err := proc.Run(ctx, proc.Cmd{
		Argv: argv, Dir: env.Dir, Env: mergeEnv(env.Environ, p.Env), Limit: limit, Stdout: pw,
	})
	pw.Close()
	f := <-done

	obs := checklist.Observation{Tests: f.tests, Evidence: checklist.Evidence{
		Command: envPrefix(p.Env) + shellQuote(argv), ExitCode: out.ExitCode, Stderr: out.Stderr,
	}}
	if err != nil {
		if ctx.Err() == nil {
			obs.Err = err
		}
		return obs, f.all
	}
	var pass, fail, skip int
	for _, t := range f.tests {
		switch t.Outcome {
		case "pass":
			pass++
		case "fail":
			fail++
		case "skip":
			skip++
		}
	}
	var ev strings.Builder
	sort.Strings(f.pkgOK)
	for _, l := range f.pkgOK {
		ev.WriteString(l + "\n")
	}
	for _, l := range f.pkgFail {
		ev.WriteString(l + "\n")
	}
	for _, t := range f.tests {
		if t.Outcome == "fail" && t.Output != "" {
			fmt.Fprintf(&ev, "--- FAIL %s.%s\n%s", t.Package, t.Test, indent(t.Output))
		}
	}
	b := proc.NewBuffer(limit)
	b.Write([]byte(ev.String()))
	obs.Evidence.Stdout = b.String()

	counts := fmt.Sprintf("%d passed, %d failed, %d skipped", pass, fail, skip)
	switch {
	case fail > 0:
		obs.Message = fmt.Sprintf("%s; first failure: %s%s", counts, f.failed[0], failureHint(f.tests))
	case len(f.pkgFail) > 0 || out.ExitCode != 0:
		obs.Message = fmt.Sprintf("%s; go test exited %d: %s", counts, out.ExitCode,
			firstLineOr(strings.TrimPrefix(firstOr(f.pkgFail), "FAIL "), lastLines(out.Stderr, 1)))
	case pass+skip < p.MinTests:
		obs.Message = fmt.Sprintf("%s; at least %d tests must run", counts, p.MinTests)
	default:
		obs.Passed = true
		obs.Message = counts
	}
	return obs, f.all
}

// failureHint picks the most telling line of the first failed test.
func failureHint(tests []checklist.TestResult) string {
	for _, t := range tests {
		if t.Outcome != "fail" {
			continue
		}
		for _, l := range strings.Split(t.Output, "\n") {
			l = strings.TrimSpace(l)
			if strings.HasPrefix(l, "fatal error:") || strings.HasPrefix(l, "panic:") ||
				strings.Contains(l, "leakcheck:") || strings.Contains(l, "WARNING: DATA RACE") {
				return ": " + l
			}
		}
		for _, l := range strings.Split(t.Output, "\n") {
			l = strings.TrimSpace(l)
			if l != "" && !strings.HasPrefix(l, "=== ") && !strings.HasPrefix(l, "--- ") {
				return ": " + l
			}
		}
	}
	return ""
}

func firstOr(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func indent(s string) string {
	if s == "" {
		return ""
	}
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "    " + l
	}
	return strings.Join(lines, "\n") + "\n"
}
