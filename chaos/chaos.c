//go:build cgo

/*
 * chaos.c: what a fired failpoint does inside a guarded call. cg_chaos_call
 * runs in place of the user's C function, below the guard frame on the
 * calling thread, so a raised signal takes the real capture path, a sleep
 * or a hang is seen by the real timeout path and an error reaches Go as the
 * user's own would. For a module whose calls run in isolate worker
 * processes, the worker runs cg_chaos_call on the thread serving the call
 * (package isolate builds the ticket from the request).
 *
 * Delays and hangs wait at their failpoint's gate (internal/fault): the
 * gates live in memory the workers share, so clearing the failpoint, or its
 * TTL (the gate's expiry), releases the calls it holds in this process and
 * in every worker, and a hung thread is never left behind for good.
 */
#define _GNU_SOURCE
#include "chaos.h"
#include "cgoguard.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

static int cg_chaos_nwaiting; /* calls of this process waiting at a gate */

/* A pointer the compiler cannot prove NULL, so the store really faults. */
static int *volatile cg_chaos_null;
/* A page mapped past the end of an empty memfd: touching it is SIGBUS. */
static volatile char *cg_chaos_bus_page;
static volatile int cg_chaos_zero;

int cg_chaos_init(void) {
	if (cg_chaos_bus_page != NULL)
		return 0;
	int fd = memfd_create("cgoguard-chaos-bus", MFD_CLOEXEC);
	if (fd >= 0) {
		long pg = sysconf(_SC_PAGESIZE);
		void *p = mmap(NULL, (size_t)pg, PROT_READ, MAP_SHARED, fd, 0);
		close(fd);
		if (p != MAP_FAILED)
			cg_chaos_bus_page = p;
	}
	return 0;
}

int cg_chaos_waiting(void) { return __atomic_load_n(&cg_chaos_nwaiting, __ATOMIC_RELAXED); }

/* cg_chaos_wait blocks at the ticket's gate until its failpoint is
 * released or expires, or until the monotonic time until (0: no limit). */
static void cg_chaos_wait(const cg_chaos_ticket *t, int64_t until) {
	__atomic_add_fetch(&cg_chaos_nwaiting, 1, __ATOMIC_RELAXED);
	if (t->waiting != NULL)
		__atomic_store_n(t->waiting, 1, __ATOMIC_SEQ_CST);
	cg_fault_wait(&t->f, until);
	if (t->waiting != NULL)
		__atomic_store_n(t->waiting, 0, __ATOMIC_SEQ_CST);
	__atomic_sub_fetch(&cg_chaos_nwaiting, 1, __ATOMIC_RELAXED);
}

/* One function per signal, so crash frames name what was injected
 * (cg_chaos_segv+0x..). noinline keeps them apart; noipa keeps GCC from
 * reasoning about the faults across the call. */
#define CG_CHAOS_FAULT __attribute__((noinline, noipa))

CG_CHAOS_FAULT int cg_chaos_segv(void) {
	*cg_chaos_null = 1; /* SIGSEGV, SEGV_MAPERR at address 0 */
	return -EFAULT;
}

CG_CHAOS_FAULT int cg_chaos_bus(void) {
	if (cg_chaos_bus_page != NULL)
		return cg_chaos_bus_page[0]; /* SIGBUS, BUS_ADRERR */
	raise(SIGBUS);
	return -EFAULT;
}

CG_CHAOS_FAULT int cg_chaos_fpe(void) {
#if defined(__x86_64__) || defined(__i386__)
	/* Both operands volatile: the compiler must emit the idiv, which traps
	 * (SIGFPE, FPE_INTDIV); with a constant numerator it rewrites 1/x
	 * without a division. */
	static volatile int one = 1;
	return one / cg_chaos_zero;
#else
	raise(SIGFPE); /* integer division does not trap here */
	return -EFAULT;
#endif
}

/* SIGABRT the way libc's abort raises it: unblocked, then sent to this
 * thread (raise, SI_TKILL). abort goes on to reset the handler and end
 * the process when the handler returns; a caught signal never returns
 * here, and an uncaught one is the Go runtime's to report, as for segv. */
CG_CHAOS_FAULT int cg_chaos_abort(void) {
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGABRT);
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	raise(SIGABRT);
	return -EFAULT;
}

int cg_chaos_call(void *arg) {
	const cg_chaos_ticket *t = arg;
	switch (t->f.action) {
	case CG_CHAOS_SEGV:
		return cg_chaos_segv();
	case CG_CHAOS_BUS:
		return cg_chaos_bus();
	case CG_CHAOS_FPE:
		return cg_chaos_fpe();
	case CG_CHAOS_ABORT:
		return cg_chaos_abort();
	case CG_CHAOS_DELAY:
		cg_chaos_wait(t, cg_fault_now() + t->f.delay_ns);
		return ((int (*)(void *))t->fn)(t->arg);
	case CG_CHAOS_HANG:
		cg_chaos_wait(t, 0);
		return ((int (*)(void *))t->fn)(t->arg);
	case CG_CHAOS_ERRNO:
		return -t->f.err;
	case CG_CHAOS_ERROR:
		return cg_set_error_errno(t->f.code, t->f.err, "%s", t->f.msg);
	}
	return -EINVAL;
}
