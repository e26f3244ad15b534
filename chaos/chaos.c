//go:build cgo

/*
 * chaos.c: what a fired failpoint does inside a guarded call. cg_chaos_call
 * runs in place of the user's C function, below the guard frame on the
 * calling thread, so a raised signal takes the real capture path, a sleep
 * or a hang is seen by the real timeout path and an error reaches Go as the
 * user's own would.
 *
 * Delays and hangs wait on one condition variable (CLOCK_MONOTONIC) for
 * their failpoint's slot: clearing the failpoint bumps the slot's
 * generation and wakes them, and a slot's expiry (the failpoint's TTL)
 * releases them even if no one clears it, so a hung thread is never left
 * behind for good.
 */
#define _GNU_SOURCE
#include "chaos.h"
#include "cgoguard.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t cg_chaos_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cg_chaos_cv;
static uint64_t cg_chaos_gens[CG_CHAOS_SLOTS];
static int64_t cg_chaos_expiries[CG_CHAOS_SLOTS]; /* monotonic ns; 0 none */
static int cg_chaos_nwaiting;

/* A pointer the compiler cannot prove NULL, so the store really faults. */
static int *volatile cg_chaos_null;
/* A page mapped past the end of an empty memfd: touching it is SIGBUS. */
static volatile char *cg_chaos_bus_page;
static volatile int cg_chaos_zero;

static int64_t cg_chaos_now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int cg_chaos_init(void) {
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	int rc = pthread_cond_init(&cg_chaos_cv, &a);
	pthread_condattr_destroy(&a);
	if (rc != 0)
		return -rc;
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

uint64_t cg_chaos_gen(int slot) {
	pthread_mutex_lock(&cg_chaos_mu);
	uint64_t g = cg_chaos_gens[slot];
	pthread_mutex_unlock(&cg_chaos_mu);
	return g;
}

/* cg_chaos_expiry sets when the slot's waiters are released at the latest:
 * remaining_ns from now, or never for 0. */
void cg_chaos_expiry(int slot, int64_t remaining_ns) {
	pthread_mutex_lock(&cg_chaos_mu);
	cg_chaos_expiries[slot] = remaining_ns > 0 ? cg_chaos_now() + remaining_ns : 0;
	pthread_cond_broadcast(&cg_chaos_cv);
	pthread_mutex_unlock(&cg_chaos_mu);
}

/* cg_chaos_release ends the slot's failpoint: every delay and hang of it
 * returns. */
void cg_chaos_release(int slot) {
	pthread_mutex_lock(&cg_chaos_mu);
	cg_chaos_gens[slot]++;
	cg_chaos_expiries[slot] = 0;
	pthread_cond_broadcast(&cg_chaos_cv);
	pthread_mutex_unlock(&cg_chaos_mu);
}

int cg_chaos_waiting(void) {
	pthread_mutex_lock(&cg_chaos_mu);
	int n = cg_chaos_nwaiting;
	pthread_mutex_unlock(&cg_chaos_mu);
	return n;
}

/* cg_chaos_wait blocks until the ticket's failpoint is released or
 * expires, or until the monotonic time until (0: no limit). */
static void cg_chaos_wait(const cg_chaos_ticket *t, int64_t until) {
	pthread_mutex_lock(&cg_chaos_mu);
	cg_chaos_nwaiting++;
	for (;;) {
		if (cg_chaos_gens[t->slot] != t->gen)
			break;
		int64_t now = cg_chaos_now();
		int64_t exp = cg_chaos_expiries[t->slot];
		if (exp != 0 && now >= exp)
			break;
		if (until != 0 && now >= until)
			break;
		int64_t d = until;
		if (exp != 0 && (d == 0 || exp < d))
			d = exp;
		if (d == 0) {
			pthread_cond_wait(&cg_chaos_cv, &cg_chaos_mu);
		} else {
			struct timespec ts = {(time_t)(d / 1000000000LL), (long)(d % 1000000000LL)};
			pthread_cond_timedwait(&cg_chaos_cv, &cg_chaos_mu, &ts);
		}
	}
	cg_chaos_nwaiting--;
	pthread_mutex_unlock(&cg_chaos_mu);
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
	switch (t->action) {
	case CG_CHAOS_SEGV:
		return cg_chaos_segv();
	case CG_CHAOS_BUS:
		return cg_chaos_bus();
	case CG_CHAOS_FPE:
		return cg_chaos_fpe();
	case CG_CHAOS_ABORT:
		return cg_chaos_abort();
	case CG_CHAOS_DELAY:
		cg_chaos_wait(t, cg_chaos_now() + t->delay_ns);
		return ((int (*)(void *))t->fn)(t->arg);
	case CG_CHAOS_HANG:
		cg_chaos_wait(t, 0);
		return ((int (*)(void *))t->fn)(t->arg);
	case CG_CHAOS_ERRNO:
		return -t->err;
	case CG_CHAOS_ERROR:
		return cg_set_error_errno(t->code, t->err, "%s", t->msg);
	}
	return -EINVAL;
}
