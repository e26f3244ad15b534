package probe

import (
	"encoding/json"
	"math"
	"sort"
	"time"
)

// nBuckets is the number of log2 buckets of a histogram: bucket i holds
// durations (ns) of bit length i.
const nBuckets = 64

// Snapshot is the counts of every probed function at one moment.
type Snapshot struct {
	PID int `json:"pid"`
	// Time is when the snapshot was taken, Started when the probes were
	// attached (wall clock); Elapsed is the time between them.
	Time    time.Time     `json:"time"`
	Started time.Time     `json:"started"`
	Elapsed time.Duration `json:"elapsed_ns"`
	// Monotonic is CLOCK_MONOTONIC at the snapshot, the clock of the
	// events' Start and End.
	Monotonic time.Duration `json:"monotonic_ns"`
	// Guarded is true when the target runs cgoguard's trampoline, so that
	// calls are labelled with the module of their guarded call.
	Guarded bool `json:"guarded"`
	// Functions are sorted by module, then function; those not called yet
	// come last.
	Functions []FunctionStats `json:"functions"`
	// Dropped counts trace events lost because the ring buffer was full;
	// Uncounted calls that found the count table full.
	Dropped   uint64   `json:"dropped_events"`
	Uncounted uint64   `json:"uncounted_calls"`
	Warnings  []string `json:"warnings,omitempty"`
}

// FunctionStats is one function's calls under one module.
type FunctionStats struct {
	// Module is the module that WithModule assigned, else the module of
	// the guarded call the calls ran in ("" outside guarded calls or when
	// the module is unknown). It takes the values of the module label of
	// cgoguard_calls_total.
	Module   string `json:"module"`
	Function string `json:"function"`
	Object   string `json:"object"`
	Offset   uint64 `json:"offset"`
	Calls    uint64 `json:"calls"`
	// Errors counts calls whose return value, as a C int, was negative.
	Errors  uint64        `json:"errors"`
	Total   time.Duration `json:"total_ns"`
	Threads []ThreadCalls `json:"threads"`
	// Buckets[i] counts the calls whose duration in nanoseconds has bit
	// length i: bucket 0 is 0ns, bucket i is [2^(i-1), 2^i) ns.
	Buckets [nBuckets]uint64 `json:"-"`
}

// ThreadCalls is how often a function ran on one thread.
type ThreadCalls struct {
	TID   int    `json:"tid"`
	Calls uint64 `json:"calls"`
}

// BucketBound returns the exclusive upper bound of histogram bucket i.
func BucketBound(i int) time.Duration {
	if i >= 63 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(uint64(1) << uint(i))
}

// HistogramTotal returns the sum of the buckets: the calls timed.
func (f *FunctionStats) HistogramTotal() uint64 {
	var n uint64
	for _, b := range f.Buckets {
		n += b
	}
	return n
}

// Mean returns the mean duration, 0 without calls.
func (f *FunctionStats) Mean() time.Duration {
	if f.Calls == 0 {
		return 0
	}
	return f.Total / time.Duration(f.Calls)
}

// Quantile returns an upper bound of quantile q (0 < q <= 1) of the
// durations: the upper bound of the bucket where it falls, so it is at
// most twice the true value. 0 without calls.
func (f *FunctionStats) Quantile(q float64) time.Duration {
	n := f.HistogramTotal()
	if n == 0 {
		return 0
	}
	want := uint64(math.Ceil(q * float64(n)))
	if want < 1 {
		want = 1
	}
	var cum uint64
	for i, b := range f.Buckets {
		cum += b
		if cum >= want {
			return BucketBound(i)
		}
	}
	return BucketBound(nBuckets - 1)
}

func (f *FunctionStats) add(o *FunctionStats) {
	f.Calls += o.Calls
	f.Errors += o.Errors
	f.Total += o.Total
	for i := range f.Buckets {
		f.Buckets[i] += o.Buckets[i]
	}
	byTID := map[int]int{}
	for i, t := range f.Threads {
		byTID[t.TID] = i
	}
	for _, t := range o.Threads {
		if i, ok := byTID[t.TID]; ok {
			f.Threads[i].Calls += t.Calls
		} else {
			f.Threads = append(f.Threads, t)
		}
	}
}

// histogramJSON is one non-empty bucket in JSON.
type histogramJSON struct {
	LtNs  uint64 `json:"lt_ns"`
	Count uint64 `json:"count"`
}

// MarshalJSON adds the derived figures and the non-empty buckets.
func (f FunctionStats) MarshalJSON() ([]byte, error) {
	type plain FunctionStats
	h := []histogramJSON{}
	for i, b := range f.Buckets {
		if b != 0 {
			h = append(h, histogramJSON{LtNs: uint64(BucketBound(i)), Count: b})
		}
	}
	threads := f.Threads
	if threads == nil {
		threads = []ThreadCalls{}
	}
	p := plain(f)
	p.Threads = threads
	return json.Marshal(struct {
		plain
		ThreadCount int             `json:"thread_count"`
		MeanNs      int64           `json:"mean_ns"`
		P50Ns       int64           `json:"p50_ns"`
		P99Ns       int64           `json:"p99_ns"`
		Histogram   []histogramJSON `json:"histogram"`
	}{p, len(f.Threads), int64(f.Mean()), int64(f.Quantile(0.5)), int64(f.Quantile(0.99)), h})
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (f *FunctionStats) UnmarshalJSON(b []byte) error {
	type plain FunctionStats
	var v struct {
		plain
		Histogram []histogramJSON `json:"histogram"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = FunctionStats(v.plain)
	for _, h := range v.Histogram {
		for i := range f.Buckets {
			if uint64(BucketBound(i)) == h.LtNs {
				f.Buckets[i] = h.Count
			}
		}
	}
	return nil
}

func sortStats(s []FunctionStats) {
	sort.Slice(s, func(i, j int) bool {
		a, b := s[i], s[j]
		if a.Module != b.Module {
			return a.Module < b.Module
		}
		if a.Function != b.Function {
			return a.Function < b.Function
		}
		return a.Object < b.Object
	})
}

// EventKind tells what an Event is.
type EventKind int

// The kinds of Event.
const (
	// CallEvent is one call of a probed function.
	CallEvent EventKind = 1
	// GuardedCallEvent is one guarded call that carried a trace id (the
	// module runs with observe.Tracing), seen at the trampoline: its C part.
	GuardedCallEvent EventKind = 2
)

func (k EventKind) String() string {
	switch k {
	case CallEvent:
		return "call"
	case GuardedCallEvent:
		return "guarded_call"
	}
	return "unknown"
}

// Event is one interval seen by the probes (WithTrace).
type Event struct {
	Kind EventKind
	TID  int
	// Module as in FunctionStats; Function and Object name the probed
	// function, or for a guarded call the C function it ran.
	Module, Function, Object string
	// Start and End are CLOCK_MONOTONIC readings (bpf_ktime_get_ns), the
	// clock Go's runtime reads too (see ClockOffset): taken when the
	// uprobe fired and when the uretprobe fired.
	Start, End time.Duration
	// Ret is the function's return register; for a guarded call, the C
	// function's int result.
	Ret int64
	// NotRun is true for a guarded call that found its module closed.
	NotRun bool
	// TraceID is the guarded call's trace id (GuardedCallEvent).
	TraceID [16]byte
}

// Duration returns End - Start.
func (e Event) Duration() time.Duration { return e.End - e.Start }
