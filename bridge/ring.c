/* ring.c: the C side of the bridge: per-thread single-producer lanes and a
 * shared multi-producer lane in C memory, with the producers' half of the
 * wakeup and close protocols. The consumer's half is Go code in bridge.go
 * that reads this memory directly; ring.h describes the layout.
 *
 * Memory ordering
 * ---------------
 * A push into a per-thread lane is, in program order:
 *
 *     C1  tail = p + 1                     (relaxed store: the claim)
 *     C2  if (closed) undo C1, -EPIPE      (relaxed load)
 *         write the slot's len and payload (plain stores)
 *     P1  slot.seq = p + 1                 (release store: the publish)
 *     P2  if (waiting) wake the consumer   (relaxed load)
 *
 * with only compiler barriers between C1/C2 and P1/P2. The consumer's
 * acquire load of slot.seq that reads p + 1 synchronises with P1, so it
 * sees the payload: that is all the data path needs, and on x86 both are
 * plain moves.
 *
 * P1/P2 and C1/C2 are each a store followed by a load of another location,
 * the one pair the hardware may reorder (a store waits in the store buffer
 * while a later load completes). Instead of paying a full fence on every
 * push for them, the rare side pays for both with membarrier(2)
 * (MEMBARRIER_CMD_PRIVATE_EXPEDITED), which makes every running thread of
 * the process execute a full memory barrier, and acts as one for threads
 * that are not running (a context switch is one):
 *
 *  - Sleep (Go, bridge.go wait): W1 waiting = 1; membarrier; R1 re-check
 *    every lane. Each producer thread passes a full barrier B inside the
 *    membarrier call. If the producer's P2 comes after B, it reads
 *    waiting == 1 (W1 precedes the call) and wakes the consumer. If P2
 *    comes before B, so does P1 (P1 precedes P2 in program order and the
 *    compiler barrier keeps it there; B drains the store buffer), and R1,
 *    after the call returns, sees the message. Either the producer wakes
 *    the consumer or the consumer does not sleep: no lost wakeup, and no
 *    system call or fence on the push while the consumer is awake.
 *  - Close (cg_bridge__close): W2 closed = 1; membarrier; then sealed = 1.
 *    By the same argument every push either reads closed == 1 at C2 and
 *    undoes its claim, or made its claim C1 visible before sealed is set.
 *    The consumer declares the bridge drained only after it reads sealed
 *    and finds head == tail in every lane, so no push that returned 0 is
 *    left behind. A push that undoes its claim after the consumer read it
 *    wakes the consumer (with a full fence: a slow path).
 *
 * The consumer issues the membarrier only when it is about to sleep (after
 * spinning), and only once a per-thread lane exists; pushes into the
 * shared lane keep the sequentially consistent publish of the old ring.
 * Lane registration publishes nlanes with a sequentially consistent store
 * followed by a fence, so a consumer that read nlanes == 1 (and skipped
 * the membarrier) is seen asleep by the new lane's first push.
 *
 * Without membarrier (old kernels, seccomp), per-thread lanes are never
 * created and every push takes the shared lane: correct, only slower.
 *
 * Per-lane space: the owner keeps limit, released + cap as it last read
 * it, and re-reads released (acquire, pairing with the consumer's release
 * of the slots) only when limit says the lane is full: producer and consumer
 * do not share a cache line per message, only per lap of the lane.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
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
/* A compiler barrier: the hardware ordering it leaves open is closed by
 * membarrier on the other side (see above). */
#define COMPILER_BARRIER() __atomic_signal_fence(__ATOMIC_SEQ_CST)
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* A producer that finds its lane full re-checks this many times (16
 * pauses each, some 15 µs in all on a CPU whose pause takes ~140 cycles)
 * before it sleeps on the futex: the consumer often frees space that soon,
 * and a futex sleep and wake cost a system call on both sides. Longer
 * spins take the CPU from the consumer when producers outnumber the cores;
 * a sleeping producer is woken when its lane is half empty. (sched_yield
 * instead of the spin cost more here: every yield was a context switch.) */
#define FULL_SPINS 16

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

static inline struct cg_bridge_slot *slot_at(const cg_bridge *b, const struct cg_bridge_lane *l, uint64_t pos)
{
	return (struct cg_bridge_slot *)(l->slots + slot_index(b, pos) * b->stride);
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- membarrier -------------------------------------------------------- */

static pthread_once_t mb_once = PTHREAD_ONCE_INIT;
static int mb_ok;

static void mb_init(void)
{
	long q = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
	if (q < 0 || !(q & MEMBARRIER_CMD_PRIVATE_EXPEDITED))
		return;
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) != 0)
		return;
	mb_ok = 1;
}

int cg_bridge__lanes_supported(void)
{
	pthread_once(&mb_once, mb_init);
	return mb_ok;
}

