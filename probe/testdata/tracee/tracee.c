#include <stdint.h>
#include <time.h>

#include "cgoguard.h"
#include "tracee.h"

static int64_t tr_now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

volatile unsigned long tr_sink;

static void tr_spin(int n) {
	for (int i = 0; i < n; i++)
		tr_sink += (unsigned long)i;
}

/* tr_work is the function the count test calls: it returns -1 for
 * multiples of 7, i otherwise. */
__attribute__((noinline)) int tr_work(int i) {
	tr_spin(200);
	return i % 7 == 0 ? -1 : i;
}

/* tr_inner runs inside a guarded call, one level below the trampoline. */
__attribute__((noinline)) int tr_inner(int i) {
	tr_spin(100);
	return i;
}

int tr_guarded(void *arg) {
	struct tr_req *r = arg;
	return tr_inner(r->i) >= 0 ? 0 : -1;
}

/* tr_timed reads CLOCK_MONOTONIC at its first and last moments. */
__attribute__((noinline)) int tr_timed(void *arg) {
	struct tr_req *r = arg;
	r->c_start = tr_now();
	tr_spin(5000);
	cg_trace_id(r->trace);
	r->c_end = tr_now();
	return 0;
}
