package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/mattn/go-isatty"

	"github.com/cgoguard/cgoguard/checklist"
	_ "github.com/cgoguard/cgoguard/checklist/kinds"
	"github.com/cgoguard/cgoguard/checklists"
	"github.com/cgoguard/cgoguard/internal/textesc"
	"github.com/cgoguard/cgoguard/report"
)

// Exit codes of "cgoguard check".
const (
	checkExitPassed      = 0   // every check passed, was waived or skipped for a passing reason
	checkExitFailed      = 1   // a check failed, timed out or could not run
	checkExitUsage       = 2   // bad flags or an invalid checklist
	checkExitOutput      = 3   // the run finished but an output could not be written
	checkExitInterrupted = 130 // cancelled (Ctrl-C or SIGTERM); no child is left running
)

func init() {
	register(&command{
		name:    "check",
		summary: "run executable reliability checklists (default: the shipped cgo checklist)",
		run:     runCheck,
	})
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

const checkUsage = `Usage: cgoguard check [-f FILE]... [-o FORMAT=PATH]... [--env NAME] [flags] [packages]

Runs every check of the checklists and reports what each saw. Packages
(default ./...) are what vet, gotest, leak and file checks act on; they are
also ${PACKAGES} in the checklist. Without -f the shipped checklist
checklists/cgo-reliability.yaml (embedded in the binary) runs.

Formats for -o: %s. PATH "-" is standard output;
without an -o to "-" the text report goes to standard output. Progress
lines go to standard error.

Exit codes: 0 passed, 1 a check failed, timed out or could not run,
2 usage or checklist error, 3 an output could not be written,
130 interrupted.

Flags:
`

func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var files, outputs, vars multiFlag
	fs.Var(&files, "f", "checklist `FILE` (repeatable; default: the shipped checklist)")
	fs.Var(&outputs, "o", "write a report as `FORMAT=PATH` (repeatable)")
	fs.Var(&vars, "var", "set a checklist variable, `NAME=VALUE` (repeatable; wins over vars:)")
	env := fs.String("env", "", "use the variables of environment `NAME` declared under vars:")
	parallel := fs.Int("j", 2, "run at most `N` checks at once")
	vetCmd := fs.String("vet-command", "", "`COMMAND` that provides the vet subcommand (default: this executable)")
	quiet := fs.Bool("q", false, "no progress lines")
	list := fs.Bool("list", false, "print the checks and exit without running them")
	colorFlag := fs.String("color", "auto", "colour the text report: auto (on a terminal), always or never")
	upload := addUploadFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, checkUsage, strings.Join(report.Names(), ", "))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return checkExitUsage
	}
	if *parallel < 1 {
		fmt.Fprintln(stderr, "cgoguard check: -j must be at least 1")
		return checkExitUsage
	}
	if err := upload.validate(); err != nil {
		fmt.Fprintf(stderr, "cgoguard check: %v\n", err)
		return checkExitUsage
	}
	pkgs := fs.Args()
	if len(pkgs) == 0 {
		pkgs = []string{"./..."}
	}
	var outs []report.Output
	textToStdout := true
	for _, o := range outputs {
		out, err := report.ParseOutput(o)
		if err != nil {
			fmt.Fprintf(stderr, "cgoguard check: -o: %v\n", err)
			return checkExitUsage
		}
		if out.ToStdout() {
			textToStdout = false
		}
		outs = append(outs, out)
	}
	opts := checklist.LoadOptions{Env: *env, Vars: map[string]string{"PACKAGES": shellJoin(pkgs)}}
	for _, v := range vars {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			fmt.Fprintf(stderr, "cgoguard check: -var %q is not NAME=VALUE\n", v)
			return checkExitUsage
		}
		opts.Vars[k] = val
	}
	var lists []*checklist.Checklist
	if len(files) == 0 {
		cl, err := upload.fromHub.load(checklists.DefaultName, checklists.Default, opts, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "cgoguard check: %s\n", textesc.String(err.Error()))
			return checkExitUsage
		}
		lists = append(lists, cl)
	}
	for _, f := range files {
		cl, err := checklist.LoadFile(f, opts)
		if err != nil {
			fmt.Fprintf(stderr, "cgoguard check: %s\n", textesc.String(err.Error()))
			return checkExitUsage
		}
		lists = append(lists, cl)
	}
	cl, err := checklist.Merge(lists...)
	if err != nil {
		fmt.Fprintf(stderr, "cgoguard check: %s\n", textesc.String(err.Error()))
		return checkExitUsage
	}
	warnUnusedVars(stderr, vars, cl)
	color := false
	switch *colorFlag {
	case "always":
		color = true
	case "never":
	case "auto":
		color = isTerminal(stdout) && os.Getenv("NO_COLOR") == ""
	default:
		fmt.Fprintf(stderr, "cgoguard check: -color must be auto, always or never, not %q\n", *colorFlag)
		return checkExitUsage
	}
	if *list {
		for _, c := range cl.Checks {
			fmt.Fprintf(stdout, "%-12s %-8s %-7s %s\n", textesc.Line(c.ID), c.Severity.Or(), c.Kind, textesc.Line(c.Title))
		}
		return checkExitPassed
	}

	vet, err := vetCommand(*vetCmd)
	if err != nil {
		fmt.Fprintf(stderr, "cgoguard check: %v\n", err)
		return checkExitUsage
	}
	ropts := []checklist.Option{
		checklist.WithPackages(pkgs...),
		checklist.WithParallelism(*parallel),
		checklist.WithVetCommand(vet...),
		checklist.WithEnvName(*env),
	}
	if !*quiet {
		p := report.NewProgress(stderr, color && isTerminal(stderr))
		ropts = append(ropts, checklist.WithProgress(p.Event))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := checklist.NewRunner(ropts...).Run(ctx, cl)
	if err != nil {
		fmt.Fprintf(stderr, "cgoguard check: %s\n", textesc.String(err.Error()))
		return checkExitUsage
	}
	stop()

	code := checkExitPassed
	if textToStdout {
		if err := (report.Text{Color: color, Outputs: outs}).Write(stdout, res); err != nil {
			fmt.Fprintf(stderr, "cgoguard check: text report: %v\n", err)
			code = checkExitOutput
		}
	}
	for _, o := range outs {
		if err := o.Write(res, stdout); err != nil {
			fmt.Fprintf(stderr, "cgoguard check: %s report: %v\n", o.Format, err)
			code = checkExitOutput
		}
	}
	upload.send(res, stderr)
	switch {
	case res.Interrupted:
		return checkExitInterrupted
	case !res.Passed():
		return checkExitFailed
	}
	return code
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// shellJoin quotes packages for ${PACKAGES} in shell lines.
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a != "" && !strings.ContainsAny(a, " \t\n'\"\\$`|&;<>()*?[]{}!#~") {
			out[i] = a
			continue
		}
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(out, " ")
}
