package probe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/features"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"

	"github.com/cgoguard/cgoguard/observe"
)

// The trampoline's entry points (guard.c in the root package).
const (
	symGuardFast = "cg_call_fast"
	symGuardSpan = "cg_call"
)

// Probe is a set of uprobes attached to one process. Its methods are safe
// for concurrent use; ReadEvent has one reader at a time.
type Probe struct {
	pid       int
	procStart uint64
	cfg       config
	maps      *bpfMaps
	progs     *bpfPrograms
	ring      *ringbuf.Reader
	started   time.Time
	startMono time.Duration

	mu         sync.Mutex // guards what follows
	objs       []*object
	exes       map[string]*link.Executable
	funcs      []*Function
	byTarget   map[string]int // object path + offset -> index in funcs
	links      []link.Link
	tramp      *Function // cg_call_fast, nil if the target has none
	multi      bool      // attach with uprobe_multi links
	warnings   []string
	slotNames  map[int]string
	statusRead time.Time
	looping    bool // loop runs (set before it starts)
	detached   bool
	closed     bool
	drained    atomic.Bool
	stop       chan struct{}
	done       chan struct{}
}

// Function is one probed C function.
type Function struct {
	Name   string `json:"function"`
	Object string `json:"object"` // the ELF file, as the target maps it
	Offset uint64 `json:"offset"` // file offset of the function's entry
	// Module is the module WithModule assigned, "" when calls are labelled
	// by the guarded call they run in.
	Module string `json:"module,omitempty"`
	// Guarded is true when the function was found as the fn of a guarded
	// call (WithGuardedFunctions).
	Guarded bool `json:"guarded,omitempty"`
}

// Open attaches the probes to process pid. It returns an *AttachError
// (matching ErrPermission or ErrNotSupported where that is the cause) when
// the kernel refuses, ErrNoProcess when pid does not run, and an error
// wrapping ErrNoFunctions when nothing matched. Close detaches.
func Open(pid int, opts ...Option) (*Probe, error) {
	cfg := defaultConfig()
	for i, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("cgoguard: probe.Open: option %d is nil", i)
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if !cfg.guardedSet {
		cfg.guarded = len(cfg.funcs) == 0 && len(cfg.modules) == 0
	}
	if pid <= 0 {
		return nil, fmt.Errorf("cgoguard: probe.Open: pid %d: want a process id > 0", pid)
	}
	if err := supportedArch(); err != nil {
		return nil, &AttachError{PID: pid, Op: "check", Kind: ErrNotSupported, Err: err}
	}
	start := procStartTicks(pid)
	if start == 0 {
		return nil, fmt.Errorf("%w: pid %d", ErrNoProcess, pid)
	}
	if err := uprobeSupport(); err != nil {
		return nil, &AttachError{PID: pid, Op: "check", Kind: ErrNotSupported, Err: err,
			Hint: "the kernel needs CONFIG_UPROBE_EVENTS and the perf uprobe PMU (Linux 4.17 or later)"}
	}
	objs, err := loadObjects(pid)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && procStartTicks(pid) == 0 {
			return nil, fmt.Errorf("%w: pid %d", ErrNoProcess, pid)
		}
		return nil, classify(pid, "read the process's executables", "", err)
	}
	p := &Probe{
		pid: pid, procStart: start, cfg: cfg, objs: objs,
		exes: map[string]*link.Executable{}, byTarget: map[string]int{},
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	sel, err := p.selectFunctions()
	if err != nil {
		return nil, err
	}
	if len(sel) == 0 && !(cfg.guarded && p.tramp != nil) {
		what := "no --func or --module glob matched a C function (Go functions are never probed: a uretprobe breaks the Go runtime's stack walks)"
		if cfg.guarded && cfg.noGuard {
			what = "guarded functions were asked for without the trampoline probes"
		} else if cfg.guarded && len(cfg.funcs) == 0 && len(cfg.modules) == 0 {
			what = "the process runs no cgoguard trampoline (" + symGuardFast + "), so there are no guarded calls to find; give --func or --module"
		}
		return nil, fmt.Errorf("%w in pid %d: %s", ErrNoFunctions, pid, what)
	}
	// Kernels before 5.11 account BPF memory to RLIMIT_MEMLOCK.
	_ = rlimit.RemoveMemlock()
	if p.maps, err = newMaps(&cfg); err != nil {
		return nil, classify(pid, "create maps", "", err)
	}
	p.multi = !cfg.perfLinks && features.HaveBPFLinkUprobeMulti() == nil
	if p.progs, err = newPrograms(p.maps, cfg.trace, p.multi); err != nil {
		p.maps.close()
		return nil, classify(pid, "load programs", "", err)
	}
	p.started = time.Now()
	p.startMono = monotonicNow()
	if err := p.attachAll(sel); err != nil {
		p.Close()
		return nil, err
	}
	if cfg.trace {
		if p.ring, err = ringbuf.NewReader(p.maps.events); err != nil {
			p.Close()
			return nil, classify(pid, "open the event ring buffer", "", err)
		}
	}
	p.looping = true
	go p.loop()
	return p, nil
}

