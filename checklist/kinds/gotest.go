package kinds

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync/atomic"

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
	obs, _ := goTest(ctx, env, c, p)
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
	obs, leaks := goTest(ctx, env, c, p)
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

// goTest makes one attempt of a gotest or leak check and returns its
// observation and the leakcheck lines of its tests.
//
// Checks that build the same test binaries (same packages, flags,
// environment and -skip) share one go test run on their first attempt,
// with the union of their -run patterns: each test binary is built, linked
// and started once instead of once per check, and each check keeps only
// its own tests. The shared run takes the timeout of the check that
// starts it. A retry runs the check's own go test.
func goTest(ctx context.Context, env *checklist.Env, c *checklist.Check, p *gotestParams) (checklist.Observation, []string) {
	union, others := sharedRun(env, c, p)
	if len(others) == 0 || !firstAttempt(env, c) {
		return execGoTest(ctx, env, p).view(env, p, nil)
	}
	q := *p
	q.Run = union
	timeout := c.Timeout()
	v, err := env.Memo(ctx, "gotest\x00"+shareKey(env, p)+"\x00"+union, func(runCtx context.Context) any {
		rctx, cancel := context.WithTimeout(runCtx, timeout)
		defer cancel()
		return execGoTest(rctx, env, &q)
	})
	if err != nil {
		return checklist.Observation{Message: "the shared go test run did not finish"}, nil
	}
	own := regexp.MustCompile(p.Run) // validated by parseGotest
	obs, leaks := v.(*goTestRun).view(env, p, own)
	if obs.Err == nil {
		obs.Message += fmt.Sprintf(" (one go test run shared with %s)", strings.Join(others, ", "))
	}
	return obs, leaks
}

// shareKey identifies what must be equal for checks to share a go test run.
func shareKey(env *checklist.Env, p *gotestParams) string {
	pkgs := p.Packages
	if len(pkgs) == 0 {
		pkgs = env.Packages
	}
	keys := make([]string, 0, len(p.Env))
	for k := range p.Env {
		keys = append(keys, k+"="+p.Env[k])
	}
	sort.Strings(keys)
	return strings.Join([]string{strings.Join(pkgs, " "), strings.Join(p.Flags, " "), strings.Join(keys, " "), p.Skip}, "\x00")
}

// sharedRun returns the union -run pattern of c's sharing group and the
// ids of the other checks in it (none when c runs alone). Checks share
// when their share keys are equal and their -run patterns hold no '/'
// (go test splits -run at slashes into subtest levels, so an alternation
// of such patterns would not mean their union).
func sharedRun(env *checklist.Env, c *checklist.Check, p *gotestParams) (string, []string) {
	if env.Checklist == nil || strings.Contains(p.Run, "/") {
		return "", nil
	}
	key := shareKey(env, p)
	var pats, others []string
	all := false
	for i := range env.Checklist.Checks {
		o := &env.Checklist.Checks[i]
		if o.Kind != "gotest" && o.Kind != "leak" {
			continue
		}
		op, err := parseGotest(o.With)
		if err != nil {
			continue
		}
		if o.Kind == "leak" && op.Run == "" {
			op.Run = "Leak"
		}
		if strings.Contains(op.Run, "/") || shareKey(env, op) != key {
			continue
		}
		if o.ID != c.ID {
			others = append(others, o.ID)
		}
		if op.Run == "" {
			all = true
		}
		if !slices.Contains(pats, op.Run) {
			pats = append(pats, op.Run)
		}
	}
	if all {
		return "", others
	}
	sort.Strings(pats)
	if len(pats) == 1 {
		return pats[0], others
	}
	return "(?:" + strings.Join(pats, ")|(?:") + ")", others
}

