/* ring.c: the C side of the bridge: a bounded multi-producer ring in C
 * memory with the producer's half of the wakeup protocol. The consumer's
 * half is Go code in bridge.go that reads this memory directly; ring.h
 * describes the protocol. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ring.h"

#define LOAD(p, o) __atomic_load_n((p), (o))
#define STORE(p, v, o) __atomic_store_n((p), (v), (o))
#define ADD(p, v) __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)
#define RLX __ATOMIC_RELAXED
#define REL __ATOMIC_RELEASE
#define ACQ __ATOMIC_ACQUIRE
#define SC __ATOMIC_SEQ_CST

/* A producer that finds the ring full re-checks this many times (a few
 * microseconds in all) before it sleeps on the futex: the consumer usually
 * frees space that soon, and a futex sleep and wake cost a system call on
 * both sides. (sched_yield instead of the spin cost more here: every yield
 * was a context switch.) */
#define FULL_SPINS 64

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	for (int i = 0; i < 16; i++)
		__builtin_ia32_pause();
#elif defined(__aarch64__)
	for (int i = 0; i < 16; i++)
		__asm__ __volatile__("yield");
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

/* How many positions ahead a producer prefetches the slot it will write. */
#define PREFETCH_AHEAD 8


/* DropOldest producers that cannot evict (the oldest message is still being
 * written, or is being delivered) re-check this often even if nobody wakes
 * them. */
#define EVICT_RECHECK_NS 200000

/* copy_msg copies a message into its slot. Events are often a few words:
 * up to 16 bytes it copies with two possibly overlapping fixed-size moves
 * that the compiler inlines, instead of a call into memcpy. */
static inline void copy_msg(unsigned char *dst, const unsigned char *src, size_t len)
{
	if (len >= 8 && len <= 16) {
		memcpy(dst, src, 8);
		memcpy(dst + len - 8, src + len - 8, 8);
	} else if (len) {
		memcpy(dst, src, len);
	}
}

static inline uint64_t slot_index(const cg_bridge *b, uint64_t pos)
{
	return b->mask ? (pos & b->mask) : (pos % b->cap);
}