// uprobeSupport checks for the perf uprobe PMU. Probes made through it are
// file descriptors, which the kernel removes when the probe process dies,
// however it dies; the older tracefs interface would leave named probes
// behind a killed process, so it is not used.
func uprobeSupport() error {
	if _, err := os.Stat("/sys/bus/event_source/devices/uprobe/type"); err != nil {
		return fmt.Errorf("%w: no uprobe PMU (/sys/bus/event_source/devices/uprobe): %w", ErrNotSupported, err)
	}
	return nil
}

// classify wraps an error of the kernel into an *AttachError that says
// whether it is a matter of permission or of support.
func classify(pid int, op, target string, err error) error {
	e := &AttachError{PID: pid, Op: op, Target: target, Err: err}
	switch {
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES), errors.Is(err, os.ErrPermission):
		e.Kind = ErrPermission
		e.Hint = permissionHint()
		// The errno alone: the library's own advice (memlock limits) does
		// not apply to kernels that account BPF memory to cgroups.
		var errno syscall.Errno
		if errors.As(err, &errno) {
			e.Err = errno
		}
	case errors.Is(err, ebpf.ErrNotSupported), errors.Is(err, unix.ENOTSUP), errors.Is(err, unix.EOPNOTSUPP),
		errors.Is(err, unix.ENOSYS), errors.Is(err, ErrNotSupported):
		e.Kind = ErrNotSupported
		e.Hint = "the kernel lacks a feature the probes need (BPF, uprobes, ring buffers, BPF cookies: Linux 5.15 or later)"
	}
	return e
}

// permissionHint says what is missing, as far as this process can tell.
func permissionHint() string {
	var parts []string
	if os.Geteuid() != 0 {
		parts = append(parts, "run as root, or give the binary CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE (setcap cap_bpf,cap_perfmon,cap_sys_ptrace+ep)")
	}
	if b, err := os.ReadFile("/sys/kernel/security/lockdown"); err == nil && !strings.Contains(string(b), "[none]") {
		parts = append(parts, "the kernel is locked down ("+strings.TrimSpace(string(b))+"), which forbids BPF probes")
	}
	if b, err := os.ReadFile("/proc/sys/kernel/unprivileged_bpf_disabled"); err == nil && os.Geteuid() != 0 {
		parts = append(parts, "kernel.unprivileged_bpf_disabled="+strings.TrimSpace(string(b)))
	}
	if len(parts) == 0 {
		return "needs root, or CAP_BPF and CAP_PERFMON; a security module (SELinux, AppArmor, seccomp) may forbid bpf() or perf_event_open()"
	}
	return strings.Join(parts, "; ")
}

// selectFunctions finds the functions the patterns select, and the
// trampoline.
func (p *Probe) selectFunctions() ([]*Function, error) {
	var sel []*Function
	for _, o := range p.objs {
		if t, ok := o.byName(symGuardFast); ok && p.tramp == nil && !p.cfg.noGuard {
			p.tramp = &Function{Name: t.name, Object: o.path, Offset: t.off}
		}
		for _, s := range o.syms {
			if f := p.match(o, s); f != nil {
				sel = append(sel, f)
			}
		}
	}
	if len(sel) > p.cfg.maxFuncs {
		return nil, fmt.Errorf("cgoguard: probe: %d functions match in pid %d, at most %d are probed: narrow the globs or raise the limit (--max-functions)", len(sel), p.pid, p.cfg.maxFuncs)
	}
	return sel, nil
}

