/* cgoguard_bridge.h: the bridge section of the cgoguard C API; included by cgoguard.h.
 *
 * A bridge carries events from C threads to one Go consumer through rings
 * in C memory (Go package github.com/cgoguard/cgoguard/bridge). Go creates
 * it with bridge.New and hands C the pointer from Bridge.CPtr(); C threads
 * then push messages without calling into Go:
 *
 *     int rc = cg_bridge_push(b, &ev, sizeof ev);
 *     if (rc == -EPIPE) stop_producing();     // the bridge was closed
 *
 * Rules (MUST/SHOULD):
 *  - Any number of threads MAY push to one bridge at once. Messages from one
 *    thread are delivered in the order that thread pushed them; a message
 *    for which push (or commit) returned 0 is delivered exactly once, unless
 *    the DropOldest policy evicts it to make room, and then it is counted.
 *  - Messages of different threads MAY be delivered in any interleaving,
 *    even when the pushes were ordered by other means (a lock, a hand-off
 *    between threads): each thread pushes into a lane of its own. Code that
 *    needs one order across threads creates the bridge with WithLanes(0)
 *    (Go), so that every push shares one lane. C code called from Go runs
 *    on whatever thread the goroutine has; a goroutine that relies on the
 *    order of messages pushed in different cgo calls SHOULD call
 *    runtime.LockOSThread.
 *  - A message is at most the bridge's maximum message size (Go option
 *    WithMaxMessageSize). Larger payloads SHOULD travel as a reference, e.g.
 *    an encoded arena offset, with the payload in shared memory.
 *  - C code MUST NOT use a cg_bridge * after the Go Bridge that owns it has
 *    become unreachable, unless it holds a reference taken with
 *    cg_bridge_retain (and later dropped with cg_bridge_release). After
 *    Close every push returns -EPIPE, so a retained pointer stays safe.
 *  - A reservation MUST be committed promptly: the consumer delivers a lane
 *    in order, so an open reservation holds back every later message of
 *    that lane. A thread MUST NOT block on a full lane while it holds an
 *    uncommitted reservation in it (its own push would wait for ever).
 *  - A thread's first push to a bridge registers its lane: it takes a lock
 *    and may allocate the lane (capacity × (max message size + 16) bytes),
 *    and the lane is handed to another thread when this one exits. Later
 *    pushes take no lock, allocate nothing, and make no system call while
 *    the consumer is awake. These functions never call into Go. They are
 *    not async-signal-safe: do not push from a signal handler.
 */
#ifndef CGOGUARD_BRIDGE_H
#define CGOGUARD_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* cg_bridge is an opaque handle to a bridge. */
typedef struct cg_bridge cg_bridge;

/* cg_bridge_push copies len bytes from data into the calling thread's lane
 * of the bridge. It returns 0 when
 * the message was accepted, or a negative errno value:
 *   -EMSGSIZE   len is larger than the bridge's maximum message size
 *   -EPIPE      the bridge is closed
 *   -EAGAIN     the lane is full and the policy is Error
 *   -ENOBUFS    the lane is full and the policy is DropNewest (counted as dropped)
 *   -ETIMEDOUT  the lane stayed full for the Block policy's bound (counted as dropped)
 *   -EINVAL     b is NULL
 * Under the Block policy (the default) a full lane makes the caller wait
 * for space; under DropOldest the lane's oldest waiting message is evicted
 * (counted as dropped) and push returns 0.
 *
 * In the thread's own lane a push is plain loads and stores: no locked
 * instruction and no memory fence. The consumer is woken (one eventfd
 * write) only when it is asleep; while it is busy a push makes no system
 * call. */
int cg_bridge_push(cg_bridge *b, const void *data, size_t len);

/* cg_bridge_push_batch pushes the messages data[0..n), of len[0..n) bytes,
 * in order, claiming room for as many as fit at once and checking for a
 * sleeping consumer once: for producers with bursts, cheaper per message
 * than n calls of cg_bridge_push. Like write(2), it may accept only a
 * prefix. It returns:
 *   k > 0       messages data[0..k) were accepted (k <= n); the caller
 *               pushes the rest again from data[k]
 *   0           n is 0
 *   -errno      none was accepted: data[0] was refused, with the value and
 *               counting cg_bridge_push gives for it (-EMSGSIZE, -EPIPE,
 *               -EAGAIN, -ENOBUFS, -ETIMEDOUT), or -EINVAL when b is NULL,
 *               or data or len is NULL with n > 0
 * It accepts fewer than n when the lane has room for fewer (it waits, drops
 * or evicts, per the policy, only when the lane has no room at all, and
 * then for data[0] alone) and stops before the first message longer than
 * the maximum, which the next call refuses with -EMSGSIZE. So each refusal
 * concerns exactly one message, as with cg_bridge_push; a loop
 *
 *     while (n > 0) {
 *         int rc = cg_bridge_push_batch(b, data, len, n);
 *         size_t k = rc > 0 ? (size_t)rc : 1;   // on error data[0] is dropped
 *         if (rc == -EPIPE) break;
 *         data += k; len += k; n -= k;
 *     }
 *
 * delivers exactly what cg_bridge_push per message would, in the same
 * order. */
int cg_bridge_push_batch(cg_bridge *b, const void *const *data, const size_t *len, size_t n);

/* cg_bridge_reserve claims room for a message of len bytes and returns a
 * pointer to it, for the producer to write in place (zero copy). The message
 * becomes visible to the consumer when cg_bridge_commit is called with that
 * pointer. On failure it returns NULL and sets errno to one of the values
 * listed for cg_bridge_push (EMSGSIZE, EPIPE, EAGAIN, ENOBUFS, ETIMEDOUT,
 * EINVAL). The pointer is aligned to 8 bytes. */
void *cg_bridge_reserve(cg_bridge *b, size_t len);

/* cg_bridge_commit publishes the message reserved at p. It returns 0, or
 * -EINVAL when p is not a pointer returned by cg_bridge_reserve on b that
 * is still uncommitted. A reservation made before Close is still delivered
 * when it is committed after Close. Any thread may commit a reservation;
 * the thread that made it finds it fastest. */
int cg_bridge_commit(cg_bridge *b, void *p);

/* cg_bridge_commit_len is cg_bridge_commit for a message shorter than the
 * len reserved: only the first len bytes are delivered. It returns -EINVAL
 * when len exceeds the reserved length. */
int cg_bridge_commit_len(cg_bridge *b, void *p, size_t len);

/* cg_bridge_max_message returns the largest message b accepts, in bytes. */
size_t cg_bridge_max_message(const cg_bridge *b);

/* cg_bridge_retain takes a reference that keeps b's memory valid after the
 * Go Bridge is gone; cg_bridge_release drops it. Each retain MUST be
 * matched by exactly one release. */
void cg_bridge_retain(cg_bridge *b);
void cg_bridge_release(cg_bridge *b);

#ifdef __cplusplus
}
#endif

#endif /* CGOGUARD_BRIDGE_H */
