package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"

	"github.com/cgoguard/cgoguard/chaos"
	"github.com/cgoguard/cgoguard/hub/client"
	"github.com/cgoguard/cgoguard/report"
)

// Exit codes of "cgoguard chaos".
const (
	chaosExitPassed      = 0   // every experiment held or recovered; cleanup left nothing
	chaosExitFailed      = 1   // an experiment missed its SLA or was aborted; cleanup left faults
	chaosExitUsage       = 2   // bad flags or an invalid experiment file
	chaosExitOutput      = 3   // the run finished but a report could not be written
	chaosExitInterrupted = 130 // interrupted; the fault in place was removed
)

func init() {
	register(&command{
		name:    "chaos",
		summary: "run red-blue experiments: failpoints and faults, an SLO watch, a recovery clock",
		run:     runChaos,
	})
}

const chaosUsage = `Usage:
  cgoguard chaos run [flags] FILE...    run the experiments of the files, in order
  cgoguard chaos cleanup [flags]        revert what a killed runner left (the revert journal)

Flags may come before or after the files; "--" ends the flags (a file
after it may start with '-').

Each experiment checks its steady state, injects its fault (a failpoint set
through the process's admin endpoint, or an inject command), watches the
SLO while the fault is in place, removes it, runs the remediation if the
SLO was breached, and polls until consecutive_ok healthy polls in a row or
the recovery SLA passes. Verdicts: held, recovered, sla_missed, aborted.

The admin token is read from the variable the target names (default
CGOGUARD_ADMIN_TOKEN). Faults are written to the revert journal before they
are injected; SIGINT and SIGTERM remove the fault in place.

--report-to URL sends the run (as a checklist run, one check per experiment)
to the cgoguard hub, token from $CGOGUARD_HUB_TOKEN; a failed upload is kept
in the spool and never changes the exit code.

Exit codes: 0 every experiment held or recovered (cleanup: nothing left),
1 an experiment missed its SLA or was aborted (cleanup: faults remain),
2 usage or experiment file error, 3 a report could not be written,
130 interrupted.
`

func runChaos(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, chaosUsage)
		if len(args) == 0 {
			return chaosExitUsage
		}
		return chaosExitPassed
	}
	switch args[0] {
	case "run":
		return runChaosRun(args[1:], stdout, stderr)
	case "cleanup":
		return runChaosCleanup(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "cgoguard chaos: unknown subcommand %q (run, cleanup)\n\n%s", args[0], chaosUsage)
	return chaosExitUsage
}

func runChaosRun(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("chaos run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var outputs, vars multiFlag
	fs.Var(&outputs, "o", "write a report as `FORMAT=PATH` (repeatable; formats "+report.FormatList(chaos.ReportFormats)+"; PATH - is standard output)")
	fs.Var(&vars, "var", "set a variable, `NAME=VALUE` (repeatable; wins over vars: and the environment)")
	journal := fs.String("journal", "", "revert journal `FILE` (default $"+chaos.JournalEnvVar+" or ~/.local/state/cgoguard/chaos-journal.jsonl)")
	only := fs.String("run", "", "run only the experiments whose name matches `REGEXP`")
	list := fs.Bool("list", false, "print the experiments and exit without running them")
	quiet := fs.Bool("q", false, "no progress lines")
	upload := addUploadFlags(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, chaosUsage+"\nFlags of run:\n")
		fs.PrintDefaults()
	}
	files, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return chaosExitPassed
		}
		return chaosExitUsage
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "cgoguard chaos run: name at least one experiment file (e.g. chaos/experiments/service.yaml)")
		return chaosExitUsage
	}
	if err := upload.validate(); err != nil {
		fmt.Fprintf(stderr, "cgoguard chaos run: %v\n", err)
		return chaosExitUsage
	}
	varMap := map[string]string{}
	for _, v := range vars {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			fmt.Fprintf(stderr, "cgoguard chaos run: -var %q is not NAME=VALUE\n", v)
			return chaosExitUsage
		}
		varMap[k] = val
	}
	type out struct{ format, path string }
	var outs []out
	textToStdout := true
	for _, o := range outputs {
		parsed, err := report.ParseOutputIn(o, chaos.ReportFormats)
		if err != nil {
			fmt.Fprintf(stderr, "cgoguard chaos run: -o: %v\n", err)
			return chaosExitUsage
		}
		if parsed.Path == "-" {
			textToStdout = false
		}
		outs = append(outs, out{parsed.Format, parsed.Path})
	}
	var sel *regexp.Regexp
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			fmt.Fprintf(stderr, "cgoguard chaos run: -run: %v\n", err)
			return chaosExitUsage
		}
		sel = re
	}
	var loaded []*chaos.File
	n := 0
	for _, path := range files {
		f, err := chaos.LoadFile(path, varMap)
		if err != nil {
			fmt.Fprintf(stderr, "cgoguard chaos run: %v\n", err)
			return chaosExitUsage
		}
		if sel != nil {
			kept := f.Experiments[:0]
			for _, e := range f.Experiments {
				if sel.MatchString(e.Name) {
					kept = append(kept, e)
				}
			}
			f.Experiments = kept
		}
		n += len(f.Experiments)
		loaded = append(loaded, f)
	}
	if n == 0 {
		fmt.Fprintf(stderr, "cgoguard chaos run: no experiment matches -run %q\n", *only)
		return chaosExitUsage
	}
	if *list {
		for _, f := range loaded {
			for _, e := range f.Experiments {
				fault := e.Spec()
				if e.IsCommand() {
					fault = e.Inject
				}
				fmt.Fprintf(stdout, "%-24s %-8s %-10s %s\n", e.Name, e.FaultType, e.RecoverySLA, fault)
			}
		}
		return chaosExitPassed
	}

	opts := []chaos.RunOption{}
	if *journal != "" {
		opts = append(opts, chaos.WithJournal(*journal))
	}
	if !*quiet {
		opts = append(opts, chaos.WithProgress(func(e chaos.Event) {
			fmt.Fprintf(stderr, "cgoguard chaos: [%d/%d] %s: %s\n", e.Index, e.Total, e.Experiment, e.Message)
		}))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, runErr := chaos.NewRunner(opts...).Run(ctx, loaded...)
	stop()
	if runErr != nil {
		fmt.Fprintf(stderr, "cgoguard chaos run: %v\n", runErr)
	}

	// The reports. res.Checklist() is the same run as a checklist run
	// (one check per experiment): the "checklist" format, and what
	// --report-to sends to the hub.
	code := chaosExitPassed
	if textToStdout {
		if err := chaos.WriteReport(stdout, "text", res); err != nil {
			fmt.Fprintf(stderr, "cgoguard chaos run: text report: %v\n", err)
			code = chaosExitOutput
		}
	}
	for _, o := range outs {
		if err := writeChaosReport(o.format, o.path, res, stdout); err != nil {
			fmt.Fprintf(stderr, "cgoguard chaos run: %s report: %v\n", o.format, err)
			code = chaosExitOutput
		}
	}
	// An upload never changes the exit code; what cannot be sent is
	// spooled for the next upload.
	if upload.reportTo != "" {
		if up, err := client.FromResult(res.Checklist(), runContext(upload.repo, upload.branch, upload.commit)); err != nil {
			fmt.Fprintf(stderr, "cgoguard chaos run: upload: %v\n", err)
		} else {
			pushOne(upload.reportTo, up, stderr, "cgoguard chaos run")
		}
	}
	switch {
	case res.Interrupted:
		return chaosExitInterrupted
	case runErr != nil, !res.Passed():
		return chaosExitFailed
	}
	return code
}