// match returns the Function for symbol s of o if a pattern selects it.
func (p *Probe) match(o *object, s symbol) *Function {
	glue := isCgoGlue(s.name)
	ok := func(pt pattern) bool {
		if glue && pt.symbol != s.name {
			return false // cgo's glue only when named exactly
		}
		return pt.match(o.base, s.name)
	}
	for _, m := range p.cfg.modules {
		for _, pt := range m.patterns {
			if ok(pt) {
				return &Function{Name: s.name, Object: o.path, Offset: s.off, Module: m.name}
			}
		}
	}
	for _, pt := range p.cfg.funcs {
		if ok(pt) {
			return &Function{Name: s.name, Object: o.path, Offset: s.off}
		}
	}
	return nil
}

// attachAll attaches the trampoline probes and the selected functions.
func (p *Probe) attachAll(sel []*Function) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tramp != nil {
		if err := p.attach([]*Function{p.tramp}, p.progs.guardEntry, p.progs.guardReturn, []uint64{0}); err != nil {
			return err
		}
		if p.cfg.trace {
			for _, o := range p.objs {
				if s, ok := o.byName(symGuardSpan); ok {
					if err := p.attach([]*Function{{Name: s.name, Object: o.path, Offset: s.off}}, p.progs.spanEntry, p.progs.spanReturn, []uint64{0}); err != nil {
						return err
					}
					break
				}
			}
		}
	}
	return p.addFunctions(sel)
}

// addFunctions attaches the functions of sel not yet probed, each under the
// next index, with one pair of links per object when the kernel has
// uprobe_multi links. p.mu held.
func (p *Probe) addFunctions(sel []*Function) error {
	byObj := map[string][]*Function{}
	var order []string
	for _, f := range sel {
		if _, ok := p.byTarget[targetKey(f)]; ok {
			continue
		}
		if byObj[f.Object] == nil {
			order = append(order, f.Object)
		}
		byObj[f.Object] = append(byObj[f.Object], f)
	}
	for _, obj := range order {
		fs := byObj[obj]
		if len(p.funcs)+len(fs) > p.cfg.maxFuncs {
			return fmt.Errorf("cgoguard: probe: %d functions to probe, at most %d allowed (--max-functions)", len(p.funcs)+len(fs), p.cfg.maxFuncs)
		}
		cookies := make([]uint64, len(fs))
		for i := range fs {
			cookies[i] = uint64(len(p.funcs) + i)
		}
		if err := p.attach(fs, p.progs.fnEntry, p.progs.fnReturn, cookies); err != nil {
			return err
		}
		for _, f := range fs {
			p.byTarget[targetKey(f)] = len(p.funcs)
			p.funcs = append(p.funcs, f)
		}
	}
	return nil
}

func targetKey(f *Function) string {
	return f.Object + "\x00" + strconv.FormatUint(f.Offset, 16)
}

// attach sets uprobes and uretprobes on fs, functions of one object, with
// the given cookies: one uprobe_multi link for each kind when the kernel
// has them (Linux 6.6), else one perf-event link per function and kind.
// Either way the links are file descriptors of this process. p.mu held.
func (p *Probe) attach(fs []*Function, entry, ret *ebpf.Program, cookies []uint64) error {
	o := p.object(fs[0].Object)
	ex := p.exes[o.open]
	if ex == nil {
		var err error
		if ex, err = link.OpenExecutable(o.open); err != nil {
			return classify(p.pid, "open", o.path, err)
		}
		p.exes[o.open] = ex
	}
	target := o.base + ":" + fs[0].Name
	if len(fs) > 1 {
		target += fmt.Sprintf(" and %d more", len(fs)-1)
	}
	if p.multi {
		addrs := make([]uint64, len(fs))
		for i, f := range fs {
			addrs[i] = f.Offset
		}
		opts := &link.UprobeMultiOptions{Addresses: addrs, Cookies: cookies, PID: uint32(p.pid)}
		up, err := ex.UprobeMulti(nil, entry, opts)
		if err != nil {
			return classify(p.pid, "attach uprobes to", target, err)
		}
		p.links = append(p.links, up)
		uret, err := ex.UretprobeMulti(nil, ret, opts)
		if err != nil {
			return classify(p.pid, "attach uretprobes to", target, err)
		}
		p.links = append(p.links, uret)
		return nil
	}
	for i, f := range fs {
		opts := &link.UprobeOptions{Address: f.Offset, PID: p.pid, Cookie: cookies[i]}
		target := o.base + ":" + f.Name
		up, err := ex.Uprobe(f.Name, entry, opts)
		if err != nil {
			return classify(p.pid, "attach uprobe to", target, err)
		}
		p.links = append(p.links, up)
		uret, err := ex.Uretprobe(f.Name, ret, opts)
		if err != nil {
			return classify(p.pid, "attach uretprobe to", target, err)
		}
		p.links = append(p.links, uret)
	}
	return nil
}

