// Package bridge carries events from C threads to Go: rings in C memory
// that C producer threads push into without calling Go, and that one Go
// consumer drains in batches.
//
// A cgo callback per event costs one cgo transition each and funnels
// through the scheduler, and a callback that sends on a channel costs more.
// With the bridge a C thread copies its event into a lane of its own (plain
// stores: no locked instruction, no fence, no system call while the
// consumer is awake) and the Go consumer takes every ready message in one
// pass, reading the C memory in place. One cg_bridge_push per event moves
// several times more events per second than a callback per event
// (BENCHMARKS.md, section Bridge).
//
// # Example
//
// Go creates the bridge and hands C its pointer:
//
//	b, err := bridge.New(4096, bridge.WithName("decoder"), bridge.WithMaxMessageSize(64))
//	if err != nil {
//		return err
//	}
//	defer b.Close()
//	C.decoder_start((*C.cg_bridge)(b.CPtr())) // C keeps the cg_bridge *
//
//	for {
//		_, err := b.Drain(ctx, func(msg []byte) {
//			handle(msg) // msg points into C memory: copy what you keep
//		})
//		if err != nil {
//			return err // ctx.Err(), or ErrClosed once closed and drained
//		}
//	}
//
// and C threads push (cgoguard.h, section cgoguard_bridge.h):
//
//	struct event ev = {.kind = EV_FRAME, .ts = now()};
//	int rc = cg_bridge_push(b, &ev, sizeof ev);    // 0, or -EPIPE after Close, ...
//
//	struct event *p = cg_bridge_reserve(b, sizeof *p); // or write in place
//	if (p) { fill(p); cg_bridge_commit(b, p); }
//
//	int k = cg_bridge_push_batch(b, datas, lens, n); // a burst: k > 0 accepted, or -errno
//
// cg_bridge_push_batch claims room for a burst at once and checks for a
// sleeping consumer once.
//
// # Lanes
//
// Each C thread gets a lane of its own on its first push (up to WithLanes,
// default 16), a ring of capacity slots that only it writes; it is handed
// to another thread when the thread exits. Threads beyond the limit, and
// Bridge.Push from Go, share one more lane, whose producers claim slots
// with a compare-and-swap. Drain takes the lanes in turn.
//
// # Guarantees
//
// Any number of C threads may push at once; messages from one thread are
// delivered in the order it pushed them, and so are the pushes of one
// goroutine through Bridge.Push. Messages of different threads may arrive
// in any interleaving, even when the pushes were ordered by other means;
// WithLanes(0) puts every push in one lane, in the order the pushes took
// effect. A message whose push (or commit) returned 0 is delivered exactly
// once, also across Close, unless the DropOldest policy evicts it, and then
// it is counted in Stats.Dropped. What a full lane does is the Policy:
// Block (the default, optionally bounded by WithBlockTimeout), DropNewest,
// DropOldest (which evicts the oldest message of that lane) or Error; every
// message lost to a full lane is counted.
//
// All functions and methods are safe for concurrent use, except that a
// bridge has one consumer: a Drain that overlaps another Drain on the same
// bridge returns ErrBusy at once.
//
// # Waking the consumer
//
// A producer makes a system call only when the consumer is asleep: Drain
// announces that it is about to sleep in a flag, then re-checks the lanes;
// a producer publishes its message, then reads the flag, so either the
// producer sees the flag and writes the bridge's eventfd, or Drain sees the
// message. The store-then-load on each side needs a full memory barrier
// between the two; producers do not pay it per push: Drain issues
// membarrier(2) (MEMBARRIER_CMD_PRIVATE_EXPEDITED) before it sleeps, which
// executes the barrier on every thread of the process at once (ring.c,
// "Memory ordering", gives the argument; Close uses the same scheme). Before
// sleeping, Drain spins for some 20 µs. On a kernel without membarrier
// (LanesSupported reports false) every push takes the shared lane, which
// pays the barrier itself.
//
// Drain sleeps by parking its goroutine on the eventfd in Go's netpoller,
// not in a blocking cgo call: an idle bridge holds no OS thread, and a done
// ctx wakes Drain at once (it writes the eventfd too). Measured here
// (BENCHMARKS.md, section Bridge), 32 bridges idle in Drain held no extra
// thread this way and 29 with the wait blocked in C (poll in a cgo call);
// the price is a wake about 1.5 µs slower at the median (15 µs against
// 14 µs from push to callback on an idle consumer).
//
// # Cgo contract
//
//   - C code MUST get the bridge pointer from Bridge.CPtr and MUST NOT use it
//     after the Bridge is unreachable in Go, unless it took a reference with
//     cg_bridge_retain (released with cg_bridge_release). After Close every
//     push returns -EPIPE, so a producer that checks for -EPIPE stops
//     cleanly.
//   - Close MUST be called: the registry that Snapshot reads holds the
//     bridge, and with it its C memory, until then.
//   - A reservation MUST be committed promptly: a lane is delivered in
//     order, so an open reservation holds back every later message of its
//     lane.
//   - C code called from Go that pushes, and relies on the order of pushes
//     made in different cgo calls, SHOULD run on a goroutine locked to its
//     thread (runtime.LockOSThread): each thread has its own lane.
//   - A message MUST NOT exceed the maximum message size (WithMaxMessageSize,
//     default 256 bytes); push returns -EMSGSIZE.
//   - The Drain callback MUST NOT keep msg after it returns: the slot is
//     reused. It SHOULD be quick: producers under Block wait for it when
//     their lane is full.
//
// # Larger payloads and callbacks
//
// Each slot has room for the maximum message size, so a lane takes about
// capacity × (size + 16) bytes, allocated when its first thread pushes.
// Payloads larger than a few hundred bytes
// SHOULD travel as a reference: the payload lives in shared memory (package
// arena) and the message carries its encoded reference, for example an
// offset, a length and a generation as three little-endian integers. The
// consumer resolves the reference inside the callback and releases it when
// done.
//
// When C code routes events to Go callbacks it was given, it keeps them as
// handles (package handles, over runtime/cgo.Handle) and puts the handle's
// integer in each message; the consumer looks the handle up and calls it.
// The handles registry counts live handles, so a leak check sees one that
// was never deleted. See Example (Handles).
//
// # Metrics
//
// Snapshot lists the open bridges with their Stats; package observe exports
// them as cgoguard_bridge_messages_total{bridge,result} with result
// "delivered" or "dropped".
package bridge