/* cg_bridge__barrier makes every running thread of the process execute a
 * full memory barrier (see "Memory ordering"). It returns 0, or -errno. */
int cg_bridge__barrier(void)
{
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0)
		return -errno;
	return 0;
}

/* ---- live bridges and per-thread lane references ---------------------- */

/* The live bridges, so that a thread's exit can hand its lanes back
 * without touching a bridge that was freed meanwhile. */
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static cg_bridge *live_head;
static uint64_t next_id;

/* A thread's reference to its lane in one bridge. id guards against a new
 * bridge allocated at a freed one's address. */
struct lane_ref {
	cg_bridge *b;
	uint64_t id;
	struct cg_bridge_lane *lane;
	int own; /* a per-thread lane this thread holds (not the shared one) */
};

struct lane_tls {
	struct lane_ref last; /* the most recent lookup: the fast path */
	struct lane_ref *tab;
	uint32_t n, cap;
	int keyed; /* the exit destructor is armed */
};

static __thread struct lane_tls lane_tls __attribute__((tls_model("initial-exec")));
static pthread_key_t lane_key;
static pthread_once_t lane_key_once = PTHREAD_ONCE_INIT;

static int alive(const cg_bridge *b, uint64_t id) /* live_mu held */
{
	for (cg_bridge *x = live_head; x; x = x->live_next)
		if (x == b && x->id == id)
			return 1;
	return 0;
}

/* lanes_exit runs when a thread that registered lanes exits: its lanes go
 * back to their bridges for the next new thread. Messages still in them
 * stay and are delivered in order. */
static void lanes_exit(void *p)
{
	struct lane_tls *t = p;

	pthread_mutex_lock(&live_mu);
	for (uint32_t i = 0; i < t->n; i++) {
		struct lane_ref *r = &t->tab[i];
		if (!r->own || !alive(r->b, r->id))
			continue;
		pthread_mutex_lock(&r->b->lane_mu);
		r->lane->owned = 0;
		pthread_mutex_unlock(&r->b->lane_mu);
	}
	pthread_mutex_unlock(&live_mu);
	free(t->tab);
	memset(t, 0, sizeof *t);
}

static void lane_key_init(void)
{
	if (pthread_key_create(&lane_key, lanes_exit) != 0)
		lane_key = (pthread_key_t)-1;
}

/* prune drops references to bridges that are gone. */
static void prune(struct lane_tls *t)
{
	uint32_t k = 0;

	pthread_mutex_lock(&live_mu);
	for (uint32_t i = 0; i < t->n; i++)
		if (alive(t->tab[i].b, t->tab[i].id))
			t->tab[k++] = t->tab[i];
	pthread_mutex_unlock(&live_mu);
	t->n = k;
}

/* reserve_ref makes room for one more reference; 0 on success. */
static int reserve_ref(struct lane_tls *t)
{
	if (t->n < t->cap)
		return 0;
	prune(t);
	if (t->n < t->cap)
		return 0;
	uint32_t cap = t->cap ? 2 * t->cap : 4;
	struct lane_ref *tab = realloc(t->tab, cap * sizeof *tab);
	if (!tab)
		return -1;
	t->tab = tab;
	t->cap = cap;
	return 0;
}

static struct cg_bridge_lane *lane_new(const cg_bridge *b, uint32_t index, int shared)
{
	struct cg_bridge_lane *l;
	void *mem = NULL;

	if (posix_memalign((void **)&l, 64, sizeof *l) != 0)
		return NULL;
	memset(l, 0, sizeof *l);
	if (posix_memalign(&mem, 64, b->cap * b->stride) != 0) {
		free(l);
		return NULL;
	}
	memset(mem, 0, b->cap * b->stride); /* seq 0: no slot looks ready */
	l->slots = mem;
	l->end = l->slots + b->cap * b->stride;
	l->index = index;
	l->shared = (uint32_t)shared;
	l->wp = l->slots;
	l->limit = b->cap;
	return l;
}

static void lane_free(struct cg_bridge_lane *l)
{
	if (l) {
		free(l->slots);
		free(l);
	}
}

/* lane_slow finds or registers the calling thread's lane in b: a free
 * per-thread lane, a new one, or the shared lane when per-thread lanes are
 * off, all taken, or cannot be allocated. NULL with *err = EPIPE when b is
 * closed. */
