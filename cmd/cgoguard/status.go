package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/cgoguard/cgoguard/internal/textesc"
	"github.com/cgoguard/cgoguard/observe"
)

func init() {
	register(&command{
		name:    "status",
		summary: "show the module states and counters that running processes publish",
		run:     runStatus,
	})
}

// runStatus implements "cgoguard status [--pid N] [--dir DIR] [--all] [--json]".
// Exit codes: 0 printed, 1 the process has no status file or it is stale
// (--pid), 2 usage.
func runStatus(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	pid := fs.Int("pid", 0, "show only the process with this `pid`")
	dir := fs.String("dir", observe.DefaultStatusDir, "`directory` of the status files")
	all := fs.Bool("all", false, "also show stale files left by processes that died")
	asJSON := fs.Bool("json", false, "print JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: cgoguard status [--pid N] [--dir DIR] [--all] [--json]")
		fmt.Fprintln(stderr, "\nPrints the status files (cgoguard-<pid>.status) that processes running")
		fmt.Fprintln(stderr, "observe.StartStatus publish: each module's state and call counters.")
		fmt.Fprintln(stderr, "Without --pid, every live process is shown.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "cgoguard status: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	if *pid < 0 {
		fmt.Fprintf(stderr, "cgoguard status: --pid %d: want a process id > 0\n", *pid)
		return 2
	}
	var list []*observe.Status
	code := 0
	if *pid > 0 {
		s, err := observe.ReadStatus(*dir, *pid)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		list = []*observe.Status{s}
		if s.Stale {
			code = 1
		}
	} else {
		all0, err := observe.ListStatus(*dir)
		if err != nil {
			fmt.Fprintln(stderr, err)
			code = 1
		}
		stale := 0
		for _, s := range all0 {
			if s.Stale && !*all {
				stale++
				continue
			}
			list = append(list, s)
		}
		if !*asJSON {
			defer func() {
				if stale > 0 {
					fmt.Fprintf(stdout, "(%d stale status file(s) of processes that died; --all shows them)\n", stale)
				}
			}()
			if len(list) == 0 {
				fmt.Fprintf(stdout, "no running process publishes a status in %s\n", *dir)
				return code
			}
		}
	}
	if *asJSON {
		if list == nil {
			list = []*observe.Status{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(list); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return code
	}
	for i, s := range list {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		printStatus(stdout, s)
	}
	return code
}

func printStatus(w io.Writer, s *observe.Status) {
	state := "running"
	if s.Stale {
		state = "STALE: the process is gone"
	}
	fmt.Fprintf(w, "pid %d (%s)\n", s.PID, state)
	fmt.Fprintf(w, "  file     %s\n", textesc.Line(s.Path))
	fmt.Fprintf(w, "  started  %s\n", s.Started.UTC().Format(time.RFC3339Nano))
	fmt.Fprintf(w, "  updated  %s (every %v)\n", s.Updated.UTC().Format(time.RFC3339Nano), s.Interval)
	if len(s.Modules) == 0 {
		fmt.Fprintln(w, "  no modules")
	} else {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  MODULE\tSTATE\tOK\tERRORS\tCRASHES\tTIMEOUTS\tREJECTED\tINFLIGHT\tABANDONED")
		for _, m := range s.Modules {
			// Another process wrote the name: escape what a terminal acts on.
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", textesc.Line(m.Name), textesc.Line(m.StateName),
				m.OK, m.Errors, m.Crashes, m.Timeouts, m.Rejected, m.InFlight, m.Abandoned)
		}
		tw.Flush()
	}
	if s.Dropped > 0 {
		fmt.Fprintf(w, "  (%s more modules did not fit in the file)\n", strconv.Itoa(s.Dropped))
	}
}
