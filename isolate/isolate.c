//go:build cgo && linux

/*
 * isolate.c: the shared-memory transport of package isolate (both sides)
 * and the worker's serving loop.
 *
 * Ordering: every store that publishes (req, resp) and every load that
 * decides to sleep is sequentially consistent, so of "store req; load
 * worker_sleeping" (parent) and "store worker_sleeping; load req" (worker)
 * at least one side sees the other: a request never waits for a wake-up
 * that is not coming. Likewise for resp and parent_sleeping. The futex is
 * shared (not FUTEX_PRIVATE): the words live in memory two processes map.
 */
#define _GNU_SOURCE
#include "isolate.h"
#include "guard.h"
#include "cgoguard.h"
#include "cgoguard_isolate.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

_Static_assert(sizeof(cg_iso_slot) <= CG_ISO_SLOT_SIZE, "slot fits its page");
_Static_assert(offsetof(cg_iso_slot, resp) == 64, "response line starts on its own cache line");
_Static_assert(CG_ISO_FRAMES == CG_MAX_FRAMES, "a crash record holds every frame the guard keeps");
_Static_assert(CG_ISO_MSG == CG_DETAIL_MSG, "a message holds what cg_set_error keeps");

static int64_t iso_now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline void iso_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static long iso_futex_wait(uint32_t *addr, uint32_t val, int64_t timeout_ns) {
	struct timespec ts, *tp = NULL;
	if (timeout_ns >= 0) {
		ts.tv_sec = timeout_ns / 1000000000LL;
		ts.tv_nsec = timeout_ns % 1000000000LL;
		tp = &ts;
	}
	return syscall(SYS_futex, addr, FUTEX_WAIT, val, tp, NULL, 0);
}

static void iso_futex_wake(uint32_t *addr) { syscall(SYS_futex, addr, FUTEX_WAKE, INT_MAX, NULL, NULL, 0); }

/* ---- parent side ---------------------------------------------------------- */

void cg_iso_init(cg_iso_slot *s, uint32_t spin_ns) {
	memset(s, 0, sizeof(*s));
	s->spin_ns = spin_ns;
	__atomic_store_n(&s->resp, CG_ISO_NOT_READY, __ATOMIC_SEQ_CST);
}

void cg_iso_post(cg_iso_slot *s, uint32_t seq, uint32_t op, uint32_t fn, uint64_t arg, int has_trace, uint64_t trace_hi, uint64_t trace_lo, const cg_fault *fault) {
	if (fault != NULL) {
		/* The message only for error(): the rest of the line stays cold. */
		memcpy(&s->fault, fault, offsetof(cg_fault, msg));
		if (fault->action == CG_FAULT_ERROR) {
			size_t n = strnlen(fault->msg, CG_FAULT_MSG - 1);
			memcpy(s->fault.msg, fault->msg, n);
			s->fault.msg[n] = 0;
		}
	}
	s->has_fault = fault != NULL;
	s->op = op;
	s->fn = fn;
	s->arg = arg;
	s->has_trace = (uint32_t)has_trace;
	s->trace_hi = trace_hi;
	s->trace_lo = trace_lo;
	__atomic_store_n(&s->req, seq, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&s->worker_sleeping, __ATOMIC_SEQ_CST))
		iso_futex_wake(&s->req);
}

int cg_iso_wait(cg_iso_slot *s, uint32_t seq, int64_t timeout_ns, int ignore_cancel) {
	int64_t start = iso_now();
	int64_t deadline = timeout_ns >= 0 ? start + timeout_ns : -1;
	int64_t spin = (int64_t)s->spin_ns;
	for (unsigned i = 0;; i++) {
		uint32_t v = __atomic_load_n(&s->resp, __ATOMIC_ACQUIRE);
		if ((v & CG_ISO_SEQ_MASK) == seq)
			return CG_ISO_W_DONE;
		if (v & CG_ISO_DEAD)
			return CG_ISO_W_DEAD;
		if ((v & CG_ISO_CANCEL) && !ignore_cancel)
			return CG_ISO_W_CANCELLED;
		if (spin > 0) {
			if ((i & 15) != 15 || iso_now() - start < spin) {
				iso_pause();
				continue;
			}
			spin = 0;
		}
		int64_t left = -1;
		if (deadline >= 0) {
			left = deadline - iso_now();
			if (left <= 0)
				return CG_ISO_W_TIMEOUT;
		}
		__atomic_store_n(&s->parent_sleeping, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&s->resp, __ATOMIC_SEQ_CST) == v)
			iso_futex_wait(&s->resp, v, left);
		__atomic_store_n(&s->parent_sleeping, 0, __ATOMIC_RELAXED);
	}
}

