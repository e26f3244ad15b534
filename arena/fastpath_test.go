package arena_test

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"unsafe"

	"github.com/cgoguard/cgoguard/arena"
	"github.com/cgoguard/cgoguard/arena/internal/cfix"
)

// TestAllocPaths runs one sequence of allocations, which mixes blocks the
// fast path takes (up to 1 KiB, alignment up to 8) with blocks it leaves to
// the compare-and-swap, once with the fast path on and once with it off:
// both must hand out exactly the same blocks and refuse the same requests.
func TestAllocPaths(t *testing.T) {
	type step struct {
		n, align int
		err      error // nil, or what errors.Is must match
		bad      bool  // a non-sentinel error (bad size or alignment)
	}
	steps := []step{
		{n: 1, align: 0}, {n: 1, align: 1}, {n: 3, align: 2}, {n: 5, align: 4}, {n: 8, align: 8},
		{n: 9, align: 8}, {n: 64, align: 16}, {n: 1023, align: 8}, {n: arena.FastMaxForTest, align: 8},
		{n: arena.FastMaxForTest + 1, align: 8}, {n: 7, align: 4096}, {n: 100, align: 64},
		{n: 0, align: 8, bad: true}, {n: -1, align: 8, bad: true}, {n: 8, align: 3, bad: true},
		{n: 8, align: -8, bad: true}, {n: 8, align: 8192, bad: true}, {n: 8, align: 6, bad: true},
		{n: 24, align: 0}, {n: 1 << 20, align: 8, err: arena.ErrExhausted},
	}
	type result struct {
		ref  arena.Ref
		used int64
		err  string
	}
	run := func(t *testing.T, fast bool) []result {
		a := newArena(t, 64<<10)
		if !fast {
			arena.DisableFastPathForTest(a)
		}
		var out []result
		prevEnd := uint64(4096)
		for i, s := range steps {
			ref, buf, err := a.Alloc(s.n, s.align)
			switch {
			case s.bad:
				if err == nil || errors.Is(err, arena.ErrExhausted) || errors.Is(err, arena.ErrClosed) {
					t.Fatalf("step %d Alloc(%d, %d): err %v, want a bad-argument error", i, s.n, s.align, err)
				}
			case s.err != nil:
				if !errors.Is(err, s.err) {
					t.Fatalf("step %d Alloc(%d, %d): err %v, want %v", i, s.n, s.align, err, s.err)
				}
			case err != nil:
				t.Fatalf("step %d Alloc(%d, %d): %v", i, s.n, s.align, err)
			default:
				align := max(s.align, 8)
				if len(buf) != s.n || cap(buf) != s.n || ref.Len() != uint64(s.n) {
					t.Fatalf("step %d: len %d cap %d ref len %d, want %d", i, len(buf), cap(buf), ref.Len(), s.n)
				}
				if ref.Offset()%uint64(align) != 0 || uintptr(unsafe.Pointer(&buf[0]))%uintptr(align) != 0 {
					t.Fatalf("step %d: offset %d / address %p not %d-aligned", i, ref.Offset(), &buf[0], align)
				}
				if want := (prevEnd + uint64(align) - 1) &^ uint64(align-1); ref.Offset() != want {
					t.Fatalf("step %d: offset %d, want %d (previous block ended at %d)", i, ref.Offset(), want, prevEnd)
				}
				prevEnd = ref.Offset() + (ref.Len()+7)&^7
				got, rerr := a.Resolve(ref)
				if rerr != nil || &got[0] != &buf[0] || len(got) != s.n {
					t.Fatalf("step %d: Resolve(%v) = %p len %d, %v; Alloc gave %p", i, ref, got, len(got), rerr, &buf[0])
				}
			}
			r := result{ref: ref, used: a.Stats().Used}
			if err != nil {
				r.err = err.Error()
			}
			out = append(out, r)
		}
		return out
	}
	fast, slow := run(t, true), run(t, false)
	for i := range steps {
		f, s := fast[i], slow[i]
		if f.ref.Offset() != s.ref.Offset() || f.ref.Len() != s.ref.Len() || f.ref.Generation() != s.ref.Generation() || f.used != s.used || f.err != s.err {
			t.Errorf("step %d Alloc(%d, %d): fast path %v used %d err %q; compare-and-swap %v used %d err %q",
				i, steps[i].n, steps[i].align, f.ref, f.used, f.err, s.ref, s.used, s.err)
		}
	}
}

