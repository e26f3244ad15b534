package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cgoguard/cgoguard/probe"
	"github.com/cgoguard/cgoguard/report"
)

func init() {
	register(&command{
		name:    "probe",
		summary: "count and time the C calls of a running process with eBPF uprobes",
		run:     runProbe,
	})
}

// Exit codes of cgoguard probe.
const (
	probeExitOK       = 0
	probeExitFailed   = 1 // nothing matched, or an output could not be written
	probeExitUsage    = 2
	probeExitNoAttach = 4 // the probes could not be attached
)

const probeUsage = `Usage: cgoguard probe --pid PID [--module NAME=GLOB[,GLOB]]... [--func GLOB]...
                      [--duration D] [--listen ADDR] [-o FORMAT[=PATH]]... [--trace FILE]

Attaches uprobes and uretprobes to C functions of a running process (found
by ELF symbol in its executable and the shared libraries it has mapped)
and counts, per function and module, the calls, their latency histogram,
the calls that returned a negative int, and the threads they ran on.

Modules are the names the process publishes in its cgoguard status file
(observe.StartStatus): a call is labelled with the module of the guarded
call it runs in. --module NAME=GLOB labels the functions it matches with
NAME whatever calls them. Without --func and --module, the functions the
process's guarded calls run are probed as they are first seen.

A GLOB matches a symbol name (path.Match syntax); OBJECT:GLOB also matches
the object's base name ("libz.so*:inflate*"). Go functions are never probed.

The probes on the trampoline cost every guarded call about what a probed
function costs; --no-guard-probes leaves them off.

Output: a table refreshed every --interval on a terminal (the final table
otherwise, or at every interval with --batch); -o json=PATH and -o
text=PATH (or txt=PATH) write the final counts (PATH "-", or no =PATH,
is standard output, which then gets no table);
--listen serves Prometheus metrics on /metrics; --trace writes every call
as Chrome trace-event JSON (open it in Perfetto).

It stops at --duration, on SIGINT or SIGTERM, or when the process exits,
and detaches every probe. Needs root, or CAP_BPF, CAP_PERFMON and
CAP_SYS_PTRACE.

Exit codes: 0 done, 1 nothing matched or an output could not be written,
2 usage, 4 the probes could not be attached (permission, kernel support,
no such process).

Flags:
`

type probeOutput struct{ format, path string }

// probeFormats are the formats of cgoguard probe's -o; "txt" is accepted
// for "text" (report.CanonicalFormat).
var probeFormats = []string{"json", "text"}

