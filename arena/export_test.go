package arena

import "sync/atomic"

// Hooks for the tests in package arena_test, which drive the arena into
// states that only races produce.

// StateForTest returns the arena's state word (generation<<32 | cursor).
func StateForTest(a *Arena) uint64 { return atomic.LoadUint64(a.state) }

// SetCursorForTest sets the cursor, in 8-byte units, keeping the generation.
func SetCursorForTest(a *Arena, units uint64) {
	s := atomic.LoadUint64(a.state)
	atomic.StoreUint64(a.state, s&^cursorMask|units)
}

// LoseRaceForTest does what Alloc(n, 8) does after its load saw room but
// its atomic add went past the capacity: the add, then allocSlow; between
// runs after the add and before allocSlow, as another allocator would.
func LoseRaceForTest(a *Arena, n int, between func()) (Ref, []byte, error) {
	nu := (uint64(n) + unit - 1) / unit
	s := atomic.AddUint64(a.state, nu) - nu
	if between != nil {
		between()
	}
	return a.allocSlow(n, 8, s)
}

// DisableFastPathForTest makes Alloc use the compare-and-swap for every
// block, as it does for arenas over 16 GiB.
func DisableFastPathForTest(a *Arena) { a.fastCap = 0 }

// FastPathForTest reports whether Alloc would use the atomic add for an arena of
// capacity bytes.
func FastPathForTest(capacity uint64) bool { return capacity/unit <= fastCapMax }

// Fast-path limits, for the tests.
const (
	FastMaxForTest = fastMax
	UnitForTest    = unit
)

// AddForTest adds units to the cursor as a racing fast-path Alloc does
// with its atomic add, and returns the state it was applied to.
func AddForTest(a *Arena, units uint64) uint64 { return atomic.AddUint64(a.state, units) - units }
