package bridge

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
)

// Stats counts what went through a bridge. All counts are cumulative.
type Stats struct {
	// Pushed is the number of messages accepted: pushes and reservations
	// that returned success.
	Pushed uint64
	// Delivered is the number of messages passed to a Drain callback.
	Delivered uint64
	// Dropped is the number of messages lost to a full ring: refused under
	// DropNewest (-ENOBUFS) or Error (-EAGAIN), timed out under a bounded
	// Block (-ETIMEDOUT), or evicted under DropOldest.
	Dropped uint64
	// FullWaits is the number of pushes that found the ring full and waited
	// for space (Block, and DropOldest while the oldest message was being
	// written or delivered).
	FullWaits uint64
	// Wakeups is the number of times a producer woke the sleeping consumer
	// (one eventfd write each), Close included.
	Wakeups uint64
}

// Info describes a live bridge, for metrics and health pages.
type Info struct {
	Name           string
	Capacity       int // messages
	MaxMessageSize int // bytes
	Policy         Policy
	Stats          Stats
}

var (
	regMu   sync.Mutex
	reg     = map[*Bridge]struct{}{}
	created atomic.Uint64
)

func defaultName() string { return fmt.Sprintf("bridge-%d", created.Add(1)) }

func register(b *Bridge) {
	regMu.Lock()
	reg[b] = struct{}{}
	regMu.Unlock()
}

func unregister(b *Bridge) {
	regMu.Lock()
	delete(reg, b)
	regMu.Unlock()
}

// Snapshot lists the live bridges (created by New and not yet closed) with
// their current stats, sorted by name. Metrics export it as
// cgoguard_bridge_messages_total{bridge=Name,result="delivered"|"dropped"}.
func Snapshot() []Info {
	regMu.Lock()
	bs := make([]*Bridge, 0, len(reg))
	for b := range reg {
		bs = append(bs, b)
	}
	regMu.Unlock()
	out := make([]Info, 0, len(bs))
	for _, b := range bs {
		out = append(out, b.info())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
