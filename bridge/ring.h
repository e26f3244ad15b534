/* ring.h: the layout of a bridge ring, shared by ring.c and the Go consumer
 * in bridge.go. Not part of the public API. */
#ifndef CGOGUARD_BRIDGE_RING_H
#define CGOGUARD_BRIDGE_RING_H

#include <stddef.h>
#include <stdint.h>

#include "cgoguard_bridge.h"

/* Bit 63 of tail: the bridge is closed; no position is claimed after it. */
#define CG_BRIDGE_CLOSED (UINT64_C(1) << 63)

/* Every slot starts with this header; the payload follows at offset 16. */
#define CG_BRIDGE_SLOT_HDR 16

enum {
	CG_BRIDGE_BLOCK = 0,
	CG_BRIDGE_DROP_NEWEST = 1,
	CG_BRIDGE_DROP_OLDEST = 2,
	CG_BRIDGE_ERROR = 3,
};

/* Position pos lives in slot pos % cap. A producer may claim pos (move
 * tail past it) once pos < released + cap: the message cap positions
 * earlier has been delivered or evicted. The slot's seq is pos + 1 once the
 * message at pos is committed: the consumer's "ready" test. Only producers
 * write slots and only the consumer (and evicting producers) advance head
 * and released, once per batch: a slot's cache line moves from the producer
 * to the consumer and back once per lap, no more. */
struct cg_bridge_slot {
	uint64_t seq;
	uint32_t len;
	uint32_t resv; /* length reserved, for cg_bridge_commit_len */
	unsigned char data[];
};

struct cg_bridge {
	/* Immutable after cg_bridge__new. */
	unsigned char *slots;
	uint64_t cap;
	uint64_t mask; /* cap - 1 when cap is a power of two, else 0 */
	uint64_t stride;
	uint32_t max_msg;
	int32_t policy;
	int64_t block_ns; /* Block policy bound; 0 waits for ever */
	int32_t efd;      /* eventfd the consumer sleeps on */
	uint32_t refs;

	/* Next position to claim; producers. */
	uint64_t tail __attribute__((aligned(64)));
	/* Next position to claim for delivery; the consumer (and DropOldest
	 * producers, which evict the message at head). */
	uint64_t head __attribute__((aligned(64)));
	/* How many positions have been delivered or evicted; producers read
	 * it to find space. */
	uint64_t released __attribute__((aligned(64)));
	/* 1 while the consumer is, or is about to be, asleep on efd. */
	uint32_t waiting __attribute__((aligned(64)));
	/* Set once by close, after the CLOSED bit in tail: the consumer polls
	 * this line instead of tail, which producers write on every push. */
	uint32_t closed __attribute__((aligned(64)));
	/* Producers waiting for space sleep on space_seq (a futex word). */
	uint32_t space_seq __attribute__((aligned(64)));
	uint32_t prod_waiting;
	/* Slow-path counters. */
	uint64_t dropped __attribute__((aligned(64)));
	uint64_t full_waits;
	uint64_t wakeups;
};

/* Called from Go only. */
cg_bridge *cg_bridge__new(uint64_t cap, uint32_t max_msg, int32_t policy, int64_t block_ns);
void cg_bridge__close(cg_bridge *b);
void cg_bridge__wake_producers(cg_bridge *b);
int cg_bridge__dup_efd(cg_bridge *b);
void cg_bridge__wait_in_c(cg_bridge *b);

#endif /* CGOGUARD_BRIDGE_RING_H */
