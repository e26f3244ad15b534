package kinds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/checklist/internal/proc"
)

// vetParams are the `with` keys of a vet check.
type vetParams struct {
	// Rules are the analyzer rule ids (CG001...) the check is about; empty
	// means every rule.
	Rules []string `yaml:"rules"`
	// Packages override the run's packages.
	Packages []string `yaml:"packages"`
}

var ruleID = regexp.MustCompile(`^CG\d{3}$`)

func parseVet(with map[string]any) (*vetParams, error) {
	var p vetParams
	if err := decode(with, &p); err != nil {
		return nil, err
	}
	for i, r := range p.Rules {
		if !ruleID.MatchString(r) {
			return nil, fieldErr(fmt.Sprintf("rules[%d]", i), "%q is not a rule id like CG013", r)
		}
	}
	return &p, nil
}

type vetKind struct{}

func (vetKind) Validate(with map[string]any) error {
	_, err := parseVet(with)
	return err
}

// vetReport is the JSON contract of "cgoguard vet -format json".
type vetReport struct {
	Findings []checklist.Finding `json:"findings"`
	Errors   []string            `json:"errors"`
}

// vetRun is one shared vet invocation.
type vetRun struct {
	command string
	out     proc.Output
	report  *vetReport
	err     error
}

func (vetKind) Run(ctx context.Context, env *checklist.Env, c *checklist.Check) checklist.Observation {
	p, err := parseVet(c.With)
	if err != nil {
		return checklist.Observation{Err: err}
	}
	pkgs := p.Packages
	if len(pkgs) == 0 {
		pkgs = env.Packages
	}
	// All vet checks over the same packages share one vet process, run with
	// the union of their rules: loading and type-checking the packages is
	// most of its cost.
	rules := unionRules(env.Checklist, pkgs, env.Packages)
	argv := append(append([]string{}, env.VetCommand...), "vet", "-format", "json")
	if len(rules) > 0 {
		argv = append(argv, "-rules", strings.Join(rules, ","))
	}
	argv = append(argv, pkgs...)
	timeout := c.Timeout()
	v, err := env.Memo(ctx, "vet\x00"+strings.Join(argv, "\x00"), func(runCtx context.Context) any {
		rctx, cancel := context.WithTimeout(runCtx, timeout)
		defer cancel()
		return runVet(rctx, env, argv)
	})
	if err != nil {
		return checklist.Observation{Message: "vet did not finish"}
	}
	run := v.(*vetRun)
	obs := checklist.Observation{Evidence: checklist.Evidence{
		Command: run.command, ExitCode: run.out.ExitCode, Stderr: run.out.Stderr,
	}}
	if run.err != nil {
		obs.Err = run.err
		return obs
	}
	want := map[string]bool{}
	for _, r := range p.Rules {
		want[r] = true
	}
	wd, _ := os.Getwd()
	var lines []string
	open, first := 0, ""
	for _, f := range run.report.Findings {
		if len(want) > 0 && !want[f.Rule] {
			continue
		}
		f.File = relPath(wd, env.Dir, f.File)
		// The rule has its own field; vet's message starts with it too.
		f.Message = strings.TrimPrefix(f.Message, f.Rule+": ")
		obs.Findings = append(obs.Findings, f)
		line := fmt.Sprintf("%s:%d:%d: %s %s", f.File, f.Line, f.Column, f.Rule, f.Message)
		if f.Suppressed {
			line += " (suppressed: " + f.Justification + ")"
		} else {
			open++
			if first == "" {
				first = line
			}
		}
		lines = append(lines, line)
	}
	obs.Evidence.Stdout = strings.Join(lines, "\n")
	if n := len(lines) - open; n > 0 {
		obs.Message = fmt.Sprintf("%d suppressed finding(s); ", n)
	}
	if open == 0 {
		obs.Passed = true
		obs.Message += "no findings for " + ruleList(p.Rules)
		return obs
	}
	obs.Message += fmt.Sprintf("%d finding(s) for %s, first: %s", open, ruleList(p.Rules), first)
	return obs
}

func ruleList(rules []string) string {
	if len(rules) == 0 {
		return "all rules"
	}
	return strings.Join(rules, ",")
}

func runVet(ctx context.Context, env *checklist.Env, argv []string) *vetRun {
	run := &vetRun{command: shellQuote(displayVet(argv))}
	stdout := proc.NewBuffer(0) // the JSON must be whole to be parsed
	out, err := proc.Run(ctx, proc.Cmd{Argv: argv, Dir: env.Dir, Env: env.Environ, Limit: env.EvidenceLimit, Stdout: stdout})
	run.out = out
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("vet did not finish: %w (the shared vet run takes the timeout of the first vet check)", ctx.Err())
		}
		run.err = err
		return run
	}
	var rep vetReport
	if jerr := json.Unmarshal([]byte(stdout.String()), &rep); jerr != nil {
		run.err = fmt.Errorf("vet exited %d without a JSON report: %s", out.ExitCode, firstLineOr(out.Stderr, jerr.Error()))
		return run
	}
	run.report = &rep
	switch {
	case out.ExitCode == 2 || len(rep.Errors) > 0:
		msg := "vet reported errors"
		if len(rep.Errors) > 0 {
			msg += ": " + rep.Errors[0]
		}
		run.err = errors.New(msg)
	case out.ExitCode != 0 && out.ExitCode != 1:
		run.err = fmt.Errorf("vet exited %d: %s", out.ExitCode, firstLineOr(out.Stderr, "no message"))
	}
	return run
}

// displayVet shows the vet command as a person would type it: an executable
// in a temporary go-build directory (the one "go run" builds and removes)
// by its name.
func displayVet(argv []string) []string {
	if len(argv) == 0 || !strings.Contains(filepath.ToSlash(argv[0]), "/go-build") {
		return argv
	}
	return append([]string{filepath.Base(argv[0])}, argv[1:]...)
}

func firstLineOr(s, alt string) string {
	if l := firstLineOf(s); l != "" {
		return l
	}
	return alt
}

// relPath shows file relative to the working directory when under it.
func relPath(wd, dir, file string) string {
	if !filepath.IsAbs(file) {
		return file
	}
	base := wd
	if dir != "" {
		if filepath.IsAbs(dir) {
			base = dir
		} else {
			base = filepath.Join(wd, dir)
		}
	}
	if r, err := filepath.Rel(base, file); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return file
}

// unionRules returns the sorted union of the rules of every vet check of
// cl acting on pkgs, or nil when one of them wants every rule.
func unionRules(cl *checklist.Checklist, pkgs, runPkgs []string) []string {
	if cl == nil {
		return nil
	}
	set := map[string]bool{}
	key := strings.Join(pkgs, "\x00")
	for _, c := range cl.Checks {
		if c.Kind != "vet" {
			continue
		}
		p, err := parseVet(c.With)
		if err != nil {
			continue
		}
		cp := p.Packages
		if len(cp) == 0 {
			cp = runPkgs
		}
		if strings.Join(cp, "\x00") != key {
			continue
		}
		if len(p.Rules) == 0 {
			return nil
		}
		for _, r := range p.Rules {
			set[r] = true
		}
	}
	out := make([]string, 0, len(set))
	for r := range set {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}
