package leakcheck

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	// ErrNotSupported marks a kind that cannot be measured here (the C heap
	// without cgo).
	ErrNotSupported = errors.New("cgoguard: leakcheck measurement not supported on this platform")
	// ErrNilFunc is returned by Measure for a nil function.
	ErrNilFunc = errors.New("cgoguard: leakcheck needs a function to run, got nil")
)

// Report is the result of Measure: for each kind, the growth per iteration
// (the least of the trials), and what leaked.
type Report struct {
	Iterations int // runs of fn per trial
	Trials     int // trials run (Measure stops early once nothing grows)

	CHeapBytesPerIter   float64 // C heap bytes in use (glibc mallinfo2)
	FDsPerIter          float64 // open file descriptors
	ThreadsPerIter      float64 // OS threads
	GoroutinesPerIter   float64 // goroutines
	HandlesPerIter      float64 // live handles (package handles)
	TrackedBytesPerIter float64 // live bytes from package cmem

	// Leaks lists, for each kind over its limit, what leaked (from the
	// last trial): new descriptors by target, new threads by name, new
	// goroutines by stack, handle and cmem call sites, or a line for the
	// C heap.
	Leaks []Leak

	// NotMeasured lists kinds that were asked for but cannot be measured
	// here, with the reason.
	NotMeasured map[Kind]error

	limits   map[Kind]float64
	kinds    map[Kind]bool
	wholeRun bool // VerifyTestMain: growth over the whole test run
}

// Leak is one thing that leaked.
type Leak struct {
	Kind    Kind
	What    string  // fd target, thread name, goroutine stack, call site, or "C heap in use"
	Count   int     // new items with this What in the last trial (allocations for cmem)
	PerIter float64 // Count per iteration; bytes per iteration for c-heap and cmem
}

// Leaked reports whether some kind grew past its limit in every trial.
func (r *Report) Leaked() bool { return len(r.Leaks) > 0 }

func (r *Report) perIter(k Kind) float64 {
	switch k {
	case KindCHeap:
		return r.CHeapBytesPerIter
	case KindFD:
		return r.FDsPerIter
	case KindThread:
		return r.ThreadsPerIter
	case KindGoroutine:
		return r.GoroutinesPerIter
	case KindHandle:
		return r.HandlesPerIter
	default:
		return r.TrackedBytesPerIter
	}
}

func (r *Report) setPerIter(k Kind, v float64) {
	switch k {
	case KindCHeap:
		r.CHeapBytesPerIter = v
	case KindFD:
		r.FDsPerIter = v
	case KindThread:
		r.ThreadsPerIter = v
	case KindGoroutine:
		r.GoroutinesPerIter = v
	case KindHandle:
		r.HandlesPerIter = v
	default:
		r.TrackedBytesPerIter = v
	}
}

func unitOf(k Kind) string {
	if k == KindCHeap || k == KindTracked {
		return "bytes"
	}
	return ""
}

// String formats the report for people and tools: every line starts with
// "leakcheck:", first a verdict, then one line per kind, then what leaked.
func (r *Report) String() string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, "leakcheck: "+format+"\n", args...) }
	scope := fmt.Sprintf("per iteration over %d iterations, least of %d trial(s)", r.Iterations, r.Trials)
	if r.wholeRun {
		scope = "over the whole test run"
	}
	if r.Leaked() {
		line("LEAK: growth %s", scope)
	} else {
		line("no leak: growth %s", scope)
	}
	for _, k := range allKinds {
		if !r.kinds[k] {
			continue
		}
		if err := r.NotMeasured[k]; err != nil {
			line("  %-9s not measured: %v", k, err)
			continue
		}
		verdict := "ok"
		if v := r.perIter(k); v > r.limits[k] {
			verdict = "LEAK"
		}
		line("  %-9s %+10.2f %-5s (limit %g) %s", k, r.perIter(k), unitOf(k), r.limits[k], verdict)
	}
	for _, l := range r.Leaks {
		per := fmt.Sprintf("%.2f per iteration", l.PerIter)
		if u := unitOf(l.Kind); u != "" {
			per = fmt.Sprintf("%.1f %s per iteration", l.PerIter, u)
		}
		if r.wholeRun {
			per = "over the run"
		}
		lines := strings.Split(l.What, "\n")
		switch {
		case l.Count > 0:
			line("%s: %d new (%s): %s", l.Kind, l.Count, per, lines[0])
		default:
			line("%s: %s (%s)", l.Kind, lines[0], per)
		}
		for _, more := range lines[1:] {
			line("    %s", more)
		}
	}
	return b.String()
}

