package bridge

import (
	"fmt"
	"time"
)

// Policy says what a producer's push does when the ring is full.
type Policy int

const (
	// Block makes the producer wait for space (the default). With
	// WithBlockTimeout the wait is bounded; on expiry push returns
	// -ETIMEDOUT and the message is counted as dropped.
	Block Policy = iota
	// DropNewest refuses the new message: push returns -ENOBUFS and the
	// message is counted as dropped.
	DropNewest
	// DropOldest evicts the oldest undelivered message to make room: push
	// returns 0 and the evicted message is counted as dropped.
	DropOldest
	// Error refuses the new message: push returns -EAGAIN so the producer
	// decides what to do; the refusal is counted as dropped.
	Error
)

// String returns the policy's name as written in this package.
func (p Policy) String() string {
	switch p {
	case Block:
		return "Block"
	case DropNewest:
		return "DropNewest"
	case DropOldest:
		return "DropOldest"
	case Error:
		return "Error"
	}
	return fmt.Sprintf("Policy(%d)", int(p))
}

// Limits on New's arguments.
const (
	// MaxCapacity is the largest capacity New accepts, in messages.
	MaxCapacity = 1 << 24
	// MaxMessageLimit is the largest value WithMaxMessageSize accepts, in bytes.
	MaxMessageLimit = 1 << 20
	// maxRingBytes bounds the C memory one ring may take.
	maxRingBytes = 1 << 30
	// slotHeader is the per-message header in C memory (see ring.h).
	slotHeader = 16
	// MaxLanes is the largest value WithLanes accepts.
	MaxLanes = 1024
)

// config holds the options; defaults() is the one place defaults are set.
type config struct {
	capacity     int
	maxMessage   int
	policy       Policy
	blockTimeout time.Duration
	name         string
	lanes        int
	blockSet     bool // WithBlockTimeout was given
	nameSet      bool // WithName was given
}

// DefaultMaxMessageSize is the maximum message size when WithMaxMessageSize
// is not given, in bytes.
const DefaultMaxMessageSize = 256

// DefaultLanes is the number of per-thread lanes when WithLanes is not
// given.
const DefaultLanes = 16

func defaults() config {
	return config{
		maxMessage:   DefaultMaxMessageSize,
		policy:       Block,
		blockTimeout: 0,  // wait for ever
		name:         "", // New assigns "bridge-<n>"
		lanes:        DefaultLanes,
	}
}

// Option configures a Bridge in New.
type Option func(*config)

// WithMaxMessageSize sets the largest message a producer may push, in bytes
// (1 to MaxMessageLimit). Every slot of the ring has room for it, so the ring
// takes about capacity × (size + 16) bytes of C memory. Default:
// DefaultMaxMessageSize (256). Larger payloads should travel as references
// (for example an encoded arena offset), not in the ring.
func WithMaxMessageSize(n int) Option { return func(c *config) { c.maxMessage = n } }

// WithPolicy sets what a push does when the ring is full: Block, DropNewest,
// DropOldest or Error. Default: Block.
func WithPolicy(p Policy) Option { return func(c *config) { c.policy = p } }

// WithBlockTimeout bounds how long a push waits for space under the Block
// policy; after d it returns -ETIMEDOUT and the message is counted as
// dropped. d must be positive, and the policy Block. Default: no bound.
func WithBlockTimeout(d time.Duration) Option {
	return func(c *config) { c.blockTimeout, c.blockSet = d, true }
}

// WithLanes sets how many C threads get a lane of their own (0 to
// MaxLanes). A thread's lane is registered on its first push and handed to
// another thread when it exits; while it has one, the thread's pushes take
// no locked instruction and no fence, and the threads' messages never meet
// in one cache line. Threads beyond n, and Bridge.Push from Go, share one
// more lane, which claims positions with a compare-and-swap. Each lane has
// room for capacity messages and is allocated (capacity × (max message
// size + 16) bytes) when its first thread pushes, so the bridge takes at
// most n + 1 times that.
//
// Order: messages of one thread arrive in the order it pushed them, and
// so do the pushes of one goroutine through Bridge.Push. Messages pushed
// by different threads may arrive in any interleaving, even when the
// pushes were ordered by other means (a lock, or C code called from a
// goroutine that moved to another thread between two calls: such code
// runs on a thread fixed with runtime.LockOSThread, or the bridge uses
// WithLanes(0)). With n = 0 every push shares the one lane, which
// delivers messages in the order their pushes took effect, across
// threads, at the cost of the locked claim and fence per push.
//
// Default: DefaultLanes (16).
func WithLanes(n int) Option { return func(c *config) { c.lanes = n } }

// WithName names the bridge in Snapshot (and so in metrics labels). Any
// non-empty string; names need not be unique. Default: "bridge-<n>", n
// counting the bridges created by this process from 1.
func WithName(name string) Option { return func(c *config) { c.name, c.nameSet = name, true } }

func newConfig(capacity int, opts []Option) (config, error) {
	c := defaults()
	c.capacity = capacity
	for _, o := range opts {
		if o == nil {
			return c, fmt.Errorf("%w: nil option", ErrInvalidConfig)
		}
		o(&c)
	}
	switch {
	case capacity < 2 || capacity > MaxCapacity:
		return c, fmt.Errorf("%w: capacity %d: must be between 2 and %d messages", ErrInvalidConfig, capacity, MaxCapacity)
	case c.maxMessage < 1 || c.maxMessage > MaxMessageLimit:
		return c, fmt.Errorf("%w: max message size %d: must be between 1 and %d bytes", ErrInvalidConfig, c.maxMessage, MaxMessageLimit)
	case c.policy < Block || c.policy > Error:
		return c, fmt.Errorf("%w: policy %v: must be Block, DropNewest, DropOldest or Error", ErrInvalidConfig, c.policy)
	case c.blockTimeout < 0 || (c.blockSet && c.blockTimeout == 0):
		return c, fmt.Errorf("%w: block timeout %v: must be positive", ErrInvalidConfig, c.blockTimeout)
	case c.blockTimeout > 0 && c.policy != Block:
		return c, fmt.Errorf("%w: block timeout %v: applies only to the Block policy, not %v", ErrInvalidConfig, c.blockTimeout, c.policy)
	case c.lanes < 0 || c.lanes > MaxLanes:
		return c, fmt.Errorf("%w: lanes %d: must be between 0 and %d", ErrInvalidConfig, c.lanes, MaxLanes)
	case c.nameSet && c.name == "":
		return c, fmt.Errorf("%w: empty name", ErrInvalidConfig)
	}
	stride := (slotHeader + c.maxMessage + 7) &^ 7
	if int64(stride)*int64(capacity) > maxRingBytes {
		return c, fmt.Errorf("%w: capacity %d × max message size %d needs %d bytes, more than the %d-byte limit",
			ErrInvalidConfig, capacity, c.maxMessage, int64(stride)*int64(capacity), maxRingBytes)
	}
	return c, nil
}
