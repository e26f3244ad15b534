package checklist

import (
	"context"
	"sync"
)

// gate hands out the run's -j places. When several checks wait, the
// heaviest kind goes first (kindRank), then the one declared first: a
// long go test started early finishes while the quick checks fill the
// other places, instead of starting last and stretching the run.
type gate struct {
	mu      sync.Mutex
	free    int
	waiting []*gateWaiter
}

type gateWaiter struct {
	rank, index int
	granted     chan struct{}
}

func newGate(n int) *gate { return &gate{free: n} }

// kindRank orders kinds by their usual cost, heaviest first: go test
// builds and runs test binaries, vet type-checks the packages, commands
// are often builds, a service is started for http and metric checks, file
// checks read files.
func kindRank(kind string) int {
	switch kind {
	case "gotest", "leak":
		return 0
	case "vet":
		return 1
	case "command":
		return 2
	case "http", "metric":
		return 3
	}
	return 4
}

// acquire waits for a place; it returns false when ctx ends first.
func (g *gate) acquire(ctx context.Context, rank, index int) bool {
	w := &gateWaiter{rank: rank, index: index, granted: make(chan struct{})}
	g.mu.Lock()
	g.waiting = append(g.waiting, w)
	g.dispatch()
	g.mu.Unlock()
	select {
	case <-w.granted:
		return true
	case <-ctx.Done():
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, x := range g.waiting {
		if x == w {
			g.waiting = append(g.waiting[:i], g.waiting[i+1:]...)
			return false
		}
	}
	// Granted while giving up: hand the place on.
	g.free++
	g.dispatch()
	return false
}

// release returns a place.
func (g *gate) release() {
	g.mu.Lock()
	g.free++
	g.dispatch()
	g.mu.Unlock()
}

// dispatch grants free places to the best waiters. g.mu held.
func (g *gate) dispatch() {
	for g.free > 0 && len(g.waiting) > 0 {
		best := 0
		for i, w := range g.waiting {
			b := g.waiting[best]
			if w.rank < b.rank || (w.rank == b.rank && w.index < b.index) {
				best = i
			}
		}
		w := g.waiting[best]
		g.waiting = append(g.waiting[:best], g.waiting[best+1:]...)
		g.free--
		close(w.granted)
	}
}

// place is one check's claim on the gate: held while the check runs, given
// back while it only waits for shared work another check runs (Env.Memo).
type place struct {
	g           *gate
	rank, index int
	mu          sync.Mutex
	held        bool
}

// placeKey carries a check's *place in its context.
type placeKey struct{}

// take waits for a place; false when ctx ended first.
func (p *place) take(ctx context.Context) bool {
	if !p.g.acquire(ctx, p.rank, p.index) {
		return false
	}
	p.mu.Lock()
	p.held = true
	p.mu.Unlock()
	return true
}

// holding reports whether the place is held.
func (p *place) holding() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.held
}

// give returns the place if it is held, and says whether it was.
func (p *place) give() bool {
	p.mu.Lock()
	held := p.held
	p.held = false
	p.mu.Unlock()
	if held {
		p.g.release()
	}
	return held
}
