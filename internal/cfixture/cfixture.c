//go:build cgo

/* C functions that fail, crash and call back on purpose, for the tests and
 * benchmarks of package cgoguard. Calls into libc go through volatile
 * function pointers so the compiler cannot prove the fault away. */
#define _GNU_SOURCE
#include "cfixture.h"
#include "cgoguard.h"
#include "_cgo_export.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

int fx_empty(void *arg) {
	(void)arg;
	return 0;
}

int fx_ret(void *arg) { return arg ? *(int *)arg : 0; }

int fx_count(void *arg) { return ++*(int *)arg; }

int fx_getpid(void *arg) {
	(void)arg;
	return (int)getpid();
}

int fx_errno(void *arg) {
	return arg ? -*(int *)arg : -ENOENT;
}

int fx_set_error(void *arg) {
	(void)arg;
	errno = EACCES;
	return cg_set_error(7, "bad header at offset %d", 12);
}

int fx_set_error_errno(void *arg) {
	(void)arg;
	return cg_set_error_errno(9, ENOENT, "no entry %s", "x.db");
}

int fx_set_error_then_ok(void *arg) {
	(void)arg;
	cg_set_error(3, "transient");
	return 5;
}

int fx_segv(void *arg) {
	volatile int *p = (volatile int *)arg; /* NULL or a bad address */
	*p = 1;
	return 0;
}

static size_t (*volatile fx_strlen_p)(const char *) = strlen;
static void *(*volatile fx_memcpy_p)(void *, const void *, size_t) = memcpy;

int fx_strlen_null(void *arg) {
	(void)arg;
	return (int)fx_strlen_p(NULL);
}

int fx_memcpy_null(void *arg) {
	(void)arg;
	char src[64];
	memset(src, 'x', sizeof(src));
	fx_memcpy_p(NULL, src, sizeof(src));
	return 0;
}

/* inflate on a stream whose state pointer is garbage (never initialised):
 * zlib dereferences it inside libz. */
int fx_inflate_bad_stream(void *arg) {
	(void)arg;
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	zs.zalloc = (alloc_func)1;
	zs.zfree = (free_func)1;
	zs.state = (struct internal_state *)(uintptr_t)0x10;
	return inflate(&zs, Z_NO_FLUSH);
}

/* inflate reading from a NULL input buffer it was told holds 64 bytes. */
int fx_inflate_null_input(void *arg) {
	(void)arg;
	z_stream zs;
	unsigned char out[256];
	memset(&zs, 0, sizeof(zs));
	if (inflateInit(&zs) != Z_OK)
		return -EINVAL;
	zs.next_in = NULL;
	zs.avail_in = 64;
	zs.next_out = out;
	zs.avail_out = sizeof(out);
	int rc = inflate(&zs, Z_NO_FLUSH);
	inflateEnd(&zs);
	return rc;
}

int fx_bus(void *arg) {
	(void)arg;
	char path[] = "/tmp/cgoguard-bus-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	unlink(path);
	volatile char *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -errno;
	/* The file is empty: touching the page raises SIGBUS. The mapping
	 * leaks when the call crashes, as memory does in any crashed call. */
	return p[0];
}

static volatile int fx_zero = 0;
static volatile int fx_num = 7;

int fx_fpe(void *arg) {
	(void)arg;
	return fx_num / fx_zero;
}

int fx_ill(void *arg) {
	(void)arg;
	__builtin_trap();
}

int fx_abort(void *arg) {
	(void)arg;
	abort();
}

int fx_assert(void *arg) {
	int *v = arg;
	assert(v != NULL && "fx_assert: arg must not be NULL");
	return *v;
}

int fx_trap(void *arg) {
	(void)arg;
#if defined(__x86_64__) || defined(__i386__)
	__asm__ volatile("int3");
#else
	raise(SIGTRAP);
#endif
	return 0;
}

static volatile int fx_limit = 1 << 30; /* never reached: the stack ends first */

int fx_recurse(volatile char *prev, int depth) {
	volatile char buf[512];
	buf[0] = (char)depth;
	buf[511] = prev ? prev[0] : 0;
	if (depth >= fx_limit)
		return buf[511];
	return fx_recurse(buf, depth + 1) + buf[511];
}

int fx_overflow(void *arg) {
	(void)arg;
	return fx_recurse(NULL, 0);
}

int fx_sleep_ms(void *arg) {
	int ms = arg ? *(int *)arg : 10;
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
	return ms;
}

static atomic_int fx_gate;

void fx_gate_set(int open) { atomic_store(&fx_gate, open); }

/* Blocks until the gate opens. */
int fx_wait_gate(void *arg) {
	(void)arg;
	struct timespec ts = {0, 1000000L};
	while (!atomic_load(&fx_gate))
		nanosleep(&ts, NULL);
	return 1;
}

/* Calls the Go callback fxGoCallback(id) inside a marked region. */
int fx_callback(void *arg) {
	int id = arg ? *(int *)arg : 0;
	int r;
	cg_callback_begin();
	r = fxGoCallback(id);
	cg_callback_end();
	return r;
}

/* Reports whether it runs inside a guarded call, and inside a callback
 * region that hides it. */
int fx_in_guard(void *arg) {
	(void)arg;
	return cg_in_guarded_call();
}

int fx_trace(void *arg) {
	char *buf = arg;
	return cg_trace_id(buf);
}

int fx_raw(void *fn, void *arg) {
	cg_fn f = (cg_fn)fn;
	return f(arg);
}

/* Writes the calling thread's blocked-signal mask (signals 1-64) to arg. */
int fx_sigmask(void *arg) {
	sigset_t cur;
	uint64_t bits = 0;
	pthread_sigmask(SIG_SETMASK, NULL, &cur);
	for (int s = 1; s <= 64; s++)
		if (sigismember(&cur, s) == 1)
			bits |= 1ULL << (s - 1);
	*(uint64_t *)arg = bits;
	return 0;
}

long long fx_heap_in_use(void) {
	struct mallinfo2 mi = mallinfo2();
	return (long long)mi.uordblks + (long long)mi.hblkhd;
}

/* Calls the Go callback without marking the region: a fault in the Go code
 * must still be told apart by its stack. */
int fx_callback_unmarked(void *arg) {
	int id = arg ? *(int *)arg : 0;
	return fxGoCallback(id);
}

void *fx_bad_address(void) { return (void *)(uintptr_t)0xdead0000; }

/* Waits for the gate, then writes through NULL: a crash that comes after
 * the caller gave up on the call. */
int fx_wait_gate_segv(void *arg) {
	fx_wait_gate(arg);
	return fx_segv(NULL);
}

/* Blocks SIGSEGV on this thread, then aborts: the SIGABRT is caught, and
 * the thread must not go back to Go with SIGSEGV still blocked. */
int fx_block_segv_abort(void *arg) {
	(void)arg;
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGSEGV);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	void (*volatile f)(void) = abort;
	f();
	return 0;
}

/* Blocks SIGSEGV on this thread, then faults: the kernel kills the process
 * at once (a synchronous fault cannot be blocked); nothing can report it. */
int fx_block_segv_fault(void *arg) {
	(void)arg;
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGSEGV);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	return fx_segv(NULL);
}
