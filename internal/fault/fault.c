//go:build cgo

/*
 * fault.c: the gates that delays and hangs wait at, shared by the parent
 * and its isolate workers. A gate changes only in the parent (package
 * chaos, under its lock); waiters in any process sleep on the gate's
 * sequence word with a shared futex (the page is MAP_SHARED), and a change
 * bumps the word and wakes them. No lock is shared between processes, so a
 * worker killed while it waits leaves nothing held.
 */
#define _GNU_SOURCE
#include "fault.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

_Static_assert(CG_FAULT_SLOTS * sizeof(cg_fault_gate) <= CG_FAULT_GATES_SIZE, "the gates fit their page");
_Static_assert(sizeof(cg_fault) % 8 == 0, "a cg_fault copies as whole words");

int (*volatile cg_fault_entry)(void *ticket);

static cg_fault_gate *cg_fault_gates;

int64_t cg_fault_now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int cg_fault_setup(void) {
	if (cg_fault_gates != NULL)
		return -EEXIST;
	int fd = memfd_create("cgoguard-failpoints", MFD_CLOEXEC);
	int err = 0;
	if (fd >= 0 && ftruncate(fd, CG_FAULT_GATES_SIZE) == 0) {
		void *p = mmap(NULL, CG_FAULT_GATES_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p != MAP_FAILED) {
			cg_fault_gates = p;
			return fd;
		}
	}
	err = errno;
	if (fd >= 0)
		close(fd);
	/* Private memory: failpoints still act in this process. */
	void *p = mmap(NULL, CG_FAULT_GATES_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED)
		cg_fault_gates = p;
	return -(err != 0 ? err : EIO);
}

int cg_fault_attach(int fd) {
	void *p = mmap(NULL, CG_FAULT_GATES_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	cg_fault_gates = p;
	return 0;
}

uint32_t cg_fault_gen(int slot) {
	if (cg_fault_gates == NULL || slot < 0 || slot >= CG_FAULT_SLOTS)
		return 0;
	return __atomic_load_n(&cg_fault_gates[slot].gen, __ATOMIC_SEQ_CST);
}

static void cg_fault_changed(cg_fault_gate *g) {
	__atomic_add_fetch(&g->seq, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &g->seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

void cg_fault_expiry(int slot, int64_t remaining_ns) {
	if (cg_fault_gates == NULL || slot < 0 || slot >= CG_FAULT_SLOTS)
		return;
	cg_fault_gate *g = &cg_fault_gates[slot];
	__atomic_store_n(&g->expiry, remaining_ns > 0 ? cg_fault_now() + remaining_ns : 0, __ATOMIC_SEQ_CST);
	cg_fault_changed(g);
}

void cg_fault_release(int slot) {
	if (cg_fault_gates == NULL || slot < 0 || slot >= CG_FAULT_SLOTS)
		return;
	cg_fault_gate *g = &cg_fault_gates[slot];
	__atomic_add_fetch(&g->gen, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&g->expiry, 0, __ATOMIC_SEQ_CST);
	cg_fault_changed(g);
}

/* cg_fault_sleep sleeps until the monotonic time until, or for ever (0). */
static void cg_fault_sleep(int64_t until) {
	for (;;) {
		int64_t now = cg_fault_now();
		if (until != 0 && now >= until)
			return;
		struct timespec ts = {1, 0};
		if (until != 0) {
			int64_t d = until - now;
			ts.tv_sec = (time_t)(d / 1000000000LL);
			ts.tv_nsec = (long)(d % 1000000000LL);
		}
		nanosleep(&ts, NULL);
	}
}

void cg_fault_wait(const cg_fault *f, int64_t until) {
	if (cg_fault_gates == NULL || f->slot < 0 || f->slot >= CG_FAULT_SLOTS) {
		cg_fault_sleep(until); /* no gate to open: only the clock ends it */
		return;
	}
	cg_fault_gate *g = &cg_fault_gates[f->slot];
	for (;;) {
		/* Load the sequence first: a change after this load makes the
		 * futex wait return at once. */
		uint32_t seq = __atomic_load_n(&g->seq, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&g->gen, __ATOMIC_SEQ_CST) != f->gen)
			return;
		int64_t now = cg_fault_now();
		int64_t exp = __atomic_load_n(&g->expiry, __ATOMIC_SEQ_CST);
		if (exp != 0 && now >= exp)
			return;
		if (until != 0 && now >= until)
			return;
		int64_t d = until;
		if (exp != 0 && (d == 0 || exp < d))
			d = exp;
		struct timespec ts, *tp = NULL;
		if (d != 0) {
			ts.tv_sec = (time_t)(d / 1000000000LL);
			ts.tv_nsec = (long)(d % 1000000000LL);
			tp = &ts;
		}
		/* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time. */
		syscall(SYS_futex, &g->seq, FUTEX_WAIT_BITSET, seq, tp, NULL, FUTEX_BITSET_MATCH_ANY);
	}
}