static __attribute__((noinline)) struct cg_bridge_lane *lane_slow(cg_bridge *b, int *err)
{
	struct lane_tls *t = &lane_tls;
	struct cg_bridge_lane *l = NULL;
	int own = 0;

	for (uint32_t i = 0; i < t->n; i++) {
		if (t->tab[i].b == b && t->tab[i].id == b->id) {
			t->last = t->tab[i];
			return t->last.lane;
		}
	}
	if (LOAD(&b->closed, ACQ)) {
		*err = EPIPE;
		return NULL;
	}
	if (reserve_ref(t) != 0)
		return b->lanes[0]; /* cannot remember a lane: use the shared one */
	if (!t->keyed) {
		pthread_once(&lane_key_once, lane_key_init);
		if (lane_key != (pthread_key_t)-1 && pthread_setspecific(lane_key, t) == 0)
			t->keyed = 1;
	}
	pthread_mutex_lock(&b->lane_mu);
	if (b->closed) {
		pthread_mutex_unlock(&b->lane_mu);
		*err = EPIPE;
		return NULL;
	}
	/* A lane not handed back at thread exit would be lost, so per-thread
	 * lanes need the exit destructor. */
	if (mb_ok && t->keyed && b->max_lanes > 0) {
		uint32_t n = b->nlanes;
		for (uint32_t i = 1; i < n && !l; i++) {
			if (!b->lanes[i]->owned)
				l = b->lanes[i];
		}
		if (!l && n <= b->max_lanes) {
			l = lane_new(b, n, 0);
			if (l) {
				b->lanes[n] = l;
				STORE(&b->nlanes, n + 1, SC);
			}
		}
		if (l) {
			l->owned = 1;
			own = 1;
		}
	}
	pthread_mutex_unlock(&b->lane_mu);
	/* Pairs with the consumer's store of waiting and load of nlanes (both
	 * sequentially consistent): a consumer that saw the old nlanes and so
	 * skipped the membarrier is seen asleep by this thread's pushes. */
	__atomic_thread_fence(SC);
	if (!l)
		l = b->lanes[0];
	t->tab[t->n++] = (struct lane_ref){b, b->id, l, own};
	t->last = t->tab[t->n - 1];
	return l;
}

/* lane_of returns the calling thread's lane in b (see lane_slow). */
static inline struct cg_bridge_lane *lane_of(cg_bridge *b, int *err)
{
	struct lane_tls *t = &lane_tls;

	if (LIKELY(t->last.b == b && t->last.id == b->id))
		return t->last.lane;
	return lane_slow(b, err);
}

/* ---- creation, close, references --------------------------------------- */

cg_bridge *cg_bridge__new(uint64_t cap, uint32_t max_msg, int32_t policy, int64_t block_ns, uint32_t max_lanes)
{
	cg_bridge *b;

	if (cap < 2 || max_msg == 0 || policy < CG_BRIDGE_BLOCK || policy > CG_BRIDGE_ERROR ||
	    max_lanes > CG_BRIDGE_MAX_LANES) {
		errno = EINVAL;
		return NULL;
	}
	pthread_once(&mb_once, mb_init);
	if (posix_memalign((void **)&b, 64, sizeof *b) != 0) {
		errno = ENOMEM;
		return NULL;
	}
	memset(b, 0, sizeof *b);
	b->cap = cap;
	b->mask = (cap & (cap - 1)) == 0 ? cap - 1 : 0;
	b->stride = (CG_BRIDGE_SLOT_HDR + (uint64_t)max_msg + 7) & ~UINT64_C(7);
	b->max_msg = max_msg;
	b->policy = policy;
	b->block_ns = block_ns;
	b->max_lanes = max_lanes;
	b->refs = 1;
	b->lanes = calloc((size_t)max_lanes + 1, sizeof *b->lanes);
	if (b->lanes)
		b->lanes[0] = lane_new(b, 0, 1);
	if (!b->lanes || !b->lanes[0]) {
		free(b->lanes);
		free(b);
		errno = ENOMEM;
		return NULL;
	}
	b->nlanes = 1;
	b->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (b->efd < 0) {
		int e = errno;
		lane_free(b->lanes[0]);
		free(b->lanes);
		free(b);
		errno = e;
		return NULL;
	}
	pthread_mutex_init(&b->lane_mu, NULL);
	pthread_mutex_lock(&live_mu);
	b->id = ++next_id;
	b->live_next = live_head;
	if (live_head)
		live_head->live_prev = b;
	live_head = b;
	pthread_mutex_unlock(&live_mu);
	__atomic_thread_fence(SC);
	return b;
}

int cg_bridge__dup_efd(cg_bridge *b)
{
	return fcntl(b->efd, F_DUPFD_CLOEXEC, 0);
}