void cg_iso_cancel(cg_iso_slot *s, uint32_t seq) {
	uint32_t v = __atomic_load_n(&s->resp, __ATOMIC_SEQ_CST);
	while ((v & CG_ISO_SEQ_MASK) != seq && !(v & (CG_ISO_DEAD | CG_ISO_CANCEL))) {
		if (__atomic_compare_exchange_n(&s->resp, &v, v | CG_ISO_CANCEL, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
			iso_futex_wake(&s->resp);
			return;
		}
	}
}

void cg_iso_mark_dead(cg_iso_slot *s) {
	__atomic_fetch_or(&s->resp, CG_ISO_DEAD, __ATOMIC_SEQ_CST);
	iso_futex_wake(&s->resp);
}

/* ---- worker side ------------------------------------------------------ */

static cg_arena *iso_arena;
static int iso_index = -1;

cg_arena *cg_isolate_arena(void) { return iso_arena; }
int cg_isolate_worker(void) { return iso_index; }

/* iso_next waits for a request after last and returns 0 with its sequence
 * number in *seq. Asleep, it looks every second whether the parent still
 * lives (the parent-death signal covers this too; the check also covers a
 * parent that died before the signal was armed) and returns -1 when not. */
static int iso_next(cg_iso_slot *s, uint32_t last, int32_t ppid, uint32_t *seq) {
	int64_t spin = (int64_t)s->spin_ns, start = spin > 0 ? iso_now() : 0;
	for (unsigned i = 0;; i++) {
		uint32_t v = __atomic_load_n(&s->req, __ATOMIC_ACQUIRE);
		if (v != last) {
			*seq = v;
			return 0;
		}
		if (spin > 0) {
			if ((i & 15) != 15 || iso_now() - start < spin) {
				iso_pause();
				continue;
			}
			spin = 0;
		}
		__atomic_store_n(&s->worker_sleeping, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&s->req, __ATOMIC_SEQ_CST) == last)
			iso_futex_wait(&s->req, last, 1000000000LL);
		__atomic_store_n(&s->worker_sleeping, 0, __ATOMIC_RELAXED);
		if (getppid() != ppid)
			return -1;
	}
}

static void iso_complete(cg_iso_slot *s, uint32_t seq) {
	__atomic_store_n(&s->resp, seq, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&s->parent_sleeping, __ATOMIC_SEQ_CST))
		iso_futex_wake(&s->resp);
}

int cg_iso_serve(cg_iso_slot *s, const uintptr_t *fns, uint32_t nfn, uint64_t arena_lo, uint64_t arena_hi, int32_t ppid, int32_t index) {
	iso_arena = (cg_arena *)(uintptr_t)arena_lo;
	iso_index = index;
	s->pid = (int32_t)getpid();
	iso_complete(s, 0); /* ready */
	uint32_t last = 0;
	for (;;) {
		uint32_t seq;
		if (iso_next(s, last, ppid, &seq) != 0)
			return CG_ISO_SERVE_ORPHANED;
		last = seq;
		__atomic_store_n(&s->started, seq, __ATOMIC_SEQ_CST);
		if (s->op == CG_ISO_OP_EXIT) {
			iso_complete(s, seq);
			return CG_ISO_SERVE_EXIT;
		}
		uint32_t fn = s->fn;
		uint64_t arg = s->arg;
		if (fn >= nfn) {
			s->kind = CG_ISO_BADFN;
			iso_complete(s, seq);
			continue;
		}
		if (arg != 0 && (arg < arena_lo || arg >= arena_hi)) {
			s->kind = CG_ISO_BADARG;
			iso_complete(s, seq);
			continue;
		}
		uintptr_t call = fns[fn];
		void *callarg = (void *)(uintptr_t)arg;
		cg_fault_ticket ticket;
		if (s->has_fault) {
			/* A failpoint fired on this call in the parent: run its action
			 * here, on this thread, under the trampoline, in place of the
			 * function (which the action calls in the end, or not). */
			int (*entry)(void *) = cg_fault_entry;
			if (entry == NULL) {
				s->kind = CG_ISO_BADFAULT;
				iso_complete(s, seq);
				continue;
			}
			ticket.fn = call;
			ticket.arg = callarg;
			ticket.waiting = &s->fault_waiting;
			memcpy(&ticket.f, &s->fault, offsetof(cg_fault, msg));
			ticket.f.msg[0] = 0;
			if (ticket.f.action == CG_FAULT_ERROR) {
				memcpy(ticket.f.msg, s->fault.msg, CG_FAULT_MSG - 1);
				ticket.f.msg[CG_FAULT_MSG - 1] = 0;
			}
			call = (uintptr_t)entry;
			callarg = &ticket;
		}
		cg_ret r;
		if (s->has_trace)
			r = cg_call(call, callarg, -1, 0, s->trace_hi, s->trace_lo);
		else
			r = cg_call_fast(call, callarg, -256); /* slot -1 (no C counters), mode 0 */
		s->rc = r.rc;
		s->kind = CG_ISO_RET;
		cg_detail *d = r.detail;
		if (d == NULL) {
			iso_complete(s, seq);
			continue;
		}
		if (d->kind == CG_DETAIL_ERROR) {
			s->kind = CG_ISO_ERROR;
			s->err_code = d->err_code;
			s->err_errno = d->err_errno;
			memcpy(s->msg, d->msg, sizeof(s->msg));
			s->msg[sizeof(s->msg) - 1] = 0;
			cg_detail_release(d);
			iso_complete(s, seq);
			continue;
		}
		/* A crash: the library's memory may be corrupt, so this process
		 * serves no more calls. Post the record, then wait to be killed
		 * (the parent reads our memory map first, to name the frames). */
		s->kind = CG_ISO_CRASH;
		s->signo = d->signo;
		s->si_code = d->si_code;
		s->addr = d->addr;
		s->pc = d->pc;
		s->nframes = d->nframes < CG_ISO_FRAMES ? d->nframes : CG_ISO_FRAMES;
		memcpy(s->frames, d->frames, (size_t)s->nframes * sizeof(uint64_t));
		iso_complete(s, seq);
		for (int i = 0; i < 30; i++) {
			iso_futex_wait(&s->req, seq, 1000000000LL);
			if (getppid() != ppid)
				break;
		}
		return CG_ISO_SERVE_CRASHED;
	}
}
