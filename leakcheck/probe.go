package leakcheck

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cgoguard/cgoguard/cmem"
	"github.com/cgoguard/cgoguard/handles"
)

// sampleGap is the pause between two readings of the C heap.
const sampleGap = 50 * time.Microsecond

// pause waits for d without sleeping: a timer sleep on Linux lasts at
// least a millisecond, twenty times the gap wanted here.
func pause(d time.Duration) {
	for t0 := time.Now(); time.Since(t0) < d; {
		runtime.Gosched()
	}
}

// snapshot is the state of the watched resources at one moment. Maps hold
// the identity of each item so that new ones can be named.
type snapshot struct {
	cheap      int64
	fds        map[string]string // fd number -> link target
	threads    map[string]bool   // task id
	goroutines map[string]string // goroutine id -> normalized stack
	handles    int64
	tracked    int64
	trackedN   int64
}

// take reads the kinds in o. The C heap is read o.samples times and the
// least reading kept.
func take(o *options, unmeasured map[Kind]error) (*snapshot, error) {
	s := &snapshot{}
	var err error
	if o.kinds[KindCHeap] && unmeasured[KindCHeap] == nil {
		s.cheap = -1
		for i := 0; i < o.samples; i++ {
			if i > 0 {
				// Readings taken back to back catch another thread at the
				// same point of its work; spaced out, they catch it at
				// different points, and the least is close to what it
				// holds at rest.
				pause(sampleGap)
			}
			v, cerr := cHeapBytes()
			if cerr != nil {
				unmeasured[KindCHeap] = cerr
				break
			}
			if s.cheap < 0 || v < s.cheap {
				s.cheap = v
			}
		}
	}
	if o.kinds[KindFD] {
		if s.fds, err = readFDs(); err != nil {
			return nil, err
		}
	}
	if o.kinds[KindThread] {
		if s.threads, err = readTasks(); err != nil {
			return nil, err
		}
	}
	if o.kinds[KindGoroutine] {
		s.goroutines = goroutines()
	}
	if o.kinds[KindHandle] {
		s.handles = handles.Live()
	}
	if o.kinds[KindTracked] {
		s.trackedN, s.tracked = cmem.Live()
	}
	return s, nil
}

func readFDs() (map[string]string, error) {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil, fmt.Errorf("cgoguard: leakcheck reads open descriptors from /proc/self/fd: %w", err)
	}
	self := fmt.Sprintf("/proc/%d/fd", os.Getpid())
	m := make(map[string]string, len(ents))
	for _, e := range ents {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil {
			continue // closed while we looked: the ReadDir descriptor itself
		}
		if target == self {
			continue
		}
		m[e.Name()] = target
	}
	return m, nil
}

func readTasks() (map[string]bool, error) {
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, fmt.Errorf("cgoguard: leakcheck reads threads from /proc/self/task: %w", err)
	}
	m := make(map[string]bool, len(ents))
	for _, e := range ents {
		m[e.Name()] = true
	}
	return m, nil
}

func threadName(tid string) string {
	b, err := os.ReadFile("/proc/self/task/" + tid + "/comm")
	if err != nil {
		return "(exited)"
	}
	return strings.TrimSpace(string(b))
}

var (
	goHeader  = regexp.MustCompile(`^goroutine (\d+) \[([^\],]*)[^\]]*\]:`)
	goOffset  = regexp.MustCompile(` \+0x[0-9a-f]+$`)
	goCreated = regexp.MustCompile(` in goroutine \d+$`)
)

// goroutines returns every goroutine but the caller's, by id, with its
// stack normalized (state kept; arguments, PC offsets and creator ids
// dropped) so that goroutines blocked at the same place compare equal.
func goroutines() map[string]string {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	m := map[string]string{}
	for i, block := range bytes.Split(buf, []byte("\n\n")) {
		lines := strings.Split(strings.TrimSpace(string(block)), "\n")
		h := goHeader.FindStringSubmatch(lines[0])
		if h == nil || i == 0 { // the first goroutine is the one calling runtime.Stack
			continue
		}
		var sb strings.Builder
		sb.WriteString("[" + h[2] + "]")
		for _, l := range lines[1:] {
			if strings.HasPrefix(l, "\t") {
				l = goOffset.ReplaceAllString(l, "")
			} else {
				l = goCreated.ReplaceAllString(stripArgs(l), "")
			}
			sb.WriteString("\n" + l)
		}
		m[h[1]] = sb.String()
	}
	return m
}

// newItems groups what is in after and not in before by description, most
// first.
func newItems(before, after map[string]string) []itemCount {
	counts := map[string]int{}
	for k, v := range after {
		if old, ok := before[k]; !ok || old != v {
			counts[v]++
		}
	}
	return sortCounts(counts)
}

type itemCount struct {
	what  string
	count int
}

func sortCounts(counts map[string]int) []itemCount {
	out := make([]itemCount, 0, len(counts))
	for w, n := range counts {
		out = append(out, itemCount{w, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].count != out[j].count {
			return out[i].count > out[j].count
		}
		return out[i].what < out[j].what
	})
	return out
}

func newThreads(before, after map[string]bool) []itemCount {
	counts := map[string]int{}
	for tid := range after {
		if !before[tid] {
			counts["thread "+threadName(tid)]++
		}
	}
	return sortCounts(counts)
}

func siteKey(function, file string, line int) string {
	return function + " (" + file + ":" + strconv.Itoa(line) + ")"
}

// handleSites returns the live handles per creation site.
func handleSites() map[string]int64 {
	m := map[string]int64{}
	for _, s := range handles.Sites() {
		m[siteKey(s.Function, s.File, s.Line)] += int64(s.Live)
	}
	return m
}

// trackedSites returns live cmem allocations and bytes per call site.
func trackedSites() map[string][2]int64 {
	m := map[string][2]int64{}
	for _, s := range cmem.Sites() {
		k := siteKey(s.Function, s.File, s.Line)
		v := m[k]
		m[k] = [2]int64{v[0] + s.Allocs, v[1] + s.Bytes}
	}
	return m
}

// stripArgs turns "pkg.(*T).f(0xc000012345, 0x1)" into "pkg.(*T).f(...)":
// argument values differ between goroutines blocked at the same place.
func stripArgs(l string) string {
	if !strings.HasSuffix(l, ")") {
		return l
	}
	depth := 0
	for i := len(l) - 1; i >= 0; i-- {
		switch l[i] {
		case ')':
			depth++
		case '(':
			depth--
			if depth == 0 {
				if i+2 == len(l) {
					return l // no arguments
				}
				return l[:i] + "(...)"
			}
		}
	}
	return l
}