// TestLostRace drives Alloc through what happens when its atomic add
// loses the race for the last units of the arena: the add is taken back
// when nothing touched the cursor since, left until the next Reset
// otherwise, and in every case nothing past the capacity is handed out.
func TestLostRace(t *testing.T) {
	const size = 1024 // 128 units
	tests := []struct {
		name    string
		between func(a *arena.Arena)
		// want after the lost race
		cursor    uint64 // units
		allocOK   bool   // whether a following Alloc(32, 8) fits
		sameGen   bool
		blockOK   bool // whether the racing Alloc itself got a block (after a Reset)
		highWater int64
	}{
		{name: "alone", cursor: 124, allocOK: true, sameGen: true},
		{name: "another lost race inside", between: func(a *arena.Arena) {
			if _, _, err := arena.LoseRaceForTest(a, 8, nil); !errors.Is(err, arena.ErrExhausted) {
				panic(fmt.Sprintf("inner lost race: %v", err))
			}
		}, cursor: 124, allocOK: true, sameGen: true},
		{name: "racing add outstanding", between: func(a *arena.Arena) {
			arena.AddForTest(a, 1)
		}, cursor: 124 + 8 + 1, allocOK: false, sameGen: true},
		{name: "reset in between", between: func(a *arena.Arena) {
			a.Reset()
		}, cursor: 8, allocOK: true, sameGen: false, blockOK: true, highWater: size},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newArena(t, size)
			arena.SetCursorForTest(a, 124) // 32 bytes free
			gen := a.Stats().Generation
			between := func() {
				if tt.between != nil {
					tt.between(a)
				}
			}
			ref, buf, err := arena.LoseRaceForTest(a, 64, between)
			if tt.blockOK {
				if err != nil || len(buf) != 64 || ref.Generation() != gen+1 || ref.Offset() != 4096 {
					t.Fatalf("after a Reset the racing Alloc got %v len %d, %v; want 64 bytes at 4096 in generation %d", ref, len(buf), err, gen+1)
				}
			} else if !errors.Is(err, arena.ErrExhausted) || buf != nil {
				t.Fatalf("lost race: %d bytes, %v; want ErrExhausted", len(buf), err)
			}
			s := arena.StateForTest(a)
			if cur := s & 0xffffffff; cur != tt.cursor {
				t.Fatalf("cursor %d units, want %d", cur, tt.cursor)
			}
			if sameGen := uint32(s>>32) == gen; sameGen != tt.sameGen {
				t.Fatalf("generation %d, started at %d", s>>32, gen)
			}
			st := a.Stats()
			if st.Used > st.Capacity || st.Used != int64(min(tt.cursor*8, size)) {
				t.Fatalf("Stats.Used %d (capacity %d), want %d", st.Used, st.Capacity, min(tt.cursor*8, size))
			}
			if st.HighWater < tt.highWater {
				t.Fatalf("HighWater %d, want at least %d", st.HighWater, tt.highWater)
			}
			if cfix.Available {
				if u := cfix.Used(a.CPtr()); u != st.Used {
					t.Fatalf("cg_arena_used %d, Stats.Used %d", u, st.Used)
				}
				if !tt.allocOK {
					if off := cfix.Alloc(a.CPtr(), 8, 8); off != -1 {
						t.Fatalf("cg_arena_alloc handed out offset %d past a cursor beyond the capacity", off)
					}
				}
			}
			// A ref just past the capacity is out of bounds whatever the cursor.
			past := arena.NewRef(a.ID(), st.Generation, 4096+size, 8)
			if _, err := a.Resolve(past); !errors.Is(err, arena.ErrOutOfBounds) {
				t.Fatalf("Resolve past the capacity: %v, want ErrOutOfBounds", err)
			}
			if cfix.Available && cfix.Resolve(a.CPtr(), past) != -1 {
				t.Fatal("cg_arena_resolve accepted a ref past the capacity")
			}
			_, b, err := a.Alloc(32, 8)
			if tt.allocOK != (err == nil) {
				t.Fatalf("Alloc(32, 8) after the race: %v, want success %v", err, tt.allocOK)
			}
			if err == nil && uintptr(unsafe.Pointer(&b[31]))-uintptr(a.CPtr()) >= 4096+size {
				t.Fatal("block ends past the capacity")
			}
			if err != nil && !errors.Is(err, arena.ErrExhausted) {
				t.Fatal(err)
			}
			// Reset always recovers the whole arena.
			a.Reset()
			if st := a.Stats(); st.Used != 0 || st.HighWater < int64(min(tt.cursor*8, size)) {
				t.Fatalf("after Reset: %+v", st)
			}
			if _, _, err := a.Alloc(size, 8); err != nil {
				t.Fatalf("whole arena after Reset: %v", err)
			}
		})
	}
}