// firstAttempt reports whether this is c's first attempt in the run.
func firstAttempt(env *checklist.Env, c *checklist.Check) bool {
	v, _ := env.Memo(context.Background(), "attempts\x00"+c.ID, func(context.Context) any { return new(atomic.Int32) })
	return v.(*atomic.Int32).Add(1) == 1
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

// maxLeakLines bounds the leakcheck lines kept per test.
const maxLeakLines = 64

// goTestRun is one go test -json run, folded: per-test results and
// outputs, per-package results, leakcheck lines per test.
type goTestRun struct {
	argv    []string
	env     map[string]string
	out     proc.Output
	err     error
	tests   []checklist.TestResult
	died    map[testKey]bool     // tests whose binary died while they ran
	pkgOK   map[string]string    // "ok   pkg 0.12s" or "?    pkg [no test files]"
	pkgFail map[string]string    // the failed package's own output
	leaks   map[testKey][]string // leakcheck lines; test "" for the package's
}

// execGoTest runs go test -json with p and folds its events.
func execGoTest(ctx context.Context, env *checklist.Env, p *gotestParams) *goTestRun {
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
	r := &goTestRun{argv: argv, env: p.Env, died: map[testKey]bool{}, pkgOK: map[string]string{},
		pkgFail: map[string]string{}, leaks: map[testKey][]string{}}

	pr, pw := io.Pipe()
	done := make(chan struct{})
	limit := env.EvidenceLimit
	go func() {
		defer close(done)
		outputs := map[testKey]*proc.Buffer{}
		running := map[testKey]bool{}
		pkgOut := map[string]*proc.Buffer{}
		buf := func(k testKey) *proc.Buffer {
			b := outputs[k]
			if b == nil {
				b = proc.NewBuffer(max(limit/4, 512))
				outputs[k] = b
			}
			return b
		}
		pkgBuf := func(pkg string) *proc.Buffer {
			b := pkgOut[pkg]
			if b == nil {
				b = proc.NewBuffer(max(limit/4, 512))
				pkgOut[pkg] = b
			}
			return b
		}
		leak := func(k testKey, text string) {
			for _, m := range leakLine.FindAllStringSubmatch(text, -1) {
				if len(r.leaks[k]) < maxLeakLines {
					r.leaks[k] = append(r.leaks[k], strings.TrimSpace(m[1]))
				}
			}
		}
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			var ev testEvent
			if json.Unmarshal(sc.Bytes(), &ev) != nil {
				continue // not an event: go command diagnostics also reach stderr
			}
			switch {
			case ev.Action == "build-output":
				pkgBuf(ev.ImportPath).Write([]byte(ev.Output))
			case ev.Action == "output":
				if ev.Test != "" {
					k := testKey{ev.Package, ev.Test}
					buf(k).Write([]byte(ev.Output))
					leak(k, ev.Output)
				} else {
					pkgBuf(ev.Package).Write([]byte(ev.Output))
					leak(testKey{ev.Package, ""}, ev.Output)
				}
			case ev.Test != "" && ev.Action == "run":
				running[testKey{ev.Package, ev.Test}] = true
			case ev.Test != "" && (ev.Action == "pass" || ev.Action == "fail" || ev.Action == "skip"):
				k := testKey{ev.Package, ev.Test}
				delete(running, k)
				tr := checklist.TestResult{Package: ev.Package, Test: ev.Test, Outcome: ev.Action, Elapsed: ev.Elapsed}
				if ev.Action == "fail" {
					tr.Output = buf(k).String()
				}
				r.tests = append(r.tests, tr)
			case ev.Test == "" && ev.Action == "pass":
				r.pkgOK[ev.Package] = fmt.Sprintf("ok   %s %.2fs", ev.Package, ev.Elapsed)
			case ev.Test == "" && ev.Action == "skip":
				r.pkgOK[ev.Package] = fmt.Sprintf("?    %s [no test files]", ev.Package)
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
					k := testKey{ev.Package, name}
					delete(running, k)
					r.died[k] = true
					r.tests = append(r.tests, checklist.TestResult{Package: ev.Package, Test: name, Outcome: "fail", Output: buf(k).String()})
				}
				out := ""
				if b := pkgOut[ev.Package]; b != nil {
					out = b.String()
				}
				r.pkgFail[ev.Package] = out
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	r.out, r.err = proc.Run(ctx, proc.Cmd{
		Argv: argv, Dir: env.Dir, Env: mergeEnv(env.Environ, p.Env), Limit: limit, Stdout: pw,
	})
	pw.Close()
	<-done
	if r.err != nil && ctx.Err() != nil {
		r.err = fmt.Errorf("go test did not finish: %w", ctx.Err())
	}
	return r
}

// view is the observation of one check over the run: with own == nil the
// whole run is the check's; else only the tests whose top-level name own
// matches are. A package failure counts for the check unless it comes only
// from other checks' tests that failed normally (a test binary that died
// may have kept the check's own tests from running, so that counts).
func (r *goTestRun) view(env *checklist.Env, p *gotestParams, own *regexp.Regexp) (checklist.Observation, []string) {
	mine := func(test string) bool {
		if own == nil {
			return true
		}
		top, _, _ := strings.Cut(test, "/")
		return own.MatchString(top)
	}
	obs := checklist.Observation{Evidence: checklist.Evidence{
		Command: envPrefix(r.env) + shellQuote(r.argv), ExitCode: r.out.ExitCode, Stderr: r.out.Stderr,
	}}
	var leaks []string
	failedIn := map[string]bool{} // packages where another check's test failed
	for _, t := range r.tests {
		if !mine(t.Test) {
			if t.Outcome == "fail" && !r.died[testKey{t.Package, t.Test}] {
				failedIn[t.Package] = true
			}
			continue
		}
		obs.Tests = append(obs.Tests, t)
		leaks = append(leaks, r.leaks[testKey{t.Package, t.Test}]...)
	}
	if r.err != nil {
		if !errors.Is(r.err, context.Canceled) || own != nil {
			obs.Err = r.err
		}
		return obs, leaks
	}
	var pass, fail, skip int
	var failed []string
	for _, t := range obs.Tests {
		switch t.Outcome {
		case "pass":
			pass++
		case "fail":
			fail++
			failed = append(failed, t.Package+"."+t.Test)
		case "skip":
			skip++
		}
	}
	var okLines, failLines []string
	pkgs := map[string]bool{}
	for pkg := range r.pkgOK {
		pkgs[pkg] = true
	}
	for pkg := range r.pkgFail {
		pkgs[pkg] = true
	}
	for pkg := range pkgs {
		leaks = append(leaks, r.leaks[testKey{pkg, ""}]...)
		if ok, isOK := r.pkgOK[pkg]; isOK {
			okLines = append(okLines, ok)
			continue
		}
		ownFailed := false
		for _, t := range obs.Tests {
			ownFailed = ownFailed || (t.Package == pkg && t.Outcome == "fail")
		}
		if failedIn[pkg] && !ownFailed {
			okLines = append(okLines, fmt.Sprintf("ok   %s (this check's tests; other checks' tests failed)", pkg))
			continue
		}
		failLines = append(failLines, fmt.Sprintf("FAIL %s\n%s", pkg, indent(r.pkgFail[pkg])))
	}
	sort.Strings(okLines)
	sort.Strings(failLines)
	var ev strings.Builder
	for _, l := range okLines {
		ev.WriteString(l + "\n")
	}
	for _, l := range failLines {
		ev.WriteString(l + "\n")
	}
	for _, t := range obs.Tests {
		if t.Outcome == "fail" && t.Output != "" {
			fmt.Fprintf(&ev, "--- FAIL %s.%s\n%s", t.Package, t.Test, indent(t.Output))
		}
	}
	b := proc.NewBuffer(env.EvidenceLimit)
	b.Write([]byte(ev.String()))
	obs.Evidence.Stdout = b.String()

	// A go command that failed without any package result (a bad flag, a
	// pattern matching nothing) fails every check of the run.
	exitedAlone := r.out.ExitCode != 0 && len(r.pkgFail) == 0 && len(failedIn) == 0 && fail == 0
	counts := fmt.Sprintf("%d passed, %d failed, %d skipped", pass, fail, skip)
	switch {
	case fail > 0:
		obs.Message = fmt.Sprintf("%s; first failure: %s%s", counts, failed[0], failureHint(obs.Tests))
	case len(failLines) > 0 || exitedAlone:
		why := lastLines(r.out.Stderr, 1)
		if len(failLines) > 0 {
			why = firstLineOr(strings.TrimPrefix(failLines[0], "FAIL "), why)
		}
		obs.Message = fmt.Sprintf("%s; go test exited %d: %s", counts, r.out.ExitCode, why)
	case pass+skip < p.MinTests:
		obs.Message = fmt.Sprintf("%s; at least %d tests must run", counts, p.MinTests)
	default:
		obs.Passed = true
		obs.Message = counts
	}
	return obs, leaks
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