func runProbe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var funcs, modules, outputs multiFlag
	pid := fs.Int("pid", 0, "`PID` of the process to probe (required)")
	fs.Var(&funcs, "func", "probe the C functions matching `GLOB` (repeatable)")
	fs.Var(&modules, "module", "probe the functions matching the globs as module NAME: `NAME=GLOB[,GLOB]` (repeatable)")
	noGuard := fs.Bool("no-guard-probes", false, "leave the cgoguard trampoline unprobed: guarded calls run at full speed, calls are labelled by --module only")
	guarded := fs.Bool("guarded", false, "also probe the functions the process's guarded calls run (the default without --func and --module)")
	duration := fs.Duration("duration", 0, "stop after `D` (default: until interrupted or the process exits)")
	interval := fs.Duration("interval", time.Second, "refresh the table every `D`")
	batch := fs.Bool("batch", false, "print the table at every interval even when standard output is not a terminal")
	listen := fs.String("listen", "", "serve Prometheus metrics on `ADDR`/metrics")
	fs.Var(&outputs, "o", "write the final counts as `FORMAT[=PATH]`, FORMAT "+report.FormatList(probeFormats)+" (repeatable; without PATH, standard output)")
	traceFile := fs.String("trace", "", "write every call as Chrome trace-event JSON to `FILE`")
	statusDir := fs.String("status-dir", "", "`DIR` of the process's cgoguard status file (default /dev/shm)")
	maxFuncs := fs.Int("max-functions", probe.DefaultMaxFunctions, "attach to at most `N` functions")
	quiet := fs.Bool("q", false, "no table on standard output and no progress lines")
	fs.Usage = func() {
		fmt.Fprint(stderr, probeUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return probeExitOK
		}
		return probeExitUsage
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "cgoguard probe: "+format+"\n", a...)
		return probeExitUsage
	}
	if fs.NArg() > 0 {
		return usage("unexpected argument %q", fs.Arg(0))
	}
	if *pid <= 0 {
		return usage("--pid is required: the id of a running process (> 0)")
	}
	if *duration < 0 || *interval <= 0 {
		return usage("--duration must not be negative and --interval must be positive")
	}
	opts := []probe.Option{probe.WithMaxFunctions(max(*maxFuncs, 1))}
	if *maxFuncs < 1 {
		return usage("--max-functions %d: want at least 1", *maxFuncs)
	}
	if len(funcs) > 0 {
		opts = append(opts, probe.WithFunctions(funcs...))
	}
	for _, m := range modules {
		name, globs, err := probe.ParseModule(m)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return probeExitUsage
		}
		opts = append(opts, probe.WithModule(name, globs...))
	}
	if *guarded {
		opts = append(opts, probe.WithGuardedFunctions(true))
	}
	if *noGuard {
		if *guarded || (len(funcs) == 0 && len(modules) == 0) {
			return usage("--no-guard-probes needs --func or --module, and excludes --guarded")
		}
		opts = append(opts, probe.WithoutGuardProbes())
	}
	if *statusDir != "" {
		opts = append(opts, probe.WithStatusDir(*statusDir))
	}
	var outs []probeOutput
	tableToStdout := !*quiet
	for _, o := range outputs {
		out, err := report.ParseOutputIn(o, probeFormats)
		if err != nil {
			return usage("-o: %v", err)
		}
		if out.ToStdout() {
			tableToStdout = false
		}
		outs = append(outs, probeOutput{out.Format, out.Path})
	}
	if *traceFile != "" {
		opts = append(opts, probe.WithTrace())
	}
	if err := probe.CheckOptions(opts...); err != nil {
		fmt.Fprintln(stderr, err)
		return probeExitUsage
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	progress := func(format string, a ...any) {
		if !*quiet {
			fmt.Fprintf(stderr, "cgoguard probe: "+format+"\n", a...)
		}
	}

	var clock *probe.ClockOffset
	if *traceFile != "" {
		c, err := probe.MeasureClock(100)
		if err == nil {
			clock = &c
		} else {
			progress("clock offset not measured: %v", err)
		}
	}
	p, err := probe.Open(*pid, opts...)
	if err != nil {
		fmt.Fprintln(stderr, err)
		var ae *probe.AttachError
		if errors.As(err, &ae) || errors.Is(err, probe.ErrNoProcess) {
			return probeExitNoAttach
		}
		return probeExitFailed
	}
	defer p.Close()
	if p.Guarded() && (*guarded || (len(funcs) == 0 && len(modules) == 0)) {
		progress("attached to %d functions of pid %d; the functions its guarded calls run are added when first called", len(p.Functions()), *pid)
	} else {
		progress("attached to %d functions of pid %d", len(p.Functions()), *pid)
	}

	var traceDone chan struct{}
	var tw *probe.TraceWriter
	if *traceFile != "" {
		f, err := os.Create(*traceFile)
		if err != nil {
			fmt.Fprintf(stderr, "cgoguard probe: --trace: %v\n", err)
			return probeExitFailed
		}
		tw, err = probe.NewTraceWriter(f, probe.TraceMeta{PID: *pid, Clock: clock})
		if err != nil {
			f.Close()
			fmt.Fprintf(stderr, "cgoguard probe: --trace: %v\n", err)
			return probeExitFailed
		}
		traceDone = make(chan struct{})
		go func() {
			defer close(traceDone)
			for {
				e, err := p.ReadEvent()
				if err != nil {
					return
				}
				if err := tw.Write(e); err != nil {
					progress("trace: %v", err)
					return
				}
			}
		}()
	}

	var srv *http.Server
	if *listen != "" {
		reg := prometheus.NewRegistry()
		if err := reg.Register(probe.Collector(p)); err != nil {
			fmt.Fprintf(stderr, "cgoguard probe: %v\n", err)
			return probeExitFailed
		}
		ln, err := net.Listen("tcp", *listen)
		if err != nil {
			fmt.Fprintf(stderr, "cgoguard probe: --listen: %v\n", err)
			return probeExitUsage
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		progress("listening on %s", ln.Addr())
	}

	live := tableToStdout && (*batch || isTerminal(stdout))
	var end <-chan time.Time
	if *duration > 0 {
		end = time.After(*duration)
	}
	tick := time.NewTicker(*interval)
	defer tick.Stop()
	alive := time.NewTicker(100 * time.Millisecond)
	defer alive.Stop()
	var prev *probe.Snapshot
	why := ""
loop:
	for {
		select {
		case <-ctx.Done():
			why = "interrupted"
			break loop
		case <-end:
			why = "duration reached"
			break loop
		case <-alive.C:
			if !p.Alive() {
				why = fmt.Sprintf("process %d exited", *pid)
				break loop
			}
		case <-tick.C:
			if !live {
				continue
			}
			s, err := p.Snapshot()
			if err != nil {
				progress("%v", err)
				continue
			}
			if !*batch {
				fmt.Fprint(stdout, "\x1b[H\x1b[2J")
			}
			probe.WriteTable(stdout, s, prev)
			if *batch {
				fmt.Fprintln(stdout)
			}
			prev = s
		}
	}
	stop()
	if err := p.Detach(); err != nil {
		progress("detaching: %v", err)
	}
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		srv.Shutdown(sctx)
		cancel()
	}
	code := probeExitOK
	if traceDone != nil {
		<-traceDone
		if err := tw.Close(); err != nil {
			fmt.Fprintf(stderr, "cgoguard probe: --trace: %v\n", err)
			code = probeExitFailed
		}
	}
	final, err := p.Snapshot()
	if err != nil {
		fmt.Fprintf(stderr, "cgoguard probe: %v\n", err)
		return probeExitFailed
	}
	progress("detached: %s after %s", why, final.Elapsed.Round(time.Millisecond))
	if tableToStdout {
		if live && !*batch {
			fmt.Fprint(stdout, "\x1b[H\x1b[2J")
		}
		probe.WriteTable(stdout, final, nil)
	}
	for _, o := range outs {
		if err := writeProbeOutput(o, final, stdout); err != nil {
			fmt.Fprintf(stderr, "cgoguard probe: -o %s=%s: %v\n", o.format, o.path, err)
			code = probeExitFailed
		}
	}
	if tw != nil {
		progress("trace: %d events in %s", tw.Events(), *traceFile)
	}
	return code
}

func writeProbeOutput(o probeOutput, s *probe.Snapshot, stdout io.Writer) error {
	var w io.Writer = stdout
	var f *os.File
	if o.path != "-" {
		var err error
		if f, err = os.Create(o.path); err != nil {
			return err
		}
		w = f
	}
	var err error
	switch o.format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		err = enc.Encode(s)
	case "text":
		err = probe.WriteTable(w, s, nil)
	}
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