// TestExhaustionUnderContention fills small arenas from goroutines (fast
// path and compare-and-swap) and C threads at once until every one of them
// is refused: no block overlaps another or passes the capacity, every
// block keeps what its writer put there, and the arena ends up full.
func TestExhaustionUnderContention(t *testing.T) {
	const (
		size       = 256 << 10
		goroutines = 4
		cThreads   = 2
		rounds     = 40
	)
	type block struct {
		ref      arena.Ref
		tag, seq int
	}
	for round := 0; round < rounds; round++ {
		a := newArena(t, size)
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			all   []block
			cRefs [][]arena.Ref
		)
		if cfix.Available {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cRefs = cfix.AllocThreads(a.CPtr(), cThreads, size/24, 24, 8, 100)
			}()
		}
		// The goroutines start together, so they are still racing when the
		// arena runs out, and now and then an add loses the race for the
		// last units (TestLostRace covers that case deterministically).
		start := make(chan struct{})
		for g := 0; g < goroutines; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				var mine []block
				sizes := []int{8, 40, 64, 200, arena.FastMaxForTest, 56}
				aligns := []int{8, 0, 8, 16, 4, 1}
				for i, refused := 0, 0; refused < 3; i++ {
					n, al := sizes[(i+g)%len(sizes)], aligns[i%len(aligns)]
					if refused > 0 {
						n = 8 // only the smallest blocks once the arena is nearly full
					}
					ref, b, err := a.Alloc(n, al)
					if errors.Is(err, arena.ErrExhausted) {
						refused++
						continue
					}
					if err != nil {
						t.Error(err)
						return
					}
					for j := range b {
						b[j] = cfix.Pattern(g, i, j)
					}
					mine = append(mine, block{ref, g, i})
				}
				mu.Lock()
				all = append(all, mine...)
				mu.Unlock()
			}()
		}
		close(start)
		wg.Wait()
		for tIdx, refs := range cRefs {
			for i, r := range refs {
				all = append(all, block{r, 100 + tIdx, i})
			}
		}
		sort.Slice(all, func(i, j int) bool { return all[i].ref.Offset() < all[j].ref.Offset() })
		end := uint64(4096)
		for i, blk := range all {
			r := blk.ref
			if r.Offset() < 4096 || r.Offset()+r.Len() > 4096+size {
				t.Fatalf("round %d: block %v outside the data area [4096, %d)", round, r, 4096+size)
			}
			if r.Offset() < end {
				t.Fatalf("round %d: %v overlaps %v", round, r, all[i-1].ref)
			}
			// Between blocks there is at most alignment padding (8 bytes
			// before a 16-aligned block): a lost race never leaves a hole.
			if r.Offset()-end > 8 {
				t.Fatalf("round %d: hole of %d bytes before %v", round, r.Offset()-end, r)
			}
			b, err := a.Resolve(r)
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			for j, v := range b {
				if v != cfix.Pattern(blk.tag, blk.seq, j) {
					t.Fatalf("round %d: block %v of writer %d byte %d overwritten", round, r, blk.tag, j)
				}
			}
			end = r.Offset() + (r.Len()+7)&^7
		}
		// Every allocator was refused, so what is left at the end is less
		// than 8 bytes, or less than the block of an add that lost the race
		// for the last units and could not be taken back.
		if tail := 4096 + size - end; tail >= arena.FastMaxForTest {
			t.Fatalf("round %d: %d bytes left at the end although every allocator was refused", round, tail)
		}
		st := a.Stats()
		if st.Used > st.Capacity || st.Exhausted == 0 {
			t.Fatalf("round %d: stats %+v", round, st)
		}
	}
}

// TestAllocNoGoHeap checks that allocating, on every path, allocates
// nothing on the Go heap: the Ref and the slice are returned by value and
// the memory is the arena's.
func TestAllocNoGoHeap(t *testing.T) {
	a := newArena(t, 64<<20)
	l, err := a.Local(0)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		alloc func() error
	}{
		{"Alloc fast path", func() error { _, _, err := a.Alloc(64, 8); return err }},
		{"Alloc compare-and-swap", func() error { _, _, err := a.Alloc(64, 64); return err }},
		{"Alloc over 1 KiB", func() error { _, _, err := a.Alloc(4000, 8); return err }},
		{"Local.Alloc", func() error { _, _, err := l.Alloc(64, 8); return err }},
		{"Local.Alloc aligned", func() error { _, _, err := l.Alloc(64, 256); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var failed error
			n := testing.AllocsPerRun(1000, func() {
				if err := tt.alloc(); err != nil && failed == nil {
					failed = err
				}
			})
			if failed != nil {
				t.Fatal(failed)
			}
			if n != 0 {
				t.Fatalf("%v Go heap allocations per call, want 0", n)
			}
		})
	}
}

// TestAllocAfterClose: every path of Alloc and Local.Alloc, fast or not,
// returns ErrClosed after Close instead of touching the unmapped memory.
func TestAllocAfterClose(t *testing.T) {
	a, err := arena.New(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	l, err := a.Local(0)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Alloc(8, 8); err != nil { // the Local now holds a chunk
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ n, align int }{{8, 8}, {64, 0}, {64, 64}, {4000, 8}, {0, 8}, {8, 3}} {
		if _, b, err := a.Alloc(c.n, c.align); !errors.Is(err, arena.ErrClosed) || b != nil {
			t.Errorf("Alloc(%d, %d) after Close: %d bytes, %v; want ErrClosed", c.n, c.align, len(b), err)
		}
		if _, b, err := l.Alloc(c.n, c.align); !errors.Is(err, arena.ErrClosed) || b != nil {
			t.Errorf("Local.Alloc(%d, %d) after Close: %d bytes, %v; want ErrClosed", c.n, c.align, len(b), err)
		}
	}
}
