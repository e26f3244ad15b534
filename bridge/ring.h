/* ring.h: the layout of a bridge, shared by ring.c and the Go consumer in
 * bridge.go. Not part of the public API.
 *
 * A bridge is a set of lanes, each a bounded ring of fixed-size slots in C
 * memory, drained by one Go consumer:
 *
 *  - lane 0, the shared lane, takes pushes from any thread: a producer
 *    claims a position with a compare-and-swap of tail (the old
 *    multi-producer ring). Go's Bridge.Push uses it, and so does every C
 *    push when the bridge has no per-thread lanes (WithLanes(0)), when
 *    they are all taken, or when the kernel lacks membarrier(2).
 *  - lanes 1..max_lanes belong to one producer thread each, registered on
 *    the thread's first push and handed on when it exits. Only the owner
 *    claims positions, so a push is plain loads and stores: no locked
 *    instruction, no fence (see "Memory ordering" in ring.c).
 */
#ifndef CGOGUARD_BRIDGE_RING_H
#define CGOGUARD_BRIDGE_RING_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "cgoguard_bridge.h"

/* Bit 63 of the shared lane's tail: the bridge is closed; no position is
 * claimed after it. */
#define CG_BRIDGE_CLOSED (UINT64_C(1) << 63)

/* Every slot starts with this header; the payload follows at offset 16. */
#define CG_BRIDGE_SLOT_HDR 16

/* Most per-thread lanes a bridge may have (WithLanes). */
#define CG_BRIDGE_MAX_LANES 1024

enum {
	CG_BRIDGE_BLOCK = 0,
	CG_BRIDGE_DROP_NEWEST = 1,
	CG_BRIDGE_DROP_OLDEST = 2,
	CG_BRIDGE_ERROR = 3,
};

/* Position pos of a lane lives in slot pos % cap. A producer may claim pos
 * (move tail past it) once pos < released + cap: the message cap positions
 * earlier has been delivered or evicted. The slot's seq is pos + 1 once the
 * message at pos is committed: the consumer's "ready" test. Only producers
 * write slots, and only the consumer (and DropOldest producers, which evict
 * the message at head) advance head and released, once per batch: a slot's
 * cache line moves from the producer to the consumer and back once per lap. */
struct cg_bridge_slot {
	uint64_t seq;
	uint32_t len;
	uint32_t resv; /* length reserved, for cg_bridge_commit_len */
	unsigned char data[];
};

struct cg_bridge_lane {
	/* Immutable after the lane is created. */
	unsigned char *slots;
	unsigned char *end; /* slots + cap * stride */
	uint32_t index;     /* in cg_bridge.lanes */
	uint32_t shared;    /* 1 for lane 0 */

	/* The producer's line. tail: the next position to claim (the owner
	 * alone writes it in a per-thread lane; producers claim it with a
	 * compare-and-swap in the shared lane, where bit 63 means closed).
	 * The rest is the owner's alone: limit, released + cap as last read,
	 * re-read only when the lane looks full, so the owner does not touch
	 * the consumer's line per message; wp, the slot at tail. owned: a
	 * thread holds the lane (under cg_bridge.lane_mu). */
	uint64_t tail __attribute__((aligned(64)));
	uint64_t limit;
	unsigned char *wp;
	uint32_t owned;

	/* Next position to claim for delivery; the consumer (and DropOldest
	 * producers, which evict the message at head). */
	uint64_t head __attribute__((aligned(64)));

	/* How many positions have been delivered or evicted (consumer, once
	 * per batch). Producers waiting for space sleep on space_seq (a futex
	 * word) after setting prod_waiting. */
	uint64_t released __attribute__((aligned(64)));
	uint32_t prod_waiting;
	uint32_t space_seq;
};

struct cg_bridge {
	/* Immutable after cg_bridge__new. */
	uint64_t id; /* unique per bridge for the process's life */
	uint64_t cap;
	uint64_t mask; /* cap - 1 when cap is a power of two, else 0 */
	uint64_t stride;
	uint32_t max_msg;
	int32_t policy;
	int64_t block_ns; /* Block policy bound; 0 waits for ever */
	int32_t efd;      /* eventfd the consumer sleeps on */
	uint32_t max_lanes; /* per-thread lanes allowed (0: shared lane only) */
	struct cg_bridge_lane **lanes; /* max_lanes + 1 entries; [0] is the shared lane */
	uint32_t refs;

	/* Read by every push, written rarely: the producers keep this line in
	 * their caches. waiting: 1 while the consumer is, or is about to be,
	 * asleep on efd. closed: set once by Close. */
	uint32_t waiting __attribute__((aligned(64)));
	uint32_t closed;

	/* Read by the consumer: lanes[0..nlanes) are published. sealed: set
	 * by Close after every push that saw the bridge open has made its
	 * claim visible; only then may the consumer call the bridge drained. */
	uint32_t nlanes __attribute__((aligned(64)));
	uint32_t sealed;

	/* Slow-path counters. */
	uint64_t dropped __attribute__((aligned(64)));
	uint64_t full_waits;
	uint64_t wakeups;

	/* Registration of lanes, Close, and the list of live bridges. */
	pthread_mutex_t lane_mu;
	struct cg_bridge *live_next, *live_prev;
};

/* Called from Go only. */
cg_bridge *cg_bridge__new(uint64_t cap, uint32_t max_msg, int32_t policy, int64_t block_ns, uint32_t max_lanes);
void cg_bridge__close(cg_bridge *b);
void cg_bridge__wake_producers(cg_bridge *b, struct cg_bridge_lane *l);
int cg_bridge__dup_efd(cg_bridge *b);
void cg_bridge__wait_in_c(cg_bridge *b);
int cg_bridge__push_shared(cg_bridge *b, const void *data, size_t len);
int cg_bridge__barrier(void);
int cg_bridge__lanes_supported(void);

#endif /* CGOGUARD_BRIDGE_RING_H */