// parseInterleaved parses args with fs, where flags may come before, between
// and after the arguments (the flag package stops at the first argument):
// "chaos run a.yaml -o json=out.json" honours -o. "--" ends the flags: what
// follows is arguments, even when it starts with '-'. A flag's value is
// never taken for an argument or for "--" ("-var --" sets -var to "--").
// It returns the arguments in order.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var flags, positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			positional = append(positional, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			continue // fs.Parse reports it (or -h/-help)
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		if i+1 < len(args) { // the flag's value, whatever it looks like
			i++
			flags = append(flags, args[i])
		}
	}
	// Every element of flags is a flag or its value, so Parse reads them
	// all (a malformed or unknown flag is its error).
	if err := fs.Parse(flags); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 { // not expected; keep what Parse left as arguments
		positional = append(fs.Args(), positional...)
	}
	return positional, nil
}

// writeChaosReport writes one report, replacing a file atomically.
func writeChaosReport(format, path string, res *chaos.Result, stdout io.Writer) error {
	if path == "-" {
		return chaos.WriteReport(stdout, format, res)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := chaos.WriteReport(tmp, format, res); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func runChaosCleanup(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("chaos cleanup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	journal := fs.String("journal", "", "revert journal `FILE` (default $"+chaos.JournalEnvVar+" or ~/.local/state/cgoguard/chaos-journal.jsonl)")
	force := fs.Bool("force", false, "also revert the faults of runners that are still running")
	fs.Usage = func() {
		fmt.Fprint(stderr, chaosUsage+"\nFlags of cleanup:\n")
		fs.PrintDefaults()
	}
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return chaosExitPassed
		}
		return chaosExitUsage
	}
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "cgoguard chaos cleanup: unexpected arguments %q\n", rest)
		return chaosExitUsage
	}
	var opts []chaos.RunOption
	if *journal != "" {
		opts = append(opts, chaos.WithJournal(*journal))
	}
	r := chaos.NewRunner(opts...)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	items, err := r.Cleanup(ctx, *force)
	left := 0
	for _, it := range items {
		e := it.Entry
		what := fmt.Sprintf("failpoint %s at %s", e.Target, e.Admin)
		if e.Kind == "command" {
			what = fmt.Sprintf("command fault (revert: %s; id %q)", e.Revert, e.FaultID)
		}
		fmt.Fprintf(stdout, "%-8s %s, experiment %s, injected %s by pid %d\n", it.Outcome, what, e.Experiment, e.Time.Format("2006-01-02 15:04:05"), e.PID)
		if it.Err != "" {
			fmt.Fprintf(stdout, "         %s\n", it.Err)
		}
		if it.Outcome == "failed" || it.Outcome == "skipped" {
			left++
		}
	}
	if len(items) == 0 && err == nil {
		fmt.Fprintf(stdout, "nothing to clean up in %s\n", r.JournalPath())
	}
	if err != nil {
		fmt.Fprintf(stderr, "cgoguard chaos cleanup: %v\n", err)
		return chaosExitFailed
	}
	if left > 0 {
		return chaosExitFailed
	}
	return chaosExitPassed
}