static inline struct cg_bridge_slot *slot_at(const cg_bridge *b, uint64_t pos)
{
	return (struct cg_bridge_slot *)(b->slots + slot_index(b, pos) * b->stride);
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

cg_bridge *cg_bridge__new(uint64_t cap, uint32_t max_msg, int32_t policy, int64_t block_ns)
{
	cg_bridge *b;
	uint64_t stride = (CG_BRIDGE_SLOT_HDR + (uint64_t)max_msg + 7) & ~UINT64_C(7);
	void *mem = NULL;

	if (cap < 2 || max_msg == 0 || policy < CG_BRIDGE_BLOCK || policy > CG_BRIDGE_ERROR) {
		errno = EINVAL;
		return NULL;
	}
	if (posix_memalign((void **)&b, 64, sizeof *b) != 0) {
		errno = ENOMEM;
		return NULL;
	}
	memset(b, 0, sizeof *b);
	if (posix_memalign(&mem, 64, cap * stride) != 0) {
		free(b);
		errno = ENOMEM;
		return NULL;
	}
	memset(mem, 0, cap * stride); /* seq 0: no slot looks ready */
	b->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (b->efd < 0) {
		int e = errno;
		free(mem);
		free(b);
		errno = e;
		return NULL;
	}
	b->slots = mem;
	b->cap = cap;
	b->mask = (cap & (cap - 1)) == 0 ? cap - 1 : 0;
	b->stride = stride;
	b->max_msg = max_msg;
	b->policy = policy;
	b->block_ns = block_ns;
	b->refs = 1;
	__atomic_thread_fence(SC);
	return b;
}

int cg_bridge__dup_efd(cg_bridge *b)
{
	return fcntl(b->efd, F_DUPFD_CLOEXEC, 0);
}

void cg_bridge__wake_producers(cg_bridge *b)
{
	STORE(&b->prod_waiting, 0, SC);
	__atomic_fetch_add(&b->space_seq, 1, SC);
	syscall(SYS_futex, &b->space_seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static void wake_consumer(cg_bridge *b)
{
	uint64_t one = 1;
	ssize_t n;

	ADD(&b->wakeups, 1); /* before the write, so a woken Drain sees it */
	n = write(b->efd, &one, sizeof one);
	(void)n; /* EAGAIN only if the counter is near 2^64: already readable */
}

void cg_bridge__close(cg_bridge *b)
{
	__atomic_fetch_or(&b->tail, CG_BRIDGE_CLOSED, SC);
	STORE(&b->closed, 1, SC);
	cg_bridge__wake_producers(b);
	STORE(&b->waiting, 0, SC);
	wake_consumer(b);
}

/* cg_bridge__wait_in_c is the alternative consumer wait that blocks in C
 * (holding an OS thread for the whole wait); kept to measure it against the
 * netpoller wait in bridge.go. It returns when efd is readable. */
void cg_bridge__wait_in_c(cg_bridge *b)
{
	struct pollfd pfd = {.fd = b->efd, .events = POLLIN};
	uint64_t v;
	ssize_t n;

	while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
		;
	n = read(b->efd, &v, sizeof v);
	(void)n;
}

void cg_bridge_retain(cg_bridge *b)
{
	if (b)
		__atomic_fetch_add(&b->refs, 1, SC);
}

void cg_bridge_release(cg_bridge *b)
{
	if (!b || __atomic_sub_fetch(&b->refs, 1, SC) != 0)
		return;
	close(b->efd);
	free(b->slots);
	free(b);
}

size_t cg_bridge_max_message(const cg_bridge *b)
{
	return b ? b->max_msg : 0;
}

/* evictable reports whether a DropOldest producer finding tail t full can
 * evict now: the ring is full of undelivered messages (none claimed by the
 * consumer) and the oldest, at head, is committed. */
static int evictable(cg_bridge *b, uint64_t t, uint64_t *h)
{
	uint64_t r = LOAD(&b->released, SC);

	*h = LOAD(&b->head, SC);
	return *h == r && t == r + b->cap && LOAD(&slot_at(b, r)->seq, SC) == r + 1;
}

/* wait_space sleeps until the consumer frees space, the bridge closes, or
 * the absolute CLOCK_MONOTONIC deadline (ns, 0 = none) passes. It returns
 * ETIMEDOUT when the deadline has passed, else 0; the caller re-checks. */
static int wait_space(cg_bridge *b, int64_t deadline)
{
	uint32_t g = LOAD(&b->space_seq, SC);
	struct timespec ts, *tsp = NULL;
	uint64_t t, h;

	STORE(&b->prod_waiting, 1, SC);
	/* Re-check after announcing ourselves: the consumer advances released
	 * and then reads prod_waiting, so either it sees us or we see space. */
	t = LOAD(&b->tail, SC);
	if (t & CG_BRIDGE_CLOSED)
		return 0;
	if (t < LOAD(&b->released, SC) + b->cap)
		return 0;
	if (b->policy == CG_BRIDGE_DROP_OLDEST && evictable(b, t, &h))
		return 0;
	if (deadline) {
		if (now_ns() >= deadline)
			return ETIMEDOUT;
		ts.tv_sec = deadline / 1000000000;
		ts.tv_nsec = deadline % 1000000000;
		tsp = &ts;
	}
	syscall(SYS_futex, &b->space_seq, FUTEX_WAIT_BITSET_PRIVATE, g, tsp, NULL, FUTEX_BITSET_MATCH_ANY);
	if (deadline && now_ns() >= deadline)
		return ETIMEDOUT;
	return 0;
}

/* evict_oldest drops the oldest message so that tail t (found full) can be
 * claimed. It returns 1 when the caller should retry at once, 0 when it has
 * to wait (the oldest message is still being written, or the consumer is
 * delivering). */
static int evict_oldest(cg_bridge *b, uint64_t t)
{
	uint64_t h;

	if (!evictable(b, t, &h))
		return LOAD(&b->tail, SC) != t; /* the tail moved: retry */
	if (!__atomic_compare_exchange_n(&b->head, &h, h + 1, 0, SC, RLX))
		return 1; /* the consumer claimed it, or another producer evicted it */
	/* Position h is ours now and nobody reads its slot: count it released.
	 * (If the consumer has meanwhile delivered and released later
	 * positions, released briefly runs one behind, which only delays.) */
	__atomic_fetch_add(&b->released, 1, SC);
	ADD(&b->dropped, 1);
	return 1;
}

/* claim_n claims up to want (>= 1) consecutive positions with one
 * compare-and-swap of tail: as many as are free, at least one. When none is
 * free it applies the full policy as for a single message. It returns how
 * many it claimed (the first at *at; *limit is the tail bound it saw), or a
 * negative errno. */
static int64_t claim_n(cg_bridge *b, uint64_t want, uint64_t *at, uint64_t *limit_out)
{
	uint64_t pos, limit;
	int64_t deadline = 0;
	int waited = 0, spins = 0;

	pos = LOAD(&b->tail, RLX);
	limit = LOAD(&b->released, ACQ) + b->cap;
	for (;;) {
		if (pos & CG_BRIDGE_CLOSED)
			return -EPIPE;
		if (pos < limit) {
			uint64_t k = limit - pos < want ? limit - pos : want;
			if (__atomic_compare_exchange_n(&b->tail, &pos, pos + k, 1, ACQ, RLX)) {
				*at = pos;
				*limit_out = limit;
				return (int64_t)k;
			}
			continue; /* pos now holds the current tail */
		}
		limit = LOAD(&b->released, ACQ) + b->cap;
		if (pos < limit)
			continue;
		switch (b->policy) {
		case CG_BRIDGE_ERROR:
			ADD(&b->dropped, 1);
			return -EAGAIN;
		case CG_BRIDGE_DROP_NEWEST:
			ADD(&b->dropped, 1);
			return -ENOBUFS;
		case CG_BRIDGE_DROP_OLDEST:
			if (!evict_oldest(b, pos)) {
				if (!waited) {
					waited = 1;
					ADD(&b->full_waits, 1);
				}
				wait_space(b, now_ns() + EVICT_RECHECK_NS);
			}
			break;
		default: /* Block */
			if (!waited) {
				waited = 1;
				ADD(&b->full_waits, 1);
				if (b->block_ns > 0)
					deadline = now_ns() + b->block_ns;
			}
			if (spins < FULL_SPINS) {
				spins++;
				cpu_relax();
				break;
			}
			if (wait_space(b, deadline) == ETIMEDOUT) {
				ADD(&b->dropped, 1);
				return -ETIMEDOUT;
			}
			break;
		}
		pos = LOAD(&b->tail, RLX);
		limit = LOAD(&b->released, ACQ) + b->cap;
	}
}

/* claim reserves a position for len bytes and returns its slot, or NULL with
 * *err. */
static struct cg_bridge_slot *claim(cg_bridge *b, size_t len, uint64_t *at, int *err)
{
	uint64_t pos, limit;
	int64_t k;
	struct cg_bridge_slot *s;

	if (!b) {
		*err = EINVAL;
		return NULL;
	}
	if (len > b->max_msg) {
		*err = EMSGSIZE;
		return NULL;
	}
	k = claim_n(b, 1, &pos, &limit);
	if (k < 0) {
		*err = (int)-k;
		return NULL;
	}
	s = slot_at(b, pos);
	/* The lines a few positions on are written next: fetch them for
	 * writing now, so the stream of writes does not wait on each line in
	 * turn (unless the consumer may still be reading them). */
	if (pos + PREFETCH_AHEAD < limit)
		__builtin_prefetch(slot_at(b, pos + PREFETCH_AHEAD), 1, 3);
	*at = pos;
	s->len = (uint32_t)len;
	s->resv = (uint32_t)len;
	return s;
}

/* wake_check wakes the consumer if it is asleep, after messages were
 * published with release stores. The seq_cst fence orders the publishes
 * before the load of waiting (the consumer stores waiting and then
 * re-checks the ring): no lost wakeup, and no system call while the
 * consumer is awake.
 *
 * Measured and rejected: moving this store-load barrier to the consumer
 * (membarrier(2) MEMBARRIER_CMD_PRIVATE_EXPEDITED before it sleeps, a
 * compiler barrier here) made single pushes 4x slower on this machine
 * (117-140 ns against 25-36 ns per event): the consumer sleeps often when
 * it keeps up, and each membarrier interrupts the producers' cores. */
static inline void wake_check(cg_bridge *b)
{
	__atomic_thread_fence(SC);
	if (LOAD(&b->waiting, RLX) && __atomic_exchange_n(&b->waiting, 0, SC))
		wake_consumer(b);
}

/* publish makes the message at pos visible and wakes the consumer if it is
 * asleep. The seq_cst store orders before the load of waiting (the consumer
 * stores waiting and then re-checks the slot), as the fence in wake_check
 * does for batches. */
static inline void publish(cg_bridge *b, struct cg_bridge_slot *s, uint64_t pos)
{
	STORE(&s->seq, pos + 1, SC);
	if (LOAD(&b->waiting, SC) && __atomic_exchange_n(&b->waiting, 0, SC))
		wake_consumer(b);
}

/* position returns the position a claimed slot holds: the one position in
 * [tail - cap, tail) that maps to it (a claimed, undelivered position is at
 * least released, and tail never passes released + cap). */
static uint64_t position(cg_bridge *b, struct cg_bridge_slot *s)
{
	uint64_t idx = (uint64_t)((unsigned char *)s - b->slots) / b->stride;
	uint64_t t = LOAD(&b->tail, ACQ) & ~CG_BRIDGE_CLOSED;
	uint64_t lo = t >= b->cap ? t - b->cap : 0;

	return lo + ((idx + b->cap - slot_index(b, lo)) % b->cap);
}

int cg_bridge_push(cg_bridge *b, const void *data, size_t len)
{
	int err = 0;
	uint64_t pos;
	struct cg_bridge_slot *s = claim(b, len, &pos, &err);

	if (!s)
		return -err;
	copy_msg(s->data, data, len);
	publish(b, s, pos);
	return 0;
}

void *cg_bridge_reserve(cg_bridge *b, size_t len)
{
	int err = 0;
	uint64_t pos;
	struct cg_bridge_slot *s = claim(b, len, &pos, &err);

	if (!s) {
		errno = err;
		return NULL;
	}
	return s->data;
}

/* reserved returns the slot of a reservation p on b, or NULL when p is not
 * an uncommitted reservation. *pos is set to the message's position. */
static struct cg_bridge_slot *reserved(cg_bridge *b, void *p, uint64_t *pos)
{
	unsigned char *q = p;
	struct cg_bridge_slot *s;
	uint64_t off;

	if (!b || !q || q < b->slots + CG_BRIDGE_SLOT_HDR)
		return NULL;
	off = (uint64_t)(q - CG_BRIDGE_SLOT_HDR - b->slots);
	if (off % b->stride != 0 || off / b->stride >= b->cap)
		return NULL;
	s = (struct cg_bridge_slot *)(q - CG_BRIDGE_SLOT_HDR);
	*pos = position(b, s);
	/* Claimed (below tail), not delivered (at or above released), and not
	 * committed yet. */
	if (*pos >= (LOAD(&b->tail, ACQ) & ~CG_BRIDGE_CLOSED) || *pos < LOAD(&b->released, ACQ) ||
	    LOAD(&s->seq, ACQ) == *pos + 1)
		return NULL;
	return s;
}

int cg_bridge_commit_len(cg_bridge *b, void *p, size_t len)
{
	uint64_t pos;
	struct cg_bridge_slot *s = reserved(b, p, &pos);

	if (!s || len > s->resv)
		return -EINVAL;
	s->len = (uint32_t)len;
	publish(b, s, pos);
	return 0;
}

int cg_bridge_commit(cg_bridge *b, void *p)
{
	uint64_t pos;
	struct cg_bridge_slot *s = reserved(b, p, &pos);

	if (!s)
		return -EINVAL;
	s->len = s->resv;
	publish(b, s, pos);
	return 0;
}

/* cg_bridge_push_batch claims room for as many of the n messages as fit with
 * one compare-and-swap, copies them, publishes each with a release store and
 * checks for a sleeping consumer once. A producer with a burst pays the
 * locked instruction, the wake check and the hop of tail's cache line once
 * per batch instead of once per message. */
int cg_bridge_push_batch(cg_bridge *b, const void *const *data, const size_t *len, size_t n)
{
	uint64_t pos, limit, m = 0;
	int64_t k;

	if (!b || (n && (!data || !len)))
		return -EINVAL;
	if (n == 0)
		return 0;
	/* The prefix of messages that are not too long, at most a ring's worth
	 * (the return value fits an int: the capacity is at most 2^24). */
	while (m < n && m < b->cap && len[m] <= b->max_msg)
		m++;
	if (m == 0)
		return -EMSGSIZE;
	k = claim_n(b, m, &pos, &limit);
	if (k < 0)
		return (int)k;
	for (int64_t i = 0; i < k; i++) {
		struct cg_bridge_slot *s = slot_at(b, pos + (uint64_t)i);
		if (pos + (uint64_t)i + PREFETCH_AHEAD < limit)
			__builtin_prefetch(slot_at(b, pos + (uint64_t)i + PREFETCH_AHEAD), 1, 3);
		s->len = (uint32_t)len[i];
		s->resv = (uint32_t)len[i];
		copy_msg(s->data, data[i], len[i]);
		STORE(&s->seq, pos + (uint64_t)i + 1, REL);
	}
	wake_check(b);
	return (int)k;
}