func (p *Probe) object(path string) *object {
	for _, o := range p.objs {
		if o.path == path {
			return o
		}
	}
	return nil
}

// loop finds new guarded functions until Close.
func (p *Probe) loop() {
	defer close(p.done)
	if !p.cfg.guarded || p.tramp == nil {
		return
	}
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		if err := p.discover(); err != nil {
			p.warn(err.Error())
		}
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
	}
}

func (p *Probe) warn(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range p.warnings {
		if w == s {
			return
		}
	}
	p.warnings = append(p.warnings, s)
}

// Warnings returns what the probe could not do without failing: functions
// it could not resolve, a missing status file.
func (p *Probe) Warnings() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.warnings...)
}

// discover attaches to the functions the trampoline was seen calling.
func (p *Probe) discover() error {
	var addr, slot1 uint64
	var addrs []uint64
	it := p.maps.direct.Iterate()
	for it.Next(&addr, &slot1) {
		addrs = append(addrs, addr)
	}
	if err := it.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.detached {
		return nil
	}
	for _, a := range addrs {
		o, s, ok := resolve(p.objs, a)
		if !ok && o == nil {
			// A library loaded since: read the mappings again.
			if objs, err := loadObjects(p.pid); err == nil {
				p.objs = mergeObjects(p.objs, objs)
				o, s, ok = resolve(p.objs, a)
			}
		}
		if !ok {
			p.warnings = appendOnce(p.warnings, fmt.Sprintf("guarded call of address %#x: no ELF symbol covers it", a))
			continue
		}
		f := &Function{Name: s.name, Object: o.path, Offset: s.off, Guarded: true}
		if m := p.matchModule(o, s); m != "" {
			f.Module = m
		}
		if err := p.addFunctions([]*Function{f}); err != nil {
			return err
		}
	}
	return nil
}

func (p *Probe) matchModule(o *object, s symbol) string {
	for _, m := range p.cfg.modules {
		for _, pt := range m.patterns {
			if pt.match(o.base, s.name) {
				return m.name
			}
		}
	}
	return ""
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// mergeObjects keeps the objects already loaded and adds new ones.
func mergeObjects(old, cur []*object) []*object {
	have := map[string]*object{}
	for _, o := range old {
		have[o.path] = o
	}
	out := old
	for _, o := range cur {
		if h, ok := have[o.path]; ok {
			h.maps = o.maps
			continue
		}
		out = append(out, o)
	}
	return out
}

// PID returns the probed process's id.
func (p *Probe) PID() int { return p.pid }

// Functions returns the functions probed so far.
func (p *Probe) Functions() []Function {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Function, len(p.funcs))
	for i, f := range p.funcs {
		out[i] = *f
	}
	return out
}

// Guarded reports whether the target runs the cgoguard trampoline, so that
// calls are labelled with the modules of their guarded calls.
func (p *Probe) Guarded() bool { return p.tramp != nil }

// Alive reports whether the probed process still runs (and is the process
// that was probed, not another one with its pid).
func (p *Probe) Alive() bool {
	return syscall.Kill(p.pid, 0) != syscall.ESRCH && procStartTicks(p.pid) == p.procStart
}