void cg_bridge__wake_producers(cg_bridge *b, struct cg_bridge_lane *l)
{
	(void)b;
	STORE(&l->prod_waiting, 0, SC);
	__atomic_fetch_add(&l->space_seq, 1, SC);
	syscall(SYS_futex, &l->space_seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static void wake_consumer(cg_bridge *b)
{
	uint64_t one = 1;
	ssize_t n;

	ADD(&b->wakeups, 1); /* before the write, so a woken Drain sees it */
	n = write(b->efd, &one, sizeof one);
	(void)n; /* EAGAIN only if the counter is near 2^64: already readable */
}

/* wake_if_waiting wakes the consumer if it announced it is going to sleep;
 * the exchange makes one producer of many do it. */
static inline void wake_if_waiting(cg_bridge *b)
{
	if (__atomic_exchange_n(&b->waiting, 0, SC))
		wake_consumer(b);
}

void cg_bridge__close(cg_bridge *b)
{
	uint32_t n;

	pthread_mutex_lock(&b->lane_mu);
	STORE(&b->closed, 1, SC);
	__atomic_fetch_or(&b->lanes[0]->tail, CG_BRIDGE_CLOSED, SC);
	n = b->nlanes;
	pthread_mutex_unlock(&b->lane_mu);
	/* No lane is registered after closed is set (lane_slow checks it under
	 * lane_mu). Per-thread pushes check closed with no fence after their
	 * claim: the barrier makes every claim that saw the bridge open visible
	 * before sealed (see "Memory ordering"). */
	if (n > 1 && cg_bridge__barrier() != 0)
		__atomic_thread_fence(SC); /* not reached: lanes exist only with membarrier */
	STORE(&b->sealed, 1, SC);
	for (uint32_t i = 0; i < n; i++)
		cg_bridge__wake_producers(b, b->lanes[i]);
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
	pthread_mutex_lock(&live_mu);
	if (b->live_prev)
		b->live_prev->live_next = b->live_next;
	else
		live_head = b->live_next;
	if (b->live_next)
		b->live_next->live_prev = b->live_prev;
	pthread_mutex_unlock(&live_mu);
	close(b->efd);
	for (uint32_t i = 0; i < b->nlanes; i++)
		lane_free(b->lanes[i]);
	free(b->lanes);
	pthread_mutex_destroy(&b->lane_mu);
	free(b);
}

size_t cg_bridge_max_message(const cg_bridge *b)
{
	return b ? b->max_msg : 0;
}

/* ---- full lanes ---------------------------------------------------------- */

/* evictable reports whether a DropOldest producer finding tail t full can
 * evict now: the lane is full of undelivered messages (none claimed by the
 * consumer) and the oldest, at head, is committed. */
static int evictable(const cg_bridge *b, struct cg_bridge_lane *l, uint64_t t, uint64_t *h)
{
	uint64_t r = LOAD(&l->released, SC);

	*h = LOAD(&l->head, SC);
	return *h == r && t == r + b->cap && LOAD(&slot_at(b, l, r)->seq, SC) == r + 1;
}

/* has_room reports whether tail t of lane l may advance now. */
static int has_room(const cg_bridge *b, struct cg_bridge_lane *l, uint64_t t)
{
	return t < LOAD(&l->released, SC) + b->cap;
}

/* wait_space sleeps until the consumer frees space in lane l, the bridge
 * closes, or the absolute CLOCK_MONOTONIC deadline (ns, 0 = none) passes.
 * t is the tail the caller found full. It returns ETIMEDOUT when the
 * deadline has passed, else 0; the caller re-checks. */
static int wait_space(cg_bridge *b, struct cg_bridge_lane *l, uint64_t t, int64_t deadline)
{
	uint32_t g = LOAD(&l->space_seq, SC);
	struct timespec ts, *tsp = NULL;
	uint64_t h;

	STORE(&l->prod_waiting, 1, SC);
	/* Re-check after announcing ourselves: the consumer advances released
	 * and then reads prod_waiting, so either it sees us or we see space. */
	if (LOAD(&b->closed, SC) || has_room(b, l, t))
		return 0;
	if (b->policy == CG_BRIDGE_DROP_OLDEST && evictable(b, l, t, &h))
		return 0;
	if (deadline) {
		if (now_ns() >= deadline)
			return ETIMEDOUT;
		ts.tv_sec = deadline / 1000000000;
		ts.tv_nsec = deadline % 1000000000;
		tsp = &ts;
	}
	syscall(SYS_futex, &l->space_seq, FUTEX_WAIT_BITSET_PRIVATE, g, tsp, NULL, FUTEX_BITSET_MATCH_ANY);
	if (deadline && now_ns() >= deadline)
		return ETIMEDOUT;
	return 0;
}

/* evict_oldest drops the oldest message of lane l so that tail t (found
 * full) can be claimed. It returns 1 when the caller should retry at once,
 * 0 when it has to wait (the oldest message is still being written, or the
 * consumer is delivering). */
static int evict_oldest(cg_bridge *b, struct cg_bridge_lane *l, uint64_t t)
{
	uint64_t h;

	if (!evictable(b, l, t, &h))
		return (LOAD(&l->tail, SC) & ~CG_BRIDGE_CLOSED) != t; /* the tail moved: retry */
	if (!__atomic_compare_exchange_n(&l->head, &h, h + 1, 0, SC, RLX))
		return 1; /* the consumer claimed it, or another producer evicted it */
	/* Position h is ours now and nobody reads its slot: count it released.
	 * (If the consumer has meanwhile delivered and released later
	 * positions, released briefly runs one behind, which only delays.) */
	__atomic_fetch_add(&l->released, 1, SC);
	ADD(&b->dropped, 1);
	return 1;
}

/* full applies the policy to a push that found lane l full at tail t.
 * *waited and *deadline carry the state of one push across retries. It
 * returns 0 to retry the claim, or a negative errno to refuse. */
static int full(cg_bridge *b, struct cg_bridge_lane *l, uint64_t t, int *waited, int *spins, int64_t *deadline)
{
	if (LOAD(&b->closed, ACQ))
		return -EPIPE;
	switch (b->policy) {
	case CG_BRIDGE_ERROR:
		ADD(&b->dropped, 1);
		return -EAGAIN;
	case CG_BRIDGE_DROP_NEWEST:
		ADD(&b->dropped, 1);
		return -ENOBUFS;
	case CG_BRIDGE_DROP_OLDEST:
		if (!evict_oldest(b, l, t)) {
			if (!*waited) {
				*waited = 1;
				ADD(&b->full_waits, 1);
			}
			wait_space(b, l, t, now_ns() + EVICT_RECHECK_NS);
		}
		return 0;
	default: /* Block */
		if (!*waited) {
			*waited = 1;
			ADD(&b->full_waits, 1);
			if (b->block_ns > 0)
				*deadline = now_ns() + b->block_ns;
		}
		if (*spins < FULL_SPINS) {
			(*spins)++;
			cpu_relax();
			return 0;
		}
		if (wait_space(b, l, t, *deadline) == ETIMEDOUT) {
			ADD(&b->dropped, 1);
			return -ETIMEDOUT;
		}
		return 0;
	}
}

/* ---- claiming positions ---------------------------------------------------- */

/* undo_claim takes back a per-thread claim that found the bridge closed. A
 * consumer that saw the claim may be waiting for it: wake it (slow path,
 * with a full fence). */
static __attribute__((noinline)) int undo_claim(cg_bridge *b, struct cg_bridge_lane *l, uint64_t p)
{
	STORE(&l->tail, p, SC);
	__atomic_thread_fence(SC);
	if (LOAD(&b->waiting, SC))
		wake_if_waiting(b);
	return -EPIPE;
}

/* room_own makes room for position p in the calling thread's lane l, which
 * its limit says is full: it re-reads released and, while the lane is
 * really full, applies the policy. It returns 0 once p fits, or a negative
 * errno. Out of line: the fast path stays a leaf. */
static __attribute__((noinline)) int room_own(cg_bridge *b, struct cg_bridge_lane *l, uint64_t p)
{
	int waited = 0, spins = 0;
	int64_t deadline = 0;

	for (;;) {
		/* Pairs with the consumer's release of the slots. */
		l->limit = LOAD(&l->released, ACQ) + b->cap;
		if (p < l->limit)
			return 0;
		int rc = full(b, l, p, &waited, &spins, &deadline);
		if (rc < 0)
			return rc;
	}
}

/* claim_own claims up to want (>= 1) positions of the calling thread's lane
 * l: as many as are free, at least one, applying the policy when none is.
 * It returns how many (the first at *at, its slot in *sp; the others
 * follow in ring order), or a negative errno. Only the owner writes tail,
 * limit and wp, so this is plain loads and stores (C1, C2 in "Memory
 * ordering"). */
static inline int64_t claim_own(cg_bridge *b, struct cg_bridge_lane *l, uint64_t want, uint64_t *at,
				struct cg_bridge_slot **sp)
{
	uint64_t p = LOAD(&l->tail, RLX);

	if (UNLIKELY(p + want > l->limit)) {
		if (p >= l->limit) {
			int rc = room_own(b, l, p);
			if (rc < 0)
				return rc;
		} else {
			l->limit = LOAD(&l->released, ACQ) + b->cap; /* room for more of a batch? */
		}
	}
	uint64_t k = l->limit - p < want ? l->limit - p : want;
	STORE(&l->tail, p + k, RLX); /* C1 */
	COMPILER_BARRIER();
	if (UNLIKELY(LOAD(&b->closed, RLX))) /* C2 */
		return undo_claim(b, l, p);
	*at = p;
	*sp = (struct cg_bridge_slot *)l->wp;
	unsigned char *wp = l->wp + k * b->stride;
	l->wp = wp >= l->end ? wp - b->cap * b->stride : wp;
	return (int64_t)k;
}

/* claim_shared claims up to want (>= 1) consecutive positions of the
 * shared lane with one compare-and-swap of tail: as many as are free, at
 * least one, applying the policy when none is. */
static int64_t claim_shared(cg_bridge *b, struct cg_bridge_lane *l, uint64_t want, uint64_t *at,
			    struct cg_bridge_slot **sp)
{
	uint64_t pos, limit;
	int64_t deadline = 0;
	int waited = 0, spins = 0;

	pos = LOAD(&l->tail, RLX);
	limit = LOAD(&l->released, ACQ) + b->cap;
	for (;;) {
		if (pos & CG_BRIDGE_CLOSED)
			return -EPIPE;
		if (pos < limit) {
			uint64_t k = limit - pos < want ? limit - pos : want;
			if (__atomic_compare_exchange_n(&l->tail, &pos, pos + k, 1, ACQ, RLX)) {
				*at = pos;
				*sp = slot_at(b, l, pos);
				return (int64_t)k;
			}
			continue; /* pos now holds the current tail */
		}
		limit = LOAD(&l->released, ACQ) + b->cap;
		if (pos < limit)
			continue;
		int rc = full(b, l, pos, &waited, &spins, &deadline);
		if (rc < 0)
			return rc;
		pos = LOAD(&l->tail, RLX);
		limit = LOAD(&l->released, ACQ) + b->cap;
	}
}

static inline int64_t claim_n(cg_bridge *b, struct cg_bridge_lane *l, uint64_t want, uint64_t *at,
			      struct cg_bridge_slot **sp)
{
	if (LIKELY(!l->shared))
		return claim_own(b, l, want, at, sp);
	return claim_shared(b, l, want, at, sp);
}

static __attribute__((noinline)) int wake_slow(cg_bridge *b)
{
	wake_if_waiting(b);
	return 0;
}

/* publish makes the message at pos of lane l visible and wakes the consumer
 * if it is asleep. In a per-thread lane: a release store and a plain load
 * (P1, P2 in "Memory ordering"). In the shared lane: a sequentially
 * consistent store and load, as the consumer may skip the membarrier when
 * only the shared lane exists. */
static inline void publish(cg_bridge *b, struct cg_bridge_lane *l, struct cg_bridge_slot *s, uint64_t pos)
{
	if (LIKELY(!l->shared)) {
		STORE(&s->seq, pos + 1, REL); /* P1 */
		COMPILER_BARRIER();
		if (UNLIKELY(LOAD(&b->waiting, RLX))) /* P2 */
			wake_slow(b);
		return;
	}
	STORE(&s->seq, pos + 1, SC);
	if (LOAD(&b->waiting, SC))
		wake_slow(b);
}

/* next_slot returns the slot after s in ring order. */
static inline struct cg_bridge_slot *next_slot(const cg_bridge *b, const struct cg_bridge_lane *l,
					       struct cg_bridge_slot *s)
{
	unsigned char *n = (unsigned char *)s + b->stride;
	return (struct cg_bridge_slot *)(n == l->end ? l->slots : n);
}

/* prefetch fetches, for writing, the line of the slot PREFETCH_AHEAD
 * positions after s (at position pos), so that a stream of pushes does not
 * wait on each line in turn: only within the part of the lane the consumer
 * has released, and not across the wrap. */
static inline void prefetch(const cg_bridge *b, const struct cg_bridge_lane *l, const struct cg_bridge_slot *s,
			    uint64_t pos, uint64_t limit)
{
	const unsigned char *p = (const unsigned char *)s + PREFETCH_AHEAD * b->stride;

	if (p < l->end && pos + PREFETCH_AHEAD < limit) {
#if defined(__x86_64__)
		/* gcc emits a read prefetch for __builtin_prefetch(p, 1, ...)
		 * unless built for a CPU with PREFETCHW; processors without it
		 * execute the encoding as a no-op. */
		__asm__ volatile("prefetchw (%0)" ::"r"(p));
#else
		__builtin_prefetch(p, 1, 3);
#endif
	}
}

/* ---- the public API ----------------------------------------------------- */

/* push_own_any is cg_bridge_push into the calling thread's lane, for any
 * length and a full lane. */
static __attribute__((noinline)) int push_own_any(cg_bridge *b, struct cg_bridge_lane *l, const void *data,
						  size_t len)
{
	uint64_t pos = 0;
	struct cg_bridge_slot *s = NULL;
	int64_t k = claim_own(b, l, 1, &pos, &s);

	if (k < 0)
		return (int)k;
	prefetch(b, l, s, pos, l->limit);
	s->len = (uint32_t)len;
	s->resv = (uint32_t)len;
	copy_msg(s->data, data, len);
	publish(b, l, s, pos);
	return 0;
}

/* Messages up to this long are copied inline by push_own. */
#define INLINE_COPY 32

/* copy_small copies up to INLINE_COPY bytes with a few possibly
 * overlapping fixed-size moves, no call. */
static inline void copy_small(unsigned char *dst, const unsigned char *src, size_t len)
{
	if (len >= 8) {
		if (len > 16) {
			memcpy(dst, src, 16);
			memcpy(dst + len - 16, src + len - 16, 16);
		} else {
			memcpy(dst, src, 8);
			memcpy(dst + len - 8, src + len - 8, 8);
		}
	} else if (len >= 4) {
		memcpy(dst, src, 4);
		memcpy(dst + len - 4, src + len - 4, 4);
	} else if (len) {
		dst[0] = src[0];
		dst[len / 2] = src[len / 2];
		dst[len - 1] = src[len - 1];
	}
}

/* push_own is cg_bridge_push into the calling thread's lane: the fast path,
 * claim_own and publish specialised for one message of at most
 * INLINE_COPY bytes in a lane with room. Everything else leaves through a
 * tail call, so the function saves no registers. */
static inline int push_own(cg_bridge *b, struct cg_bridge_lane *l, const void *data, size_t len)
{
	uint64_t p = LOAD(&l->tail, RLX);
	struct cg_bridge_slot *s;
	unsigned char *next;

	if (UNLIKELY(p >= l->limit || len > INLINE_COPY))
		return push_own_any(b, l, data, len);
	STORE(&l->tail, p + 1, RLX); /* C1 */
	COMPILER_BARRIER();
	if (UNLIKELY(LOAD(&b->closed, RLX))) /* C2 */
		return undo_claim(b, l, p);
	s = (struct cg_bridge_slot *)l->wp;
	next = l->wp + b->stride;
	l->wp = next == l->end ? l->slots : next;
	prefetch(b, l, s, p, l->limit);
	s->len = (uint32_t)len;
	s->resv = (uint32_t)len;
	copy_small(s->data, data, len);
	STORE(&s->seq, p + 1, REL); /* P1 */
	COMPILER_BARRIER();
	if (UNLIKELY(LOAD(&b->waiting, RLX))) /* P2 */
		return wake_slow(b);
	return 0;
}

static int push_shared(cg_bridge *b, struct cg_bridge_lane *l, const void *data, size_t len)
{
	uint64_t pos;
	struct cg_bridge_slot *s;
	int64_t k = claim_shared(b, l, 1, &pos, &s);

	if (k < 0)
		return (int)k;
	s->len = (uint32_t)len;
	s->resv = (uint32_t)len;
	copy_msg(s->data, data, len);
	publish(b, l, s, pos);
	return 0;
}

/* push_slow is cg_bridge_push when the thread's last lane is not b's own
 * lane: it looks the lane up or registers it. */
static __attribute__((noinline)) int push_slow(cg_bridge *b, const void *data, size_t len)
{
	int err = 0;
	struct cg_bridge_lane *l = lane_of(b, &err);

	if (!l)
		return -err;
	if (!l->shared)
		return push_own(b, l, data, len);
	return push_shared(b, l, data, len);
}

int cg_bridge_push(cg_bridge *b, const void *data, size_t len)
{
	struct lane_tls *t = &lane_tls;

	if (UNLIKELY(!b))
		return -EINVAL;
	if (UNLIKELY(len > b->max_msg))
		return -EMSGSIZE;
	if (LIKELY(t->last.b == b && t->last.id == b->id && t->last.own))
		return push_own(b, t->last.lane, data, len);
	return push_slow(b, data, len);
}

/* cg_bridge__push_shared is Go's Push: the shared lane, so that a
 * goroutine's pushes stay in order whatever threads it runs on. */
int cg_bridge__push_shared(cg_bridge *b, const void *data, size_t len)
{
	if (len > b->max_msg)
		return -EMSGSIZE;
	return push_shared(b, b->lanes[0], data, len);
}

void *cg_bridge_reserve(cg_bridge *b, size_t len)
{
	int err = 0;
	uint64_t pos;
	int64_t k;
	struct cg_bridge_lane *l;
	struct cg_bridge_slot *s;

	if (!b) {
		errno = EINVAL;
		return NULL;
	}
	if (len > b->max_msg) {
		errno = EMSGSIZE;
		return NULL;
	}
	l = lane_of(b, &err);
	if (!l) {
		errno = err;
		return NULL;
	}
	k = claim_n(b, l, 1, &pos, &s);
	if (k < 0) {
		errno = (int)-k;
		return NULL;
	}
	s->len = (uint32_t)len;
	s->resv = (uint32_t)len;
	return s->data;
}

/* position returns the position a claimed slot of lane l holds: the one
 * position in [tail - cap, tail) that maps to it (a claimed, undelivered
 * position is at least released, and tail never passes released + cap). */
static uint64_t position(const cg_bridge *b, struct cg_bridge_lane *l, const struct cg_bridge_slot *s)
{
	uint64_t idx = (uint64_t)((const unsigned char *)s - l->slots) / b->stride;
	uint64_t t = LOAD(&l->tail, ACQ) & ~CG_BRIDGE_CLOSED;
	uint64_t lo = t >= b->cap ? t - b->cap : 0;

	return lo + ((idx + b->cap - slot_index(b, lo)) % b->cap);
}

/* in_lane reports whether q lies in lane l's slots at a payload start. */
static int in_lane(const cg_bridge *b, const struct cg_bridge_lane *l, const unsigned char *q)
{
	uint64_t off;

	if (q < l->slots + CG_BRIDGE_SLOT_HDR || q >= l->end)
		return 0;
	off = (uint64_t)(q - CG_BRIDGE_SLOT_HDR - l->slots);
	return off % b->stride == 0;
}

/* reserved returns the slot of a reservation p on b, or NULL when p is not
 * an uncommitted reservation. *lp and *pos are set to its lane and
 * position. The calling thread's own lane is tried first: reservations are
 * usually committed by the thread that made them. */
static struct cg_bridge_slot *reserved(cg_bridge *b, void *p, struct cg_bridge_lane **lp, uint64_t *pos)
{
	unsigned char *q = p;
	struct cg_bridge_lane *l = NULL;
	struct cg_bridge_slot *s;
	struct lane_tls *t = &lane_tls;

	if (!b || !q)
		return NULL;
	if (t->last.b == b && t->last.id == b->id && in_lane(b, t->last.lane, q)) {
		l = t->last.lane;
	} else {
		uint32_t n = LOAD(&b->nlanes, ACQ);
		for (uint32_t i = 0; i < n && !l; i++)
			if (in_lane(b, b->lanes[i], q))
				l = b->lanes[i];
	}
	if (!l)
		return NULL;
	s = (struct cg_bridge_slot *)(q - CG_BRIDGE_SLOT_HDR);
	*pos = position(b, l, s);
	/* Claimed (below tail), not delivered (at or above released), and not
	 * committed yet. */
	if (*pos >= (LOAD(&l->tail, ACQ) & ~CG_BRIDGE_CLOSED) || *pos < LOAD(&l->released, ACQ) ||
	    LOAD(&s->seq, ACQ) == *pos + 1)
		return NULL;
	*lp = l;
	return s;
}

int cg_bridge_commit_len(cg_bridge *b, void *p, size_t len)
{
	uint64_t pos;
	struct cg_bridge_lane *l;
	struct cg_bridge_slot *s = reserved(b, p, &l, &pos);

	if (!s || len > s->resv)
		return -EINVAL;
	s->len = (uint32_t)len;
	publish(b, l, s, pos);
	return 0;
}

int cg_bridge_commit(cg_bridge *b, void *p)
{
	uint64_t pos;
	struct cg_bridge_lane *l;
	struct cg_bridge_slot *s = reserved(b, p, &l, &pos);

	if (!s)
		return -EINVAL;
	s->len = s->resv;
	publish(b, l, s, pos);
	return 0;
}

/* cg_bridge_push_batch claims room for as many of the n messages as fit at
 * once, copies them, publishes each and checks for a sleeping consumer
 * once. In the shared lane that is one compare-and-swap and one fence per
 * batch instead of per message. */
int cg_bridge_push_batch(cg_bridge *b, const void *const *data, const size_t *len, size_t n)
{
	uint64_t pos, m = 0, limit;
	int64_t k;
	int err = 0;
	struct cg_bridge_lane *l;
	struct cg_bridge_slot *s;

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
	l = lane_of(b, &err);
	if (!l)
		return -err;
	k = claim_n(b, l, m, &pos, &s);
	if (k < 0)
		return (int)k;
	limit = l->shared ? pos + (uint64_t)k : l->limit;
	for (int64_t i = 0; i < k; i++) {
		prefetch(b, l, s, pos + (uint64_t)i, limit);
		s->len = (uint32_t)len[i];
		s->resv = (uint32_t)len[i];
		copy_msg(s->data, data[i], len[i]);
		STORE(&s->seq, pos + (uint64_t)i + 1, REL);
		s = next_slot(b, l, s);
	}
	if (LIKELY(!l->shared)) {
		COMPILER_BARRIER();
		if (UNLIKELY(LOAD(&b->waiting, RLX)))
			wake_slow(b);
	} else {
		__atomic_thread_fence(SC);
		if (LOAD(&b->waiting, RLX))
			wake_slow(b);
	}
	return (int)k;
}
