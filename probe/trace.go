package probe

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// TraceWriter writes events as Chrome trace-event JSON (the JSON Object
// Format, which Perfetto and chrome://tracing open): one complete ("X")
// event per interval, on a track per thread, timestamps in microseconds of
// CLOCK_MONOTONIC. Guarded calls are named "cgoguard.call <module>", as
// the spans of observe.Tracing, and carry the trace id; C calls are named
// by their function. Its methods are safe for concurrent use.
type TraceWriter struct {
	mu      sync.Mutex
	w       *bufio.Writer
	c       io.Closer
	pid     int
	threads map[int]bool
	n       int
	err     error
	closed  bool
}

// TraceMeta is what NewTraceWriter records in the trace's otherData.
type TraceMeta struct {
	PID     int          `json:"pid"`
	Command string       `json:"command,omitempty"`
	Clock   *ClockOffset `json:"clock,omitempty"`
}

// NewTraceWriter starts a trace on w. Close ends the JSON (and closes w if
// it is an io.Closer).
func NewTraceWriter(w io.Writer, meta TraceMeta) (*TraceWriter, error) {
	t := &TraceWriter{w: bufio.NewWriterSize(w, 64<<10), pid: meta.PID, threads: map[int]bool{}}
	if c, ok := w.(io.Closer); ok {
		t.c = c
	}
	other := map[string]any{
		"producer":   "cgoguard probe",
		"clock":      "CLOCK_MONOTONIC (bpf_ktime_get_ns); ts in microseconds",
		"pid":        meta.PID,
		"started_at": time.Now().UTC().Format(time.RFC3339Nano),
	}
	if meta.Clock != nil {
		other["ktime_minus_go_monotonic_ns"] = int64(meta.Clock.Offset)
		other["ktime_minus_go_monotonic_uncertainty_ns"] = int64(meta.Clock.Uncertainty)
		other["realtime_minus_monotonic_ns"] = int64(meta.Clock.RealtimeMinusMonotonic)
	}
	ob, err := json.Marshal(other)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(t.w, "{\"displayTimeUnit\":\"ns\",\"otherData\":%s,\"traceEvents\":[\n", ob)
	name := meta.Command
	if name == "" {
		name = processName(meta.PID)
	}
	t.emit(map[string]any{"name": "process_name", "ph": "M", "pid": meta.PID, "tid": meta.PID,
		"args": map[string]any{"name": fmt.Sprintf("%s (pid %d)", name, meta.PID)}})
	return t, t.w.Flush()
}

// Write adds one event.
func (t *TraceWriter) Write(e Event) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return errors.New("cgoguard: probe: trace writer closed")
	}
	if !t.threads[e.TID] {
		t.threads[e.TID] = true
		t.emit(map[string]any{"name": "thread_name", "ph": "M", "pid": t.pid, "tid": e.TID,
			"args": map[string]any{"name": threadName(t.pid, e.TID)}})
	}
	var b strings.Builder
	b.WriteString(`{"ph":"X","pid":`)
	b.WriteString(strconv.Itoa(t.pid))
	b.WriteString(`,"tid":`)
	b.WriteString(strconv.Itoa(e.TID))
	b.WriteString(`,"ts":`)
	b.WriteString(micros(e.Start))
	b.WriteString(`,"dur":`)
	b.WriteString(micros(e.Duration()))
	args := map[string]any{}
	var name, cat string
	switch e.Kind {
	case GuardedCallEvent:
		name, cat = "cgoguard.call "+e.Module, "cgoguard"
		args["trace_id"] = hex.EncodeToString(e.TraceID[:])
		args["module"] = e.Module
		args["function"] = e.Function
		args["rc"] = e.Ret
		if e.NotRun {
			args["not_run"] = "module closed"
		}
	default:
		name, cat = e.Function, "c"
		args["module"] = e.Module
		args["object"] = filepath.Base(e.Object)
		args["ret"] = e.Ret
	}
	nb, _ := json.Marshal(name)
	ab, _ := json.Marshal(args)
	fmt.Fprintf(&b, `,"name":%s,"cat":%q,"args":%s}`, nb, cat, ab)
	t.line(b.String())
	return t.err
}

func (t *TraceWriter) emit(v map[string]any) {
	b, err := json.Marshal(v)
	if err != nil {
		t.err = err
		return
	}
	t.line(string(b))
}

func (t *TraceWriter) line(s string) {
	if t.err != nil {
		return
	}
	if t.n > 0 {
		t.w.WriteString(",\n")
	}
	t.n++
	_, t.err = t.w.WriteString(s)
}

// Events returns how many trace events were written, metadata included.
func (t *TraceWriter) Events() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}

// Close ends the JSON, flushes it and closes the underlying writer.
func (t *TraceWriter) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	if t.err == nil {
		_, t.err = t.w.WriteString("\n]}\n")
	}
	if err := t.w.Flush(); t.err == nil {
		t.err = err
	}
	if t.c != nil {
		if err := t.c.Close(); t.err == nil {
			t.err = err
		}
	}
	return t.err
}

// micros formats a duration in microseconds with nanosecond precision.
func micros(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	s := strconv.FormatInt(int64(d/1000), 10) + "." + fmt.Sprintf("%03d", int64(d%1000))
	if neg {
		s = "-" + s
	}
	return s
}

func processName(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil {
		return "process"
	}
	return strings.TrimSpace(string(b))
}

func threadName(pid, tid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/comm", pid, tid))
	if err != nil {
		return "thread " + strconv.Itoa(tid)
	}
	return fmt.Sprintf("%s (tid %d)", strings.TrimSpace(string(b)), tid)
}
