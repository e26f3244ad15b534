package arena_test

import (
	"errors"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/cgoguard/cgoguard/arena"
	"github.com/cgoguard/cgoguard/arena/internal/cfix"
)

func TestLocal(t *testing.T) {
	a := newArena(t, 64<<10)
	l, err := a.Local(1024)
	if err != nil {
		t.Fatal(err)
	}
	r1, b1, err := l.Alloc(10, 0)
	if err != nil {
		t.Fatal(err)
	}
	r2, _, err := l.Alloc(100, 64)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Offset()%64 != 0 || r2.Offset() < r1.Offset()+16 {
		t.Fatalf("second block at %d after first at %d", r2.Offset(), r1.Offset())
	}
	if st := a.Stats(); st.Used != 1024 {
		t.Fatalf("used %d with one 1024-byte chunk reserved", st.Used)
	}
	copy(b1, "local")
	if got, err := a.Resolve(r1); err != nil || string(got[:5]) != "local" {
		t.Fatalf("Resolve of a Local block: %q, %v", got, err)
	}
	// A block bigger than the chunk gets its own reservation.
	if _, b, err := l.Alloc(4000, 8); err != nil || len(b) != 4000 {
		t.Fatalf("big block: %v", err)
	}
	l.Flush()
	usedAfterFlush := a.Stats().Used
	if _, _, err := a.Alloc(8, 8); err != nil { // Arena.Alloc still works beside it
		t.Fatal(err)
	}
	// Reset takes the chunk away; the Local notices and refs carry the new generation.
	a.Reset()
	r3, _, err := l.Alloc(8, 8)
	if err != nil || r3.Generation() != 2 {
		t.Fatalf("after Reset: %v, generation %d", err, r3.Generation())
	}
	if _, err := a.Resolve(r1); !errors.Is(err, arena.ErrStaleRef) {
		t.Fatalf("old Local ref after Reset: %v", err)
	}
	// Blocks at 0..16 and 64..168; the rest of the first chunk went back
	// when the 4000-byte block needed a reservation of its own.
	if usedAfterFlush != 168+4000 {
		t.Fatalf("Flush left used at %d, want %d", usedAfterFlush, 168+4000)
	}

	bad := []struct {
		chunk int
		want  string
	}{{-1, "out of range"}, {4, "out of range"}, {1 << 20, "out of range"}}
	for _, tc := range bad {
		if _, err := a.Local(tc.chunk); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Local(%d): %v", tc.chunk, err)
		}
	}
}

func TestLocalExhaustion(t *testing.T) {
	a := newArena(t, 1000)
	l, _ := a.Local(512)
	total := 0
	for {
		_, _, err := l.Alloc(24, 8)
		if errors.Is(err, arena.ErrExhausted) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		total += 24
	}
	if total != 984 { // 1000 rounded to 1000; 41 blocks of 24
		t.Fatalf("Local handed out %d bytes of a 1000-byte arena", total)
	}
}

// TestLocalsAndCConcurrently: Locals in several goroutines, Arena.Alloc and
// C threads at once; no block overlaps another.
func TestLocalsAndCConcurrently(t *testing.T) {
	needC(t)
	a := newArena(t, 4<<20)
	var mu sync.Mutex
	var spans []span
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for tn, refs := range cfix.AllocThreads(a.CPtr(), 2, 2000, 24, 8, 50) {
			mu.Lock()
			for i, r := range refs {
				spans = append(spans, span{r.Offset(), r.Offset() + r.Len(), "C"})
				b, _ := a.Resolve(r)
				if b[0] != cfix.Pattern(50+tn, i, 0) {
					t.Errorf("C block %d/%d overwritten", tn, i)
				}
			}
			mu.Unlock()
		}
	}()
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, _ := a.Local(256)
			var mine []span
			for i := 0; i < 3000; i++ {
				r, b, err := l.Alloc(8+i%40, 8)
				if err != nil {
					t.Error(err)
					return
				}
				b[0] = byte(g)
				mine = append(mine, span{r.Offset(), r.Offset() + r.Len(), "Go"})
			}
			l.Flush()
			mu.Lock()
			spans = append(spans, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	sort.Slice(spans, func(i, j int) bool { return spans[i].off < spans[j].off })
	for i := 1; i < len(spans); i++ {
		if spans[i].off < spans[i-1].end {
			t.Fatalf("%s block [%d,%d) overlaps %s block [%d,%d)", spans[i].who, spans[i].off, spans[i].end, spans[i-1].who, spans[i-1].off, spans[i-1].end)
		}
	}
}
