package kinds

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/checklist/internal/proc"
)

// commandParams are the `with` keys of a command check.
type commandParams struct {
	// Run is a shell line run with "sh -c"; exclusive with Argv.
	Run string `yaml:"run"`
	// Argv is the command and its arguments, run without a shell.
	Argv []string `yaml:"argv"`
	// ExitCode is the expected exit status (default 0).
	ExitCode *int `yaml:"exit_code"`
	// StdoutMatches and StderrMatches are patterns the streams must match.
	StdoutMatches string `yaml:"stdout_matches"`
	StderrMatches string `yaml:"stderr_matches"`
	// StdoutNotMatches and StderrNotMatches must not match.
	StdoutNotMatches string `yaml:"stdout_not_matches"`
	StderrNotMatches string `yaml:"stderr_not_matches"`
	// Env adds environment variables.
	Env map[string]string `yaml:"env"`
	// Dir is the working directory, relative to the run's.
	Dir string `yaml:"dir"`
}

func (p *commandParams) argv() []string {
	if p.Run != "" {
		return []string{"sh", "-c", p.Run}
	}
	return p.Argv
}

type commandKind struct{}

func parseCommand(with map[string]any) (*commandParams, error) {
	var p commandParams
	if err := decode(with, &p); err != nil {
		return nil, err
	}
	if (p.Run == "") == (len(p.Argv) == 0) {
		return nil, errors.New("exactly one of run or argv is required")
	}
	var errs []error
	if p.ExitCode != nil {
		if err := checklist.MustBeIn("exit_code", float64(*p.ExitCode), 0, 255); err != nil {
			errs = append(errs, err)
		}
	}
	for _, k := range []struct{ key, pat string }{
		{"stdout_matches", p.StdoutMatches}, {"stderr_matches", p.StderrMatches},
		{"stdout_not_matches", p.StdoutNotMatches}, {"stderr_not_matches", p.StderrNotMatches},
	} {
		if _, err := compile(k.key, k.pat); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &p, nil
}

func (commandKind) Validate(with map[string]any) error {
	_, err := parseCommand(with)
	return err
}

func (commandKind) Run(ctx context.Context, env *checklist.Env, c *checklist.Check) checklist.Observation {
	p, err := parseCommand(c.With)
	if err != nil {
		return checklist.Observation{Err: err}
	}
	argv := p.argv()
	// The patterns see the whole of each stream as it arrives; only the
	// evidence is bounded.
	stdout := newStreamCheck("stdout", env.EvidenceLimit, p.StdoutMatches, p.StdoutNotMatches)
	stderr := newStreamCheck("stderr", env.EvidenceLimit, p.StderrMatches, p.StderrNotMatches)
	out, err := proc.Run(ctx, proc.Cmd{
		Argv: argv, Dir: joinDir(env.Dir, p.Dir), Env: mergeEnv(env.Environ, p.Env), Limit: env.EvidenceLimit,
		Stdout: stdout, Stderr: stderr,
	})
	stdout.close()
	stderr.close()
	obs := checklist.Observation{Evidence: checklist.Evidence{
		Command: envPrefix(p.Env) + displayArgv(p), ExitCode: out.ExitCode, Stdout: stdout.keep.String(), Stderr: stderr.keep.String(),
	}}
	left := ""
	if out.LeftRunning {
		left = "; background processes it left were killed when it exited"
	}
	if err != nil {
		if ctx.Err() == nil {
			obs.Err = err
		}
		return obs
	}
	want := 0
	if p.ExitCode != nil {
		want = *p.ExitCode
	}
	var why []string
	if out.ExitCode != want {
		why = append(why, fmt.Sprintf("exit code %d, want %d", out.ExitCode, want))
	}
	why = append(why, stdout.problems()...)
	why = append(why, stderr.problems()...)
	if len(why) == 0 {
		obs.Passed = true
		obs.Message = fmt.Sprintf("exit code %d%s", out.ExitCode, left)
		return obs
	}
	obs.Message = strings.Join(why, "; ")
	if tail := lastLines(obs.Evidence.Stderr+"\n"+obs.Evidence.Stdout, 1); tail != "" && out.ExitCode != want {
		obs.Message += ": " + tail
	}
	obs.Message += left
	return obs
}

func displayArgv(p *commandParams) string {
	if p.Run != "" {
		return p.Run
	}
	return shellQuote(p.Argv)
}

func joinDir(base, dir string) string {
	switch {
	case dir == "":
		return base
	case base == "" || strings.HasPrefix(dir, "/"):
		return dir
	}
	return base + "/" + dir
}

func firstLineOf(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// lastLines returns the last n non-empty lines of s, joined by " | ".
func lastLines(s string, n int) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

func sortStrings(s []string) { sort.Strings(s) }