func build(o options, opts []Option) (options, error) {
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	return o, nil
}

// Measure runs fn Warmup times, then Trials trials of Iterations runs
// each, and reports how much each resource grew per iteration: the least
// growth of the trials, so that activity elsewhere in the process during
// one trial does not look like a leak. It stops after a trial in which
// nothing grew past its limit.
func Measure(fn func(), opts ...Option) (*Report, error) {
	if fn == nil {
		return nil, ErrNilFunc
	}
	o, err := build(defaults(), opts)
	if err != nil {
		return nil, err
	}
	for i := 0; i < o.warmup; i++ {
		fn()
	}
	r := newReport(&o)
	best := map[Kind]float64{}
	worst := map[Kind]float64{}
	var last *trialResult
	trials := o.trials
	for trial := 0; trial < trials; trial++ {
		res, err := runTrial(&o, r.NotMeasured, func() {
			for i := 0; i < o.iterations; i++ {
				fn()
			}
		})
		if err != nil {
			return nil, err
		}
		r.Trials++
		last = res
		done, steady := true, true
		for k := range o.kinds {
			if trial == 0 || res.growth[k] < best[k] {
				best[k] = res.growth[k]
			}
			if trial == 0 || res.growth[k] > worst[k] {
				worst[k] = res.growth[k]
			}
			if best[k] > o.limits[k] {
				done = false
				if worst[k] > 1.5*best[k] {
					steady = false
				}
			}
		}
		if done {
			break
		}
		// A leak grows by about the same amount in every trial. Growth
		// that varies a lot from trial to trial is more likely other
		// threads at work: give it more trials to fall back.
		if trial == trials-1 && trials == o.trials && !steady {
			trials = 3 * o.trials
		}
	}
	r.finish(best, last)
	return r, nil
}

func newReport(o *options) *Report {
	return &Report{Iterations: o.iterations, NotMeasured: map[Kind]error{}, limits: o.limits, kinds: o.kinds}
}

// finish sets the per-iteration fields and lists what leaked.
func (r *Report) finish(best map[Kind]float64, last *trialResult) {
	for k, v := range best {
		if r.NotMeasured[k] == nil {
			r.setPerIter(k, v)
		}
	}
	for _, k := range allKinds {
		if !r.kinds[k] || r.NotMeasured[k] != nil || best[k] <= r.limits[k] {
			continue
		}
		items := last.details[k]
		if len(items) == 0 {
			what := "count grew"
			if k == KindCHeap {
				what = "C heap in use (glibc mallinfo2) grew"
			}
			r.Leaks = append(r.Leaks, Leak{Kind: k, What: what, PerIter: best[k]})
			continue
		}
		r.Leaks = append(r.Leaks, items...)
	}
}

type trialResult struct {
	growth  map[Kind]float64
	details map[Kind][]Leak
}

// netpollerOnce makes the Go runtime create its network poller (an epoll
// descriptor and an eventfd, kept for the life of the process) before the
// first descriptor snapshot. Otherwise the first pipe, socket or timer-backed
// file of a measured function opens them, and the runtime's own descriptors
// read as a leak of that function.
var netpollerOnce sync.Once

func startNetpoller() {
	netpollerOnce.Do(func() {
		// os.Pipe registers both ends with the poller, which initialises it.
		if r, w, err := os.Pipe(); err == nil {
			r.Close()
			w.Close()
		}
	})
}

