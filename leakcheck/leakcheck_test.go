package leakcheck_test

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/cgoguard/cgoguard/cmem"
	"github.com/cgoguard/cgoguard/handles"
	"github.com/cgoguard/cgoguard/leakcheck"
	"github.com/cgoguard/cgoguard/leakcheck/internal/leaky"
)

func checkLines(t *testing.T, r *leakcheck.Report) {
	t.Helper()
	for _, l := range strings.Split(strings.TrimSuffix(r.String(), "\n"), "\n") {
		if !strings.HasPrefix(l, "leakcheck: ") {
			t.Errorf("report line %q does not start with \"leakcheck: \"", l)
		}
	}
}

var (
	cmemMu   sync.Mutex
	cmemHeld []unsafe.Pointer
)

func cmemLeak() {
	p, err := cmem.Malloc(48)
	if err != nil {
		panic(err)
	}
	cmemMu.Lock()
	cmemHeld = append(cmemHeld, p)
	cmemMu.Unlock()
}

func cmemRelease() {
	cmemMu.Lock()
	defer cmemMu.Unlock()
	for _, p := range cmemHeld {
		cmem.Free(p)
	}
	cmemHeld = nil
}

// TestDetectsLeaks: each fixture leaks one kind per call and must be found
// within 1,000 iterations, with the leaked things named.
func TestDetectsLeaks(t *testing.T) {
	tests := []struct {
		name     string
		fn       func()
		release  func()
		kind     leakcheck.Kind
		perIter  func(*leakcheck.Report) float64
		min, max float64
		what     string
		needC    bool
	}{
		{"64 bytes of C heap per call", leaky.Malloc64, leaky.ReleaseHeap, leakcheck.KindCHeap,
			func(r *leakcheck.Report) float64 { return r.CHeapBytesPerIter }, 64, 96, "C heap", true},
		{"one descriptor per call", leaky.OpenFD, leaky.ReleaseFDs, leakcheck.KindFD,
			func(r *leakcheck.Report) float64 { return r.FDsPerIter }, 0.95, 1.05, "descriptor to /dev/null", true},
		{"one thread per call", leaky.Thread, leaky.ReleaseThreads, leakcheck.KindThread,
			func(r *leakcheck.Report) float64 { return r.ThreadsPerIter }, 0.95, 1.05, "thread ", true},
		{"one goroutine per call", leaky.Goroutine, leaky.ReleaseGoroutines, leakcheck.KindGoroutine,
			func(r *leakcheck.Report) float64 { return r.GoroutinesPerIter }, 0.95, 1.05, "leaky.Goroutine.func1", false},
		{"one handle per call", leaky.Handle, leaky.ReleaseHandles, leakcheck.KindHandle,
			func(r *leakcheck.Report) float64 { return r.HandlesPerIter }, 0.95, 1.05, "leaky.Handle (", true},
		{"one cmem block per call", cmemLeak, cmemRelease, leakcheck.KindTracked,
			func(r *leakcheck.Report) float64 { return r.TrackedBytesPerIter }, 48, 48, "leakcheck_test.cmemLeak (", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.needC && !leaky.Available {
				t.Skip("fixture needs cgo")
			}
			defer tc.release()
			r, err := leakcheck.Measure(tc.fn, leakcheck.Iterations(1000))
			if err != nil {
				t.Fatal(err)
			}
			checkLines(t, r)
			if !r.Leaked() {
				t.Fatalf("leak not found:\n%s", r)
			}
			if got := tc.perIter(r); got < tc.min || got > tc.max {
				t.Fatalf("%s grew %.3f per iteration, want %.2f..%.2f\n%s", tc.kind, got, tc.min, tc.max, r)
			}
			found := false
			for _, l := range r.Leaks {
				if l.Kind == tc.kind && strings.Contains(l.What, tc.what) {
					found = true
				}
			}
			if !found {
				t.Fatalf("no %s leak naming %q:\n%s", tc.kind, tc.what, r)
			}
			if r.Trials != 3 {
				t.Fatalf("a real leak ran %d trials, want all 3", r.Trials)
			}
		})
	}
}

// TestCleanFunctions: ten functions that give back everything they take,
// one of them measured while a C thread mallocs and frees continuously.
func TestCleanFunctions(t *testing.T) {
	var sink []byte
	devnull := func() {
		f, err := os.Open(os.DevNull)
		if err != nil {
			panic(err)
		}
		f.Close()
	}
	tests := []struct {
		name  string
		fn    func()
		needC bool
		churn bool
	}{
		{"empty", func() {}, false, false},
		{"Go allocation", func() { sink = make([]byte, 1024) }, false, false},
		{"C malloc and free", func() { leaky.MallocFree(64) }, true, false},
		{"cmem CString and Free", func() {
			p, _ := cmem.CString("clean")
			cmem.Free(p)
		}, true, false},
		{"open and close a file", devnull, false, false},
		{"goroutine joined", func() {
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { defer wg.Done(); sink = make([]byte, 8) }()
			wg.Wait()
		}, false, false},
		{"handle created and deleted", func() {
			h := handles.New(42)
			h.Delete()
		}, false, false},
		{"C thread joined", leaky.ThreadJoin, true, false},
		{"formatting and maps", func() {
			m := map[string]int{}
			for i := 0; i < 8; i++ {
				m[fmt.Sprint(i)] = i
			}
			sink = []byte(fmt.Sprint(m))
		}, false, false},
		{"C malloc and free beside a churning thread", func() { leaky.MallocFree(256) }, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.needC && !leaky.Available {
				t.Skip("fixture needs cgo")
			}
			if tc.churn {
				stop := leaky.StartChurn()
				defer func() {
					if rounds := stop(); rounds == 0 {
						t.Error("the churning thread never ran")
					}
				}()
			}
			r, err := leakcheck.Measure(tc.fn)
			if err != nil {
				t.Fatal(err)
			}
			checkLines(t, r)
			if r.Leaked() {
				t.Fatalf("clean function reported as leaking:\n%s", r)
			}
		})
	}
	_ = sink
}

