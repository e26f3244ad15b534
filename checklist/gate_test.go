package checklist

import (
	"context"
	"testing"
	"time"
)

// Waiting checks get places heaviest kind first, then in declared order.
func TestGateGrantsHeaviestFirst(t *testing.T) {
	g := newGate(1)
	if !g.acquire(context.Background(), 4, 0) {
		t.Fatal("first acquire")
	}
	order := make(chan string, 4)
	for _, w := range []struct {
		name        string
		rank, index int
	}{{"file", kindRank("file"), 1}, {"gotest-late", kindRank("gotest"), 9}, {"vet", kindRank("vet"), 2}, {"leak-early", kindRank("leak"), 3}} {
		go func() {
			if g.acquire(context.Background(), w.rank, w.index) {
				order <- w.name
				g.release()
			}
		}()
	}
	// Let all four queue up behind the held place.
	for {
		g.mu.Lock()
		n := len(g.waiting)
		g.mu.Unlock()
		if n == 4 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	g.release()
	var got []string
	for range 4 {
		got = append(got, <-order)
	}
	want := []string{"leak-early", "gotest-late", "vet", "file"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}

// A waiter whose context ends leaves the queue and takes no place.
func TestGateCancel(t *testing.T) {
	g := newGate(1)
	g.acquire(context.Background(), 0, 0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan bool)
	go func() { done <- g.acquire(ctx, 0, 1) }()
	time.Sleep(10 * time.Millisecond)
	cancel()
	if <-done {
		t.Fatal("acquired after cancel")
	}
	g.release()
	if !g.acquire(context.Background(), 0, 2) {
		t.Fatal("place lost")
	}
}

// A check that waits for shared work another check runs gives its place
// to a waiting check.
func TestMemoWaiterGivesItsPlace(t *testing.T) {
	g := newGate(2)
	env := &Env{}
	starter := &place{g: g, index: 0}
	joiner := &place{g: g, index: 1}
	starter.take(context.Background())
	joiner.take(context.Background())
	release := make(chan struct{})
	started := make(chan struct{})
	go env.Memo(context.WithValue(context.Background(), placeKey{}, starter), "k", func(context.Context) any {
		close(started)
		<-release
		return 1
	})
	<-started
	joined := make(chan any)
	go func() {
		v, _ := env.Memo(context.WithValue(context.Background(), placeKey{}, joiner), "k", nil)
		joined <- v
	}()
	// A third check gets the joiner's place while the shared work runs.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	third := &place{g: g, index: 2}
	if !third.take(ctx) {
		t.Fatal("the waiting check kept its place")
	}
	if starter.held != true {
		t.Fatal("the check running the shared work gave its place")
	}
	// The joiner reads the shared result without waiting for a place.
	close(release)
	select {
	case v := <-joined:
		if v != 1 {
			t.Fatalf("joiner got %v", v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the joiner did not finish")
	}
	if joiner.holding() {
		t.Error("the joiner holds a place it gave")
	}
}
