package probe

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

var updateGolden = flag.Bool("update", false, "rewrite golden files")

func TestParseMaps(t *testing.T) {
	in := `55d0c0a00000-55d0c0a40000 r--p 00000000 08:01 1234 /usr/bin/service
55d0c0a40000-55d0c0b00000 r-xp 00040000 08:01 1234 /usr/bin/service
7f0000000000-7f0000020000 r-xp 00002000 08:01 99 /usr/lib/x86_64-linux-gnu/libz.so.1.2.13
7f0000100000-7f0000101000 r-xp 00000000 00:00 0 [vdso]
7f0000200000-7f0000201000 rw-p 00000000 00:00 0
7f0000300000-7f0000310000 r-xp 00001000 08:01 77 /tmp/old lib.so (deleted)
`
	got, err := parseMaps(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []mapping{
		{start: 0x55d0c0a40000, end: 0x55d0c0b00000, off: 0x40000, path: "/usr/bin/service"},
		{start: 0x7f0000000000, end: 0x7f0000020000, off: 0x2000, path: "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13"},
		{start: 0x7f0000300000, end: 0x7f0000310000, off: 0x1000, path: "/tmp/old lib.so", deleted: true},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("mapping %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if _, err := parseMaps(strings.NewReader("zz-yy r-xp 0 0 0 /x\n")); err == nil {
		t.Error("a bad line was accepted")
	}
}

func TestPattern(t *testing.T) {
	tests := []struct {
		pat, object, name string
		match             bool
	}{
		{"inflate*", "libz.so.1", "inflateInit_", true},
		{"inflate*", "libz.so.1", "deflate", false},
		{"libz.so*:inflate", "libz.so.1.2.13", "inflate", true},
		{"libz.so*:inflate", "service", "inflate", false},
		{"exz_?ompress", "service", "exz_compress", true},
		{"[de]eflate", "libz.so.1", "deflate", true},
	}
	for _, tt := range tests {
		p, err := parsePattern(tt.pat)
		if err != nil {
			t.Fatalf("%q: %v", tt.pat, err)
		}
		if got := p.match(tt.object, tt.name); got != tt.match {
			t.Errorf("%q on %s:%s = %v, want %v", tt.pat, tt.object, tt.name, got, tt.match)
		}
	}
	for _, bad := range []string{"", " ", "inflate[", ":inflate", "libz:", "libz[:x"} {
		if _, err := parsePattern(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseModule(t *testing.T) {
	for _, bad := range []string{"zlib", "=inflate", "zlib=", "zlib=,,"} {
		if _, _, err := ParseModule(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if err := CheckOptions(WithModule("zlib", "inflate[")); err == nil {
		t.Error("bad glob accepted")
	}
	if err := CheckOptions(WithMaxFunctions(0)); err == nil {
		t.Error("0 functions accepted")
	}
	if err := CheckOptions(WithEventBuffer(100), WithStatusDir("/tmp"), WithFunctions("x")); err != nil {
		t.Error(err)
	}
}

// sample is a fixed snapshot for the output tests.
func sample() *Snapshot {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := FunctionStats{Module: "zlib", Function: "inflate", Object: "/usr/lib/libz.so.1.2.13", Offset: 0x2a40,
		Calls: 10, Errors: 1, Total: 100 * time.Microsecond,
		Threads: []ThreadCalls{{TID: 100, Calls: 6}, {TID: 101, Calls: 4}}}
	f.Buckets[13] = 9 // [4.1µs, 8.2µs)
	f.Buckets[15] = 1 // [16µs, 33µs)
	g := FunctionStats{Module: "", Function: "exz_version", Object: "/srv/service", Offset: 0x1000}
	return &Snapshot{PID: 42, Time: t0.Add(2 * time.Second), Started: t0, Elapsed: 2 * time.Second,
		Guarded: true, Functions: []FunctionStats{f, g}}
}

func TestQuantile(t *testing.T) {
	f := sample().Functions[0]
	if got := f.Quantile(0.5); got != 8192*time.Nanosecond {
		t.Errorf("p50 = %v", got)
	}
	if got := f.Quantile(0.99); got != 32768*time.Nanosecond {
		t.Errorf("p99 = %v", got)
	}
	if got := f.Mean(); got != 10*time.Microsecond {
		t.Errorf("mean = %v", got)
	}
	var empty FunctionStats
	if empty.Quantile(0.5) != 0 || empty.Mean() != 0 {
		t.Error("empty stats")
	}
}

func TestSnapshotJSON(t *testing.T) {
	s := sample()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Snapshot
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Functions[0].Buckets != s.Functions[0].Buckets || back.Functions[0].Calls != 10 {
		t.Errorf("round trip lost the histogram: %s", b)
	}
	for _, want := range []string{`"p99_ns":32768`, `"thread_count":2`, `"histogram":[{"lt_ns":8192,"count":9},{"lt_ns":32768,"count":1}]`, `"threads":[]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s: %s", want, b)
		}
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateGolden {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("differs from %s (run with -update):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestWriteTable(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b, sample(), nil); err != nil {
		t.Fatal(err)
	}
	golden(t, "table.golden", b.Bytes())
}

func TestTraceWriter(t *testing.T) {
	var b bytes.Buffer
	tw, err := NewTraceWriter(&b, TraceMeta{PID: 4194303, Command: "service", Clock: &ClockOffset{Offset: 120, Uncertainty: 7000}})
	if err != nil {
		t.Fatal(err)
	}
	tw.Write(Event{Kind: GuardedCallEvent, TID: 7, Module: "zlib", Function: "exz_compress", Start: 1_000_000, End: 1_050_000, TraceID: [16]byte{0xab, 15: 1}})
	tw.Write(Event{Kind: CallEvent, TID: 7, Module: "zlib", Function: "deflate", Object: "/usr/lib/libz.so.1", Start: 1_010_500, End: 1_040_250, Ret: 1})
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		TraceEvents []map[string]any `json:"traceEvents"`
		OtherData   map[string]any   `json:"otherData"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b.Bytes())
	}
	// process_name, thread_name, then the two intervals.
	if len(doc.TraceEvents) != 4 || tw.Events() != 4 {
		t.Fatalf("%d events: %s", len(doc.TraceEvents), b.Bytes())
	}
	g, c := doc.TraceEvents[2], doc.TraceEvents[3]
	if g["name"] != "cgoguard.call zlib" || g["ts"] != 1000.0 || g["dur"] != 50.0 || g["args"].(map[string]any)["trace_id"] != "ab000000000000000000000000000001" {
		t.Errorf("guarded call event %v", g)
	}
	if c["name"] != "deflate" || c["ts"] != 1010.5 || c["dur"] != 29.75 || c["tid"] != 7.0 {
		t.Errorf("call event %v", c)
	}
	if doc.OtherData["ktime_minus_go_monotonic_ns"] != 120.0 {
		t.Errorf("otherData %v", doc.OtherData)
	}
	if err := tw.Write(Event{}); err == nil {
		t.Error("write after close accepted")
	}
}

type fixedSnap struct{ s *Snapshot }

func (f fixedSnap) Snapshot() (*Snapshot, error) { return f.s, nil }

func TestCollector(t *testing.T) {
	s := sample()
	// A second object with the same module and function is summed.
	dup := s.Functions[0]
	dup.Object = "/opt/libz.so.1"
	dup.Calls, dup.Errors = 5, 0
	s.Functions = append(s.Functions, dup)
	c := Collector(fixedSnap{s})
	if n, err := testutil.GatherAndCount(prometheusRegistry(t, c), "cgoguard_probe_calls_total"); err != nil || n != 2 {
		t.Fatalf("%d series, %v", n, err)
	}
	want := `
# HELP cgoguard_probe_calls_total Calls of a probed C function, seen by uprobes.
# TYPE cgoguard_probe_calls_total counter
cgoguard_probe_calls_total{function="exz_version",module=""} 0
cgoguard_probe_calls_total{function="inflate",module="zlib"} 15
# HELP cgoguard_probe_errors_total Calls of a probed C function that returned a negative int.
# TYPE cgoguard_probe_errors_total counter
cgoguard_probe_errors_total{function="exz_version",module=""} 0
cgoguard_probe_errors_total{function="inflate",module="zlib"} 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "cgoguard_probe_calls_total", "cgoguard_probe_errors_total"); err != nil {
		t.Error(err)
	}
	if got := testutil.CollectAndCount(c, "cgoguard_probe_duration_seconds"); got != 2 {
		t.Errorf("%d duration series", got)
	}
}

func TestFormat(t *testing.T) {
	for d, want := range map[time.Duration]string{
		512: "512ns", 8192: "8.19µs", 1048576: "1.05ms", 3 * time.Second: "3s",
	} {
		if got := fmtDuration(d); got != want {
			t.Errorf("fmtDuration(%d) = %s, want %s", d, got, want)
		}
	}
	if micros(1234567) != "1234.567" || micros(5) != "0.005" || micros(-1500) != "-1.500" {
		t.Error(micros(1234567), micros(5), micros(-1500))
	}
}

func prometheusRegistry(t *testing.T, c prometheus.Collector) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	return reg
}