// Detach removes every uprobe: the target runs unprobed from then on.
// Snapshot keeps returning the counts recorded, and ReadEvent the events
// still buffered, then ErrClosed. Close frees the rest. Detaching twice is
// a no-op.
func (p *Probe) Detach() error {
	p.mu.Lock()
	if p.detached {
		p.mu.Unlock()
		return nil
	}
	p.detached = true
	close(p.stop)
	looping := p.looping
	p.mu.Unlock()
	if looping {
		<-p.done
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	errs := closeLinks(p.links)
	p.links = nil
	if p.ring != nil {
		// Wake a waiting ReadEvent: it returns what is buffered, then
		// ErrClosed.
		if err := p.ring.Flush(); err != nil && !errors.Is(err, os.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// closeLinks closes the links all at once: removing a uprobe waits for an
// RCU grace period (about 0.3s on the machines measured), and concurrent
// removals share them, so detaching many functions takes about as long as
// detaching one.
func closeLinks(links []link.Link) []error {
	errs := make([]error, len(links))
	var wg sync.WaitGroup
	for i, l := range links {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = l.Close()
		}()
	}
	wg.Wait()
	return errs
}

// Close detaches every probe (see Detach) and frees the maps and
// programs. It is safe to call more than once.
func (p *Probe) Close() error {
	err := p.Detach()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return err
	}
	p.closed = true
	if p.ring != nil {
		p.ring.Close()
	}
	if p.progs != nil {
		p.progs.close()
	}
	if p.maps != nil {
		p.maps.close()
	}
	return err
}

// procStartTicks returns field 22 of /proc/<pid>/stat, or 0 when the
// process does not exist.
func procStartTicks(pid int) uint64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0
	}
	v, _ := strconv.ParseUint(f[19], 10, 64)
	return v
}

// Snapshot reads the counts of every probed function now.
func (p *Probe) Snapshot() (*Snapshot, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	funcs := append([]*Function(nil), p.funcs...)
	p.mu.Unlock()

	names, statusErr := p.moduleNames()
	type rowKey struct{ fn, slot1 uint32 }
	rows := map[rowKey]*FunctionStats{}
	var key [8]byte
	val := make([]byte, statsSize)
	it := p.maps.stats.Iterate()
	le := binary.LittleEndian
	for it.Next(&key, &val) {
		k := rowKey{le.Uint32(key[0:]), le.Uint32(key[4:])}
		if int(k.fn) >= len(funcs) {
			continue
		}
		fs := &FunctionStats{
			Calls: le.Uint64(val[offCalls:]), Errors: le.Uint64(val[offErrors:]),
			Total: time.Duration(le.Uint64(val[offSum:])),
		}
		for i := range fs.Buckets {
			fs.Buckets[i] = le.Uint64(val[offHist+8*i:])
		}
		rows[k] = fs
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("cgoguard: probe: reading counts: %w", err)
	}
	var tkey [16]byte
	var n uint64
	tit := p.maps.threads.Iterate()
	for tit.Next(&tkey, &n) {
		k := rowKey{le.Uint32(tkey[0:]), le.Uint32(tkey[4:])}
		if fs := rows[k]; fs != nil {
			fs.Threads = append(fs.Threads, ThreadCalls{TID: int(le.Uint32(tkey[8:])), Calls: n})
		}
	}
	if err := tit.Err(); err != nil {
		return nil, fmt.Errorf("cgoguard: probe: reading threads: %w", err)
	}
	snap := &Snapshot{PID: p.pid, Time: time.Now(), Started: p.started, Monotonic: monotonicNow(), Guarded: p.tramp != nil}
	snap.Elapsed = snap.Time.Sub(p.started)
	if statusErr != nil && p.tramp != nil {
		snap.Warnings = append(snap.Warnings, statusErr.Error())
	}
	snap.Warnings = append(snap.Warnings, p.Warnings()...)
	merged := map[[3]string]*FunctionStats{}
	for k, fs := range rows {
		f := funcs[k.fn]
		fs.Function, fs.Object, fs.Offset = f.Name, f.Object, f.Offset
		fs.Module = f.Module
		if fs.Module == "" && k.slot1 > 0 {
			fs.Module = names[int(k.slot1)-1]
		}
		mk := [3]string{fs.Module, fs.Function, fs.Object}
		if m := merged[mk]; m != nil {
			m.add(fs)
			continue
		}
		merged[mk] = fs
	}
	for _, fs := range merged {
		sort.Slice(fs.Threads, func(i, j int) bool { return fs.Threads[i].TID < fs.Threads[j].TID })
		snap.Functions = append(snap.Functions, *fs)
	}
	sortStats(snap.Functions)
	// Functions with no call yet are listed too, so a reader sees what is
	// probed.
	seen := map[[2]string]bool{}
	for _, fs := range snap.Functions {
		seen[[2]string{fs.Function, fs.Object}] = true
	}
	for _, f := range funcs {
		if !seen[[2]string{f.Name, f.Object}] {
			snap.Functions = append(snap.Functions, FunctionStats{Module: f.Module, Function: f.Name, Object: f.Object, Offset: f.Offset})
		}
	}
	snap.Dropped = p.counter(counterDropped)
	snap.Uncounted = p.counter(counterNoStats)
	return snap, nil
}

