/* guard.h: declarations shared by guard.c and the cgo preamble of the root
 * package. Not part of the public API (that is include/cgoguard.h). */
#ifndef CGOGUARD_GUARD_H
#define CGOGUARD_GUARD_H

#include <stdint.h>
#include <stddef.h>

#define CG_MAX_FRAMES 48
#define CG_DETAIL_MSG 256

/* Kinds of detail record. */
#define CG_DETAIL_CRASH 1
#define CG_DETAIL_ERROR 2

/* Modes of a guarded call (bit set). */
#define CG_MODE_COUNT 1 /* count the outcome (ok, err, crash) in the per-thread stats */
#define CG_MODE_TIME 2  /* time the call into the per-thread histogram */
#define CG_MODE_OTHER 4 /* the outcome is counted elsewhere (Go): count the call in other */
/* Bits 4-7 of the mode: log2 of the mean interval between timed calls. */
#define CG_MODE_SAMPLE_SHIFT 4

/* cg_detail is filled on the slow paths (crash, cg_set_error) and handed to
 * Go, which copies it and releases it with cg_detail_release. Records come
 * from a preallocated pool, never from malloc: a crash may leave the malloc
 * arena locked. */
typedef struct cg_detail {
	int kind;
	int signo, si_code;
	int err_code, err_errno;
	int nframes;
	int blocked; /* crash signals blocked at the fault: bit (signo - 1) */
	uintptr_t addr, pc, sp;
	uintptr_t frames[CG_MAX_FRAMES];
	char msg[CG_DETAIL_MSG];
	int pool_index; /* -1: mmap'd one-off record */
} cg_detail;

/* Number of histogram buckets: bucket i counts calls whose duration in
 * ticks has bit length i (0 ticks lands in bucket 0). */
#define CG_HIST_BUCKETS 64
#define CG_MAX_SLOTS 256

/* cg_mstats is a module's counters (one thread's, or summed over threads).
 * Every call that runs counts started on entry and exactly one of ok, err,
 * crash or other when it ends, so the calls in flight are started less the
 * four: other counts calls whose outcome is not counted here (the module
 * counts no outcomes, the outcome is counted in Go, or a Go panic unwound
 * the call). A call refused because the slot is closed takes its start
 * back. The number of timed calls is the sum of hist. */
typedef struct cg_mstats {
	uint64_t started;
	uint64_t ok, err, crash, other;
	uint64_t sum_ticks;
	uint64_t hist[CG_HIST_BUCKETS];
	/* A thread's own sampling state (not summed): calls until the next
	 * timed one, and its random generator. */
	uint64_t sample_left, rng;
} cg_mstats;

typedef int (*cg_fn)(void *);

int cg_install(void);
int cg_check_handlers(int *taken_signo, int *taken_how);
int cg_reinstall(void);
/* cg_ret is a guarded call's result, returned by value so that the Go side
 * passes no Go pointer (no escape, no cgo pointer check) on the fast path. */
typedef struct cg_ret {
	int rc;
	int status;        /* CG_STATUS_* */
	cg_detail *detail; /* set on crash or cg_set_error */
} cg_ret;

#define CG_STATUS_RAN 0
#define CG_STATUS_CLOSED 1 /* the slot was closed; fn did not run */

cg_ret cg_call(uintptr_t fn, void *arg, int slot, int mode, uint64_t trace_hi, uint64_t trace_lo);
cg_ret cg_call_fast(uintptr_t fn, void *arg, int slotmode);
void cg_unwind(int slot);
void cg_slot_open(int slot);
void cg_slot_close(int slot);
int cg_membarrier(void);
void cg_detail_release(cg_detail *d);
int cg_stats_read(int slot, cg_mstats *out);
int cg_tick_source(void);
uint64_t cg_ticks_now(void);
uint64_t cg_mono_ns(void);
int cg_symbolize(uintptr_t pc, char *name, size_t namelen, char *obj, size_t objlen, uintptr_t *base, uintptr_t *symaddr);

#endif
