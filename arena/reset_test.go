package arena_test

import (
	"errors"
	"sort"
	"sync"
	"testing"

	"github.com/cgoguard/cgoguard/arena"
)

// TestResetDuringAllocation resets the arena while goroutines allocate
// through Alloc and through Locals: blocks of one generation never overlap,
// and every generation a block claims is one the arena went through.
func TestResetDuringAllocation(t *testing.T) {
	a := newArena(t, 256<<10)
	var mu sync.Mutex
	byGen := map[uint32][]arena.Ref{}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var l *arena.Local
			if g%2 == 1 {
				var err error
				if l, err = a.Local(512); err != nil {
					t.Error(err)
					return
				}
			}
			var mine []arena.Ref
			for i := 0; i < 20000; i++ {
				var r arena.Ref
				var err error
				if l != nil {
					r, _, err = l.Alloc(24+i%17, 8)
				} else {
					r, _, err = a.Alloc(24+i%17, 8)
				}
				if errors.Is(err, arena.ErrExhausted) {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				mine = append(mine, r)
			}
			mu.Lock()
			for _, r := range mine {
				byGen[r.Generation()] = append(byGen[r.Generation()], r)
			}
			mu.Unlock()
		}()
	}
	var resetWG sync.WaitGroup
	resetWG.Add(1)
	go func() {
		defer resetWG.Done()
		for {
			select {
			case <-stop:
				return
			default:
				a.Reset()
			}
		}
	}()
	wg.Wait() // the allocators are done
	close(stop)
	resetWG.Wait()

	last := a.Stats().Generation
	if last < 2 {
		t.Fatalf("no reset happened (generation %d)", last)
	}
	for gen, refs := range byGen {
		if gen == 0 || gen > last {
			t.Fatalf("block claims generation %d; the arena is at %d", gen, last)
		}
		sort.Slice(refs, func(i, j int) bool { return refs[i].Offset() < refs[j].Offset() })
		for i := 1; i < len(refs); i++ {
			if refs[i].Offset() < refs[i-1].Offset()+refs[i-1].Len() {
				t.Fatalf("generation %d: %v overlaps %v", gen, refs[i], refs[i-1])
			}
		}
	}
}