func (p *Probe) counter(i uint32) uint64 {
	var v uint64
	if err := p.maps.counters.Lookup(&i, &v); err != nil {
		return 0
	}
	return v
}

// moduleNames maps trampoline slots to module names from the target's
// status file, keeping the names read before (a slot keeps its name when
// the file is gone). It returns a copy.
func (p *Probe) moduleNames() (map[int]string, error) {
	st, err := observe.ReadStatus(p.cfg.statusDir, p.pid)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.statusRead = time.Now()
	if p.slotNames == nil {
		p.slotNames = map[int]string{}
	}
	if err == nil {
		for _, m := range st.Modules {
			if m.Slot >= 0 {
				p.slotNames[m.Slot] = m.Name
			}
		}
	} else {
		err = fmt.Errorf("guarded calls are not named by module: %w (the process names its modules in its status file: observe.StartStatus)", err)
	}
	names := make(map[int]string, len(p.slotNames))
	for k, v := range p.slotNames {
		names[k] = v
	}
	return names, err
}

// slotName names slot (slot+1 as the BPF side keeps it, 0 for none),
// reading the status file again at most once a second for an unknown slot.
func (p *Probe) slotName(slot1 uint32) string {
	if slot1 == 0 {
		return ""
	}
	p.mu.Lock()
	name, ok := p.slotNames[int(slot1)-1]
	fresh := time.Since(p.statusRead) < time.Second
	p.mu.Unlock()
	if ok || fresh {
		return name
	}
	names, _ := p.moduleNames()
	return names[int(slot1)-1]
}

// ReadEvent returns the next trace event (WithTrace), waiting for one. It
// returns ErrClosed once the Probe is closed, and an error without
// WithTrace.
func (p *Probe) ReadEvent() (Event, error) {
	if p.ring == nil {
		return Event{}, errors.New("cgoguard: probe: ReadEvent needs WithTrace")
	}
	for {
		if p.drained.Load() {
			return Event{}, ErrClosed
		}
		rec, err := p.ring.Read()
		if err != nil {
			if errors.Is(err, ringbuf.ErrFlushed) {
				p.mu.Lock()
				detached := p.detached
				p.mu.Unlock()
				if detached {
					p.drained.Store(true)
					return Event{}, ErrClosed
				}
				continue
			}
			if errors.Is(err, ringbuf.ErrClosed) || errors.Is(err, os.ErrClosed) {
				return Event{}, ErrClosed
			}
			return Event{}, err
		}
		raw, ok := decodeEvent(rec.RawSample)
		if !ok {
			continue
		}
		return p.event(raw), nil
	}
}

// event names the function and module of a raw event.
func (p *Probe) event(r rawEvent) Event {
	e := Event{TID: int(r.tid), Start: time.Duration(r.start), End: time.Duration(r.end)}
	p.mu.Lock()
	var f *Function
	if r.kind == evCall && int(r.fn) < len(p.funcs) {
		f = p.funcs[r.fn]
	}
	var guarded string
	var gobj string
	if r.kind == evGuard {
		if o, s, ok := resolve(p.objs, r.addr); ok {
			guarded, gobj = s.name, o.path
		}
	}
	p.mu.Unlock()
	switch r.kind {
	case evCall:
		e.Kind = CallEvent
		e.Ret = r.ret
		if f != nil {
			e.Function, e.Object, e.Module = f.Name, f.Object, f.Module
		}
		if e.Module == "" {
			e.Module = p.slotName(r.slot1)
		}
	case evGuard:
		e.Kind = GuardedCallEvent
		e.Ret = int64(int32(uint32(r.ret)))
		e.NotRun = uint32(uint64(r.ret)>>32) != 0
		e.Module = p.slotName(r.slot1)
		binary.BigEndian.PutUint64(e.TraceID[0:], r.traceHi)
		binary.BigEndian.PutUint64(e.TraceID[8:], r.traceLo)
		e.Function, e.Object = guarded, gobj
	}
	return e
}
