// Package probe sees the C side of a running Go program from outside, with
// eBPF uprobes, on the same clock and under the same module names as the
// program's own metrics (package observe).
//
// Open attaches a uprobe and a uretprobe to each selected C function of a
// process (found by ELF symbol in its executable and in the shared
// libraries of /proc/PID/maps; Go functions are never probed, since a
// uretprobe breaks the Go runtime's stack walks). The BPF programs, written
// with cilium/ebpf's asm package so that no clang is needed, count in BPF
// maps, per function and module: calls, a log2 latency histogram in
// nanoseconds, calls whose C int result was negative (errors), and the
// threads the calls ran on. Nothing crosses to user space per call, unless
// WithTrace asks for every call as an Event through a ring buffer.
//
// # Modules
//
// In a process that uses cgoguard, the probes also sit on the guard
// trampoline (cg_call_fast), which receives each guarded call's module slot:
// every probed call is labelled with the module of the guarded call it runs
// in, however deep, and the slot is named from the process's status file
// (observe.StartStatus), so that the labels are those of
// cgoguard_calls_total. WithModule labels the functions it matches with a
// given module instead, for code that runs outside guarded calls or
// processes without cgoguard. Without WithFunctions and WithModule the
// functions that the guarded calls run (the fn of Module.Call) are found
// and probed as they are first called (WithGuardedFunctions).
//
// # Time line
//
// Event times are bpf_ktime_get_ns, which is CLOCK_MONOTONIC, the clock
// that Go's runtime reads (runtime.nanotime; a time.Time's monotonic
// reading is that clock less its value at process start). MeasureClock
// measures the offset between the two with a uprobe on this package's
// own code: zero within the cost of one uprobe hit. A call's interval runs
// from its uprobe to its uretprobe and so contains the C function's own
// execution. With tracing on in the target (observe.Tracing), the
// trampoline's traced entry (cg_call) is probed too and each guarded call
// becomes an Event with its trace id; TraceWriter writes both kinds as
// Chrome trace-event JSON.
//
// # Permissions and detaching
//
// Probing needs root, or CAP_BPF and CAP_PERFMON (and CAP_SYS_PTRACE for
// another user's process), on Linux 5.15 or later (BPF cookies); x86-64
// only. Where the kernel refuses, Open returns an *AttachError matching
// ErrPermission or ErrNotSupported. The probes are BPF links and perf
// events held as file descriptors of this process (uprobe_multi links on
// Linux 6.6 and later, else one perf event per probe, never the tracefs
// interface): Close removes them, and so does the kernel when the process
// dies, even by SIGKILL.
//
// # Example
//
//	p, err := probe.Open(pid, probe.WithModule("zlib", "libz.so*:inflate*", "libz.so*:deflate*"))
//	if err != nil {
//		return err // errors.Is(err, probe.ErrPermission): run as root
//	}
//	defer p.Close()
//	time.Sleep(10 * time.Second)
//	snap, err := p.Snapshot()
//	if err != nil {
//		return err
//	}
//	for _, f := range snap.Functions {
//		fmt.Printf("%s %s: %d calls, p99 < %v, %d errors, %d threads\n",
//			f.Module, f.Function, f.Calls, f.Quantile(0.99), f.Errors, len(f.Threads))
//	}
//	reg.MustRegister(probe.Collector(p)) // cgoguard_probe_calls_total{module,function}, ...
//
// # Concurrency
//
// All exported functions and methods are safe to be used concurrently
// unless specified otherwise; ReadEvent has one reader at a time.
package probe