func TestOptionErrors(t *testing.T) {
	tests := []struct {
		name string
		opt  leakcheck.Option
		want string
	}{
		{"zero iterations", leakcheck.Iterations(0), "iterations 0 must be at least 1"},
		{"negative warmup", leakcheck.Warmup(-1), "warmup -1"},
		{"zero trials", leakcheck.Trials(0), "trials 0"},
		{"zero samples", leakcheck.Samples(0), "samples 0"},
		{"negative settle", leakcheck.Settle(-1), "settle time"},
		{"unknown kind limit", leakcheck.Limit("memory", 1), `no kind "memory"`},
		{"negative limit", leakcheck.Limit(leakcheck.KindFD, -1), "must be a number >= 0"},
		{"empty Only", leakcheck.Only(), "at least one kind"},
		{"unknown Ignore", leakcheck.Ignore("sockets"), `no kind "sockets"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := leakcheck.Measure(func() {}, tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "cgoguard: ") {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := leakcheck.Measure(nil); err != leakcheck.ErrNilFunc {
		t.Fatalf("Measure(nil) = %v", err)
	}
}

func TestOnlyAndLimit(t *testing.T) {
	defer leaky.ReleaseGoroutines()
	// The goroutine leak is outside the kinds asked for: no leak.
	r, err := leakcheck.Measure(leaky.Goroutine, leakcheck.Only(leakcheck.KindFD), leakcheck.Iterations(100), leakcheck.Warmup(0))
	if err != nil {
		t.Fatal(err)
	}
	if r.Leaked() || strings.Contains(r.String(), "goroutine") {
		t.Fatalf("Only(fd) still checked goroutines:\n%s", r)
	}
	// A limit above the growth lets it pass, and the report says so.
	r, err = leakcheck.Measure(leaky.Goroutine, leakcheck.Limit(leakcheck.KindGoroutine, 2), leakcheck.Iterations(100), leakcheck.Warmup(0), leakcheck.Ignore(leakcheck.KindCHeap))
	if err != nil {
		t.Fatal(err)
	}
	if r.Leaked() || r.GoroutinesPerIter < 0.9 || r.GoroutinesPerIter > 1.1 {
		t.Fatalf("limit 2 per iteration, growth %.2f, leaked %v:\n%s", r.GoroutinesPerIter, r.Leaked(), r)
	}
}

// fakeTB records what Check reports.
type fakeTB struct {
	testing.TB
	errors []string
	fatal  bool
}

func (f *fakeTB) Helper()                   {}
func (f *fakeTB) Error(args ...any)         { f.errors = append(f.errors, fmt.Sprint(args...)) }
func (f *fakeTB) Errorf(s string, a ...any) { f.errors = append(f.errors, fmt.Sprintf(s, a...)) }
func (f *fakeTB) Fatalf(s string, a ...any) { f.fatal = true; f.Errorf(s, a...) }

func TestCheck(t *testing.T) {
	defer leaky.ReleaseGoroutines()
	ft := &fakeTB{}
	leakcheck.Check(ft, leaky.Goroutine, leakcheck.Iterations(200), leakcheck.Warmup(0), leakcheck.Ignore(leakcheck.KindCHeap))
	if len(ft.errors) != 1 || ft.fatal {
		t.Fatalf("Check reported %d errors (fatal %v), want one", len(ft.errors), ft.fatal)
	}
	msg := ft.errors[0]
	for _, want := range []string{"leakcheck: LEAK", "leakcheck:   goroutine", "leakcheck: goroutine: ", "leaky.Goroutine.func1"} {
		if !strings.Contains(msg, want) {
			t.Errorf("report lacks %q:\n%s", want, msg)
		}
	}
	// The 200 new goroutines may be split by state on a loaded machine
	// (some not yet started when the snapshot is taken): their groups add up.
	newGoroutines := 0
	for _, m := range regexp.MustCompile(`leakcheck: goroutine: (\d+) new`).FindAllStringSubmatch(msg, -1) {
		n, _ := strconv.Atoi(m[1])
		newGoroutines += n
	}
	if newGoroutines != 200 {
		t.Errorf("report lists %d new goroutines, want 200:\n%s", newGoroutines, msg)
	}
	for _, l := range strings.Split(strings.TrimSpace(msg), "\n") {
		if !strings.HasPrefix(l, "leakcheck: ") {
			t.Errorf("line %q does not start with leakcheck:", l)
		}
	}
	clean := &fakeTB{}
	leakcheck.Check(clean, func() {})
	if len(clean.errors) != 0 {
		t.Fatalf("Check failed a clean function: %v", clean.errors)
	}
	bad := &fakeTB{}
	leakcheck.Check(bad, func() {}, leakcheck.Trials(0))
	if !bad.fatal || !strings.HasPrefix(bad.errors[0], "leakcheck: cgoguard: ") {
		t.Fatalf("Check with a bad option: %v", bad.errors)
	}
}