// runTrial snapshots, runs body, snapshots again (waiting up to o.settle
// for goroutines, threads and descriptors that are going away), and returns
// the growth per iteration and what is new.
func runTrial(o *options, unmeasured map[Kind]error, body func()) (*trialResult, error) {
	var hb map[string]int64
	var tb map[string][2]int64
	if o.kinds[KindHandle] {
		hb = handleSites()
	}
	if o.kinds[KindTracked] {
		tb = trackedSites()
	}
	if o.kinds[KindFD] {
		startNetpoller()
	}
	before, err := take(o, unmeasured)
	if err != nil {
		return nil, err
	}
	body()
	var after *snapshot
	var growth map[Kind]float64
	deadline := time.Now().Add(o.settle)
	wait := time.Millisecond
	for {
		if after, err = take(o, unmeasured); err != nil {
			return nil, err
		}
		growth = grow(o, before, after)
		settling := false
		for _, k := range []Kind{KindFD, KindThread, KindGoroutine} {
			if o.kinds[k] && growth[k] > o.limits[k] {
				settling = true
			}
		}
		if !settling || time.Now().After(deadline) {
			break
		}
		time.Sleep(wait)
		wait = min(2*wait, 20*time.Millisecond)
	}
	res := &trialResult{growth: growth, details: map[Kind][]Leak{}}
	n := float64(o.iterations)
	add := func(k Kind, items []itemCount, prefix string) {
		for _, it := range items {
			res.details[k] = append(res.details[k], Leak{Kind: k, What: prefix + it.what, Count: it.count, PerIter: float64(it.count) / n})
		}
	}
	if o.kinds[KindFD] && growth[KindFD] > o.limits[KindFD] {
		add(KindFD, newItems(before.fds, after.fds), "descriptor to ")
	}
	if o.kinds[KindThread] && growth[KindThread] > o.limits[KindThread] {
		add(KindThread, newThreads(before.threads, after.threads), "")
	}
	if o.kinds[KindGoroutine] && growth[KindGoroutine] > o.limits[KindGoroutine] {
		add(KindGoroutine, newItems(before.goroutines, after.goroutines), "goroutine ")
	}
	if o.kinds[KindHandle] && growth[KindHandle] > o.limits[KindHandle] {
		counts := map[string]int{}
		for site, live := range handleSites() {
			if d := live - hb[site]; d > 0 {
				counts[site] = int(d)
			}
		}
		add(KindHandle, sortCounts(counts), "handles created at ")
	}
	if o.kinds[KindTracked] && growth[KindTracked] > o.limits[KindTracked] {
		for site, v := range trackedSites() {
			if d := v[1] - tb[site][1]; d > 0 {
				res.details[KindTracked] = append(res.details[KindTracked], Leak{
					Kind: KindTracked, What: "allocated at " + site,
					Count: int(v[0] - tb[site][0]), PerIter: float64(d) / n,
				})
			}
		}
	}
	return res, nil
}

func grow(o *options, before, after *snapshot) map[Kind]float64 {
	n := float64(o.iterations)
	g := map[Kind]float64{}
	for k := range o.kinds {
		var d int64
		switch k {
		case KindCHeap:
			d = after.cheap - before.cheap
		case KindFD:
			d = int64(len(after.fds) - len(before.fds))
		case KindThread:
			d = int64(len(after.threads) - len(before.threads))
		case KindGoroutine:
			d = int64(len(after.goroutines) - len(before.goroutines))
		case KindHandle:
			d = after.handles - before.handles
		case KindTracked:
			d = after.tracked - before.tracked
		}
		g[k] = float64(d) / n
	}
	return g
}

// Check runs Measure and fails t with the readable report (every line
// starting with "leakcheck:") if something leaked, or if Measure could not
// run.
func Check(t testing.TB, fn func(), opts ...Option) {
	t.Helper()
	r, err := Measure(fn, opts...)
	if err != nil {
		t.Fatalf("leakcheck: %v", err)
		return
	}
	if r.Leaked() {
		t.Error("\n" + strings.TrimSuffix(r.String(), "\n"))
	}
}

// VerifyTestMain runs the tests of a package and then checks that they gave
// back what they took: by default open descriptors, goroutines, handles and
// cmem allocations are compared with their state before the tests (threads
// and the C heap are not, since the Go runtime keeps its threads and C
// libraries keep caches; add them with Only). On a leak it prints the
// report to stderr and exits with status 1; otherwise it exits with the
// tests' status. Use it as the whole body of TestMain:
//
//	func TestMain(m *testing.M) { leakcheck.VerifyTestMain(m) }
func VerifyTestMain(m *testing.M, opts ...Option) {
	os.Exit(verifyMain(m.Run, os.Stderr, opts...))
}

func verifyMain(run func() int, w io.Writer, opts ...Option) int {
	o, err := build(verifyDefaults(), opts)
	if err != nil {
		fmt.Fprintf(w, "leakcheck: %v\n", err)
		return 2
	}
	o.iterations = 1
	r := newReport(&o)
	r.wholeRun = true
	code := 0
	res, err := runTrial(&o, r.NotMeasured, func() { code = run() })
	if err != nil {
		fmt.Fprintf(w, "leakcheck: %v\n", err)
		return 2
	}
	if code != 0 {
		return code
	}
	r.Trials = 1
	r.finish(res.growth, res)
	if r.Leaked() {
		fmt.Fprint(w, r.String())
		return 1
	}
	return 0
}
