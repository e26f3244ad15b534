//go:build cgo

/*
 * guard.c: the guarded-call trampoline, the chained signal handlers and the
 * per-thread call statistics of package cgoguard.
 *
 * A guarded call pushes a guard frame (a sigjmp_buf saved without the signal
 * mask, so no syscall) on a per-thread chain and calls the user's C
 * function. The handlers, installed from Go's init after the runtime has
 * installed its own, take a fault only when it happened in C code running
 * below the innermost guard frame on this thread's system stack; everything
 * else goes to the handler Go had installed, so Go keeps its semantics.
 */
#define _GNU_SOURCE
#include "guard.h"
#include "cgoguard.h"

#include <dlfcn.h>
#include <link.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include <unwind.h>
#include <linux/membarrier.h>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

/* The guard frame's jump buffer. GCC's __builtin_setjmp saves only the
 * frame pointer, the stack pointer and the resume address (the compiler
 * treats every callee-saved register as clobbered at the setjmp point and
 * reloads what it needs from the stack), which costs a few instructions
 * instead of sigsetjmp's register save, pointer mangling and call. The
 * handler restores the signal mask itself before jumping, so nothing else
 * of sigsetjmp is needed. */
#if defined(__GNUC__) && !defined(CG_PORTABLE_SETJMP)
typedef void *cg_jmp_buf[5];
#define cg_setjmp(b) __builtin_setjmp(b)
#define cg_longjmp(b) __builtin_longjmp(b, 1)
#else
typedef sigjmp_buf cg_jmp_buf;
#define cg_setjmp(b) sigsetjmp(b, 0)
#define cg_longjmp(b) siglongjmp(b, 1)
#endif

#define CG_NODE_GUARD 1
#define CG_NODE_BARRIER 2
#define CG_MAX_BARRIERS 64
/* How far below the lowest address of the thread's stack a faulting SP may
 * be and still count as C running on that stack (a stack overflow faults in
 * the guard area below it). */
#define CG_STACK_SLACK (256 * 1024)

/* A node of the per-thread chain: a guard frame or a callback barrier. Nodes
 * on one thread are ordered by pos, the stack address where each was made:
 * a node made later is deeper, at a lower address. */
typedef struct cg_node {
	struct cg_node *prev;
	uintptr_t pos;
	int kind;
	int flags; /* guard frames: CG_F_* */
} cg_node;

/* Flags of a guard frame, in one word so the trampoline sets them with the
 * node's kind in one store. */
#define CG_F_RECORDING 1 /* the handler is unwinding this frame's stack */
#define CG_F_ERR_SET 2   /* cg_set_error was called in this call */
#define CG_F_TRACE 4     /* trace_hi/trace_lo hold the call's trace id */
#define CG_F_TIMED 8     /* the call is timed: t0 holds its start */

typedef struct cg_frame {
	cg_node n;
	cg_jmp_buf env;
	int nbar;      /* barrier depth at entry */
	int err_code, err_errno;
	int signo, si_code, nframes;
	int blocked; /* crash signals the faulting context had blocked */
	uintptr_t addr, pc, sp;
	uint64_t trace_hi, trace_lo; /* valid with CG_F_TRACE */
	uint64_t t0; /* start ticks when timing */
	sigset_t mask; /* the thread's mask when the fault hit */
	uintptr_t frames[CG_MAX_FRAMES];
	char msg[CG_MSG_MAX];
} cg_frame;

typedef struct cg_tstats {
	cg_mstats *slots[CG_MAX_SLOTS];
	struct cg_tstats *next, *prev;
} cg_tstats;

typedef struct cg_tls {
	cg_node *cur;
	uintptr_t stack_lo, stack_hi;
	int nbar;
	cg_node bars[CG_MAX_BARRIERS];
	cg_tstats *stats;
	int has_trace; /* a trace id for the next guard frame */
	uint64_t trace_hi, trace_lo;
} cg_tls_t;

static __thread cg_tls_t cg_tls __attribute__((tls_model("initial-exec")));

static const int cg_sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP};
#define CG_NSIGS ((int)(sizeof(cg_sigs) / sizeof(cg_sigs[0])))
static struct sigaction cg_prev[NSIG];
static pthread_mutex_t cg_mu = PTHREAD_MUTEX_INITIALIZER;
static int cg_installed;

/* ---- detail records ------------------------------------------------------ */

#define CG_POOL 256
static cg_detail *cg_pool;
static uint64_t cg_pool_used[CG_POOL / 64];

static cg_detail *cg_detail_get(void) {
	if (cg_pool) {
		for (int w = 0; w < CG_POOL / 64; w++) {
			uint64_t v = __atomic_load_n(&cg_pool_used[w], __ATOMIC_RELAXED);
			while (~v) {
				int b = __builtin_ctzll(~v);
				uint64_t m = 1ULL << b;
				uint64_t old = __atomic_fetch_or(&cg_pool_used[w], m, __ATOMIC_ACQ_REL);
				if (!(old & m)) {
					cg_detail *d = &cg_pool[w * 64 + b];
					d->pool_index = w * 64 + b;
					return d;
				}
				v = old | m;
			}
		}
	}
	/* Pool exhausted: a one-off mapping (mmap takes no lock a crash could hold). */
	void *p = mmap(NULL, sizeof(cg_detail), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	cg_detail *d = p;
	d->pool_index = -1;
	return d;
}

void cg_detail_release(cg_detail *d) {
	if (d == NULL)
		return;
	if (d->pool_index >= 0) {
		int i = d->pool_index;
		__atomic_fetch_and(&cg_pool_used[i / 64], ~(1ULL << (i % 64)), __ATOMIC_RELEASE);
		return;
	}
	munmap(d, sizeof(cg_detail));
}

/* ---- ticks ----------------------------------------------------------------- */

static int cg_use_tsc;

uint64_t cg_mono_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline uint64_t cg_ticks(void) {
#if defined(__x86_64__)
	if (__builtin_expect(cg_use_tsc, 1))
		return __rdtsc();
#endif
	return cg_mono_ns();
}

uint64_t cg_ticks_now(void) { return cg_ticks(); }

int cg_tick_source(void) { return cg_use_tsc; }

/* The TSC is a correct clock only when the kernel itself trusts it. */
static void cg_pick_clock(void) {
#if defined(__x86_64__)
	char buf[32] = {0};
	int fd = open("/sys/devices/system/clocksource/clocksource0/current_clocksource", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n >= 3 && strncmp(buf, "tsc", 3) == 0 && (n == 3 || buf[3] == '\n'))
			cg_use_tsc = 1;
	}
#endif
}

/* ---- per-thread statistics -------------------------------------------- */

static pthread_key_t cg_stats_key;
static cg_tstats *cg_stats_list;
static cg_mstats cg_retired[CG_MAX_SLOTS];
static uint8_t cg_slot_closed[CG_MAX_SLOTS];

static void cg_fold(cg_mstats *dst, const cg_mstats *s) {
	/* The ends before the starts: a call counted as ended was counted as
	 * started before, so the calls in flight (started less the ends) are
	 * never under-counted. */
	dst->ok += __atomic_load_n(&s->ok, __ATOMIC_RELAXED);
	dst->err += __atomic_load_n(&s->err, __ATOMIC_RELAXED);
	dst->crash += __atomic_load_n(&s->crash, __ATOMIC_RELAXED);
	dst->other += __atomic_load_n(&s->other, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	dst->started += __atomic_load_n(&s->started, __ATOMIC_RELAXED);
	dst->sum_ticks += __atomic_load_n(&s->sum_ticks, __ATOMIC_RELAXED);
	for (int i = 0; i < CG_HIST_BUCKETS; i++)
		dst->hist[i] += __atomic_load_n(&s->hist[i], __ATOMIC_RELAXED);
}

/* Runs when a thread that made guarded calls exits: its counts move to the
 * retired totals so nothing counted is lost. */
static void cg_stats_exit(void *p) {
	cg_tstats *ts = p;
	pthread_mutex_lock(&cg_mu);
	for (int i = 0; i < CG_MAX_SLOTS; i++) {
		if (ts->slots[i]) {
			cg_fold(&cg_retired[i], ts->slots[i]);
			free(ts->slots[i]);
		}
	}
	if (ts->prev)
		ts->prev->next = ts->next;
	else
		cg_stats_list = ts->next;
	if (ts->next)
		ts->next->prev = ts->prev;
	pthread_mutex_unlock(&cg_mu);
	free(ts);
	cg_tls.stats = NULL;
}

static cg_mstats *cg_slot_slow(cg_tls_t *t, int slot) {
	if (t->stats == NULL) {
		cg_tstats *ts = calloc(1, sizeof(*ts));
		if (ts == NULL)
			return NULL;
		pthread_mutex_lock(&cg_mu);
		ts->next = cg_stats_list;
		if (cg_stats_list)
			cg_stats_list->prev = ts;
		cg_stats_list = ts;
		pthread_mutex_unlock(&cg_mu);
		pthread_setspecific(cg_stats_key, ts);
		t->stats = ts;
	}
	cg_mstats *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->sample_left = 1; /* time the thread's first call */
	s->rng = ((uint64_t)(uintptr_t)s * UINT64_C(0x9e3779b97f4a7c15)) | 1;
	pthread_mutex_lock(&cg_mu);
	t->stats->slots[slot] = s;
	pthread_mutex_unlock(&cg_mu);
	return s;
}

static inline cg_mstats *cg_slot(cg_tls_t *t, int slot) {
	if (__builtin_expect(t->stats != NULL, 1)) {
		cg_mstats *s = t->stats->slots[slot];
		if (__builtin_expect(s != NULL, 1))
			return s;
	}
	return cg_slot_slow(t, slot);
}

/* Single writer per record (its thread), so a relaxed load and store is an
 * exact increment; readers use relaxed loads. */
static inline void cg_inc(uint64_t *p, uint64_t d) {
	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + d, __ATOMIC_RELAXED);
}

/* cg_inc_rel is cg_inc ordered after the thread's earlier counts (a plain
 * store on x86): a reader that sees a call's end sees its start. */
static inline void cg_inc_rel(uint64_t *p, uint64_t d) {
	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + d, __ATOMIC_RELEASE);
}

int cg_stats_read(int slot, cg_mstats *out) {
	if (slot < 0 || slot >= CG_MAX_SLOTS)
		return -1;
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&cg_mu);
	cg_fold(out, &cg_retired[slot]);
	for (cg_tstats *ts = cg_stats_list; ts; ts = ts->next)
		if (ts->slots[slot])
			cg_fold(out, ts->slots[slot]);
	pthread_mutex_unlock(&cg_mu);
	return 0;
}

void cg_slot_open(int slot) {
	if (slot >= 0 && slot < CG_MAX_SLOTS)
		__atomic_store_n(&cg_slot_closed[slot], 0, __ATOMIC_SEQ_CST);
}

void cg_slot_close(int slot) {
	if (slot >= 0 && slot < CG_MAX_SLOTS)
		__atomic_store_n(&cg_slot_closed[slot], 1, __ATOMIC_SEQ_CST);
}

static int cg_membarrier_ok;

/* cg_membarrier makes every running thread of the process execute a full
 * memory barrier. With it the call path needs only compiler barriers to
 * order "count the call as started" before "check the slot is open", and
 * Close still never misses a call that got past the check. Returns 0 on
 * success. */
int cg_membarrier(void) {
	if (cg_membarrier_ok)
		return (int)syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
	return (int)syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0);
}

/* ---- thread setup --------------------------------------------------------- */

static void cg_thread_init(cg_tls_t *t) {
	pthread_attr_t a;
	void *addr = NULL;
	size_t size = 0;
	if (pthread_getattr_np(pthread_self(), &a) == 0) {
		pthread_attr_getstack(&a, &addr, &size);
		pthread_attr_destroy(&a);
	}
	if (addr != NULL && size != 0) {
		t->stack_lo = (uintptr_t)addr;
		t->stack_hi = (uintptr_t)addr + size;
	} else {
		uintptr_t here = (uintptr_t)&a;
		t->stack_lo = here - (8u << 20);
		t->stack_hi = here + 4096;
	}
}

/* ---- unwinding --------------------------------------------------------- */

struct cg_uw {
	cg_frame *f;
	uintptr_t pc;
	int started;
	int reached;       /* got to the trampoline's frame */
	int via_callback;  /* passed a crosscall2 frame: C called Go in between */
	uintptr_t last_sp; /* the stack pointer of the last frame visited */
};

/* The code range of cg_guard_run, the trampoline's frame that calls the
 * user's function: unwinding stops there. cg_tramp_ok when it is known. */
static struct {
	uintptr_t lo, hi;
} cg_tramp[1];
static int cg_tramp_ok;

static int cg_in_trampoline(uintptr_t ip) { return ip >= cg_tramp[0].lo && ip < cg_tramp[0].hi; }

int64_t cg_guard_run(cg_frame *f, cg_fn fn, void *arg);

/* cg_code_range finds the extent of function fn from its ELF symbol. */
static int cg_code_range(void *fn, int i) {
	Dl_info info;
	const ElfW(Sym) *sym = NULL;
	if (dladdr1(fn, &info, (void **)&sym, RTLD_DL_SYMENT) == 0 || sym == NULL || sym->st_size == 0 ||
	    info.dli_saddr != fn)
		return 0;
	cg_tramp[i].lo = (uintptr_t)fn;
	cg_tramp[i].hi = (uintptr_t)fn + sym->st_size;
	return 1;
}

/* crosscall2 is how C enters Go: the C wrapper of every //export-ed
 * function calls it (runtime/cgo). A return address into it on the stack
 * between a fault and the guard frame means Go code runs in between: a Go
 * callback whose region C did not mark with cg_callback_begin. */
extern void crosscall2(void (*fn)(void *), void *a, int c, size_t ctxt);
static uintptr_t cg_cc2_lo, cg_cc2_hi;

static int cg_in_crosscall2(uintptr_t pc) { return pc >= cg_cc2_lo && pc < cg_cc2_hi; }

static _Unwind_Reason_Code cg_uw_cb(struct _Unwind_Context *ctx, void *arg) {
	struct cg_uw *u = arg;
	int before = 0;
	uintptr_t ip = _Unwind_GetIPInfo(ctx, &before);
	if (ip == 0)
		return _URC_END_OF_STACK;
	if (!u->started) {
		if (ip != u->pc)
			return _URC_NO_REASON; /* the handler's own frames */
		u->started = 1;
	} else {
		/* The context's CFA here is the stack pointer of the frame ip
		 * belongs to (the callee's CFA). */
		u->last_sp = _Unwind_GetCFA(ctx);
		if (cg_in_crosscall2(ip))
			u->via_callback = 1;
		if (cg_tramp_ok ? cg_in_trampoline(ip) : u->last_sp > u->f->n.pos) {
			u->reached = 1;
			return _URC_END_OF_STACK; /* reached the trampoline */
		}
		if (!before)
			ip--; /* a return address: point into the call */
	}
	int n = u->f->nframes;
	u->f->frames[n] = ip;
	u->f->nframes = n + 1;
	return n + 1 >= CG_MAX_FRAMES ? _URC_END_OF_STACK : _URC_NO_REASON;
}

static _Unwind_Reason_Code cg_uw_noop(struct _Unwind_Context *ctx, void *arg) {
	(void)ctx;
	(void)arg;
	return _URC_END_OF_STACK;
}

/* ---- the handler ----------------------------------------------------------- */

static void cg_forward(int sig, siginfo_t *si, void *uc) {
	struct sigaction *p = &cg_prev[sig];
	if (p->sa_flags & SA_SIGINFO) {
		if (p->sa_sigaction)
			p->sa_sigaction(sig, si, uc);
		return;
	}
	if (p->sa_handler == SIG_IGN)
		return;
	if (p->sa_handler == SIG_DFL) {
		/* Die the default way: the fault repeats when we return. */
		signal(sig, SIG_DFL);
		if (si->si_code <= 0)
			raise(sig);
		return;
	}
	p->sa_handler(sig);
}

/* cg_callback_between reports whether a return address into crosscall2
 * sits in the few words above lo (below the guard frame at hi): the frames
 * Go keeps on the thread's stack while a callback runs. lo must lie on the
 * live stack between the fault's sp and the guard frame. */
static int cg_callback_between(uintptr_t lo, uintptr_t sp, uintptr_t hi) {
	if (cg_cc2_hi == 0 || lo < sp || lo >= hi)
		return 0;
	lo &= ~(uintptr_t)(sizeof(uintptr_t) - 1);
	uintptr_t end = lo + 1024 < hi ? lo + 1024 : hi;
	for (uintptr_t a = lo; a + sizeof(uintptr_t) <= end; a += sizeof(uintptr_t))
		if (cg_in_crosscall2(*(const uintptr_t *)a))
			return 1;
	return 0;
}

static size_t cg_hex(char *b, uintptr_t v) {
	static const char digits[] = "0123456789abcdef";
	char t[2 * sizeof(v)];
	size_t n = 0, i = 0;
	do {
		t[n++] = digits[v & 15];
		v >>= 4;
	} while (v != 0);
	b[i++] = '0';
	b[i++] = 'x';
	while (n > 0)
		b[i++] = t[--n];
	return i;
}

static const char *cg_signame(int sig) {
	switch (sig) {
	case SIGSEGV:
		return "SIGSEGV";
	case SIGBUS:
		return "SIGBUS";
	case SIGFPE:
		return "SIGFPE";
	case SIGILL:
		return "SIGILL";
	case SIGABRT:
		return "SIGABRT";
	case SIGTRAP:
		return "SIGTRAP";
	}
	return "a signal";
}

/* cg_say_unmarked writes, with write(2) only, why a crash inside a guarded
 * call goes to the Go runtime: C code called from an unmarked Go callback
 * crashed. */
static void cg_say_unmarked(int sig, uintptr_t pc) {
	char b[512];
	size_t n = 0;
	const char *parts[] = {
	    "cgoguard: ", cg_signame(sig), " at pc=", NULL,
	    " in C code called from a Go callback inside a guarded call. The region where C calls Go is not marked "
	    "with cg_callback_begin/cg_callback_end (or CG_CALLBACK), so the crash cannot be caught without "
	    "corrupting the Go runtime; it goes to Go, which ends the process. Mark every call from C into Go "
	    "made inside a guarded call (cgo contract: go doc github.com/cgoguard/cgoguard, docs/cgo-contract.md).\n",
	};
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (parts[i] == NULL) {
			if (n + 2 + 2 * sizeof(pc) < sizeof(b))
				n += cg_hex(b + n, pc);
			continue;
		}
		for (const char *p = parts[i]; *p && n < sizeof(b); p++)
			b[n++] = *p;
	}
	while (n > 0) {
		ssize_t w = write(2, b, n);
		if (w <= 0)
			break;
		n -= (size_t)w;
		memmove(b, b + w, n);
	}
}

static void cg_handler(int sig, siginfo_t *si, void *ucv) {
	int saved_errno = errno;
	cg_tls_t *t = &cg_tls;
	cg_node *top = t->cur;
	ucontext_t *uc = ucv;
	if (top == NULL || top->kind != CG_NODE_GUARD || uc == NULL)
		goto forward;
	if (si->si_code <= 0) {
		/* Sent, not raised by a fault: ours only when this thread sent it
		 * to itself (raise, abort, pthread_kill). */
		if (si->si_code != SI_TKILL || si->si_pid != getpid())
			goto forward;
	}
	cg_frame *f = (cg_frame *)top;
#if defined(__x86_64__)
	uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
	uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
	uintptr_t sp = (uintptr_t)uc->uc_mcontext.sp;
	uintptr_t pc = (uintptr_t)uc->uc_mcontext.pc;
#else
#error "cgoguard: unsupported architecture"
#endif
	/* C callees of the trampoline run on this thread's stack below the
	 * guard frame; a Go callback runs on a goroutine stack elsewhere. */
	if (!(sp < f->n.pos && sp + CG_STACK_SLACK >= t->stack_lo))
		goto forward;
	if (f->n.flags & CG_F_RECORDING)
		goto jump; /* faulted while unwinding: keep the frames we have */
	f->signo = sig;
	f->si_code = si->si_code;
	f->addr = (uintptr_t)si->si_addr;
	f->pc = pc;
	f->sp = sp;
	f->nframes = 0;
	f->mask = uc->uc_sigmask;
	/* C code may have blocked crash signals (then a fault kills the
	 * process before any handler runs): note which, and never hand the
	 * thread back to Go with them blocked. */
	f->blocked = 0;
	for (int i = 0; i < CG_NSIGS; i++) {
		if (sigismember(&f->mask, cg_sigs[i]) == 1) {
			f->blocked |= 1 << (cg_sigs[i] - 1);
			sigdelset(&f->mask, cg_sigs[i]);
		}
	}
	f->n.flags |= CG_F_RECORDING;
	{
		/* Let a fault during unwinding reach us instead of killing the
		 * process with the signal blocked. */
		sigset_t un;
		sigemptyset(&un);
		sigaddset(&un, SIGSEGV);
		sigaddset(&un, SIGBUS);
		pthread_sigmask(SIG_UNBLOCK, &un, NULL);
		struct cg_uw u = {f, pc, 0, 0, 0, sp};
		_Unwind_Backtrace(cg_uw_cb, &u);
		if (!u.started) {
			f->frames[0] = pc;
			f->nframes = 1;
		}
		/* The unwinder stops at the first Go frame (Go code has no
		 * .eh_frame): right above it, a crosscall2 frame says a Go callback
		 * lies between the fault and the guard frame. */
		if (!u.reached && cg_callback_between(u.last_sp, sp, f->n.pos))
			u.via_callback = 1;
		if (u.via_callback) {
			/* Jumping back would skip the Go callback's frames and the Go
			 * runtime would die confused ("exitsyscall: syscall frame is no
			 * longer valid"). Say why and let Go report the crash. */
			f->n.flags &= ~CG_F_RECORDING;
			cg_say_unmarked(sig, pc);
			goto forward;
		}
	}
jump:
	/* The jump does not restore the mask (sigsetjmp(env, 0) keeps the fast
	 * path free of syscalls): restore the mask of the faulting context, or
	 * this signal stays blocked and the next fault kills the process. */
	pthread_sigmask(SIG_SETMASK, &f->mask, NULL);
	cg_longjmp(f->env);
forward:
	errno = saved_errno;
	cg_forward(sig, si, ucv);
}

/* ---- install and check ---------------------------------------------------- */

int cg_install(void) {
	pthread_mutex_lock(&cg_mu);
	if (cg_installed) {
		pthread_mutex_unlock(&cg_mu);
		return 0;
	}
	cg_pick_clock();
	pthread_key_create(&cg_stats_key, cg_stats_exit);
	void *p = mmap(NULL, CG_POOL * sizeof(cg_detail), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED)
		cg_pool = p;
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0)
		cg_membarrier_ok = 1;
	cg_tramp_ok = cg_code_range((void *)cg_guard_run, 0);
	{
		Dl_info info;
		const ElfW(Sym) *sym = NULL;
		cg_cc2_lo = (uintptr_t)crosscall2;
		cg_cc2_hi = cg_cc2_lo + 256; /* when its size is not in the symbol table */
		if (dladdr1((void *)crosscall2, &info, (void **)&sym, RTLD_DL_SYMENT) != 0 && sym != NULL &&
		    sym->st_size != 0 && info.dli_saddr == (void *)crosscall2)
			cg_cc2_hi = cg_cc2_lo + sym->st_size;
	}
	/* The first unwind loads the unwinder's state; do it now, not in a
	 * signal handler. */
	_Unwind_Backtrace(cg_uw_noop, NULL);
	for (int i = 0; i < CG_NSIGS; i++) {
		int sig = cg_sigs[i];
		struct sigaction sa;
		if (sigaction(sig, NULL, &cg_prev[sig]) != 0) {
			int e = errno;
			pthread_mutex_unlock(&cg_mu);
			return -e;
		}
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = cg_handler;
		sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
		sa.sa_mask = cg_prev[sig].sa_mask;
		if (sigaction(sig, &sa, NULL) != 0) {
			int e = errno;
			pthread_mutex_unlock(&cg_mu);
			return -e;
		}
	}
	cg_installed = 1;
	pthread_mutex_unlock(&cg_mu);
	return 0;
}

/* cg_reinstall puts cgoguard's handler back on every signal where another
 * party replaced it, keeping the handler saved from the Go runtime. Returns
 * the number of handlers put back. */
int cg_reinstall(void) {
	int n = 0;
	pthread_mutex_lock(&cg_mu);
	for (int i = 0; cg_installed && i < CG_NSIGS; i++) {
		struct sigaction cur, sa;
		int sig = cg_sigs[i];
		if (sigaction(sig, NULL, &cur) != 0)
			continue;
		if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == cg_handler)
			continue;
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = cg_handler;
		sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
		sa.sa_mask = cg_prev[sig].sa_mask;
		if (sigaction(sig, &sa, NULL) == 0)
			n++;
	}
	pthread_mutex_unlock(&cg_mu);
	return n;
}

/* cg_check_handlers returns the first signal whose handler is no longer
 * ours (0 if all are), with how: 1 ignored, 2 default, 3 another handler. */
int cg_check_handlers(int *taken_signo, int *taken_how) {
	for (int i = 0; i < CG_NSIGS; i++) {
		struct sigaction cur;
		if (sigaction(cg_sigs[i], NULL, &cur) != 0)
			continue;
		if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == cg_handler)
			continue;
		*taken_signo = cg_sigs[i];
		/* The Go runtime sets SIG_IGN with SA_SIGINFO in the flags, so look
		 * at the handler word itself. */
		if (cur.sa_handler == SIG_IGN)
			*taken_how = 1;
		else if (cur.sa_handler == SIG_DFL)
			*taken_how = 2;
		else
			*taken_how = 3;
		return cg_sigs[i];
	}
	*taken_signo = 0;
	*taken_how = 0;
	return 0;
}

/* ---- the trampoline ---------------------------------------------------- */

static cg_detail *cg_crash_detail(cg_frame *f) {
	cg_detail *d = cg_detail_get();
	if (d == NULL)
		return NULL;
	d->kind = CG_DETAIL_CRASH;
	d->signo = f->signo;
	d->si_code = f->si_code;
	d->addr = f->addr;
	d->pc = f->pc;
	d->sp = f->sp;
	d->nframes = f->nframes;
	d->blocked = f->blocked;
	memcpy(d->frames, f->frames, (size_t)f->nframes * sizeof(uintptr_t));
	d->err_code = 0;
	d->err_errno = 0;
	d->msg[0] = 0;
	return d;
}

/* cg_error_detail copies the error cg_set_error recorded in f. */
static __attribute__((noinline)) cg_detail *cg_error_detail(cg_frame *f) {
	cg_detail *d = cg_detail_get();
	if (d != NULL) {
		d->kind = CG_DETAIL_ERROR;
		d->err_code = f->err_code;
		d->err_errno = f->err_errno;
		d->nframes = 0;
		d->blocked = 0;
		memcpy(d->msg, f->msg, sizeof(d->msg));
		d->msg[sizeof(d->msg) - 1] = 0;
	}
	return d;
}

/* cg_sample_next draws the number of calls until the next timed one:
 * uniform in [1, 2n-1] for n = 1 << shift, so n on average (xorshift64;
 * the multiply maps 32 random bits onto the range without a division). */
static uint64_t cg_sample_next(cg_mstats *s, int shift) {
	uint64_t x = s->rng;
	if (shift == 0)
		return 1;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	s->rng = x;
	return 1 + (((x >> 32) * ((UINT64_C(2) << shift) - 1)) >> 32);
}

/* cg_time_end records a timed call's duration, and when to time the next.
 * Out of line: most calls are not timed. */
static __attribute__((noinline)) void cg_time_end(cg_mstats *s, int mode, uint64_t t0) {
	uint64_t d = cg_ticks() - t0;
	cg_inc(&s->hist[d ? 64 - __builtin_clzll(d) : 0], 1);
	cg_inc(&s->sum_ticks, d);
	s->sample_left = cg_sample_next(s, (mode >> CG_MODE_SAMPLE_SHIFT) & 0xf);
}

/* cg_count_end records the end of a call: its duration when it is one of
 * the timed, then its outcome, or other when the module does not count outcomes here.
 * outcome is &s->ok, &s->err or &s->crash. The outcome counter is also
 * what tells Close the call is over (see cg_membarrier). */
static inline __attribute__((always_inline)) void cg_count_end(cg_mstats *s, int mode, uint64_t *outcome, const cg_frame *f) {
	if (__builtin_expect(f->n.flags & CG_F_TIMED, 0))
		cg_time_end(s, mode, f->t0);
	cg_inc_rel((mode & (CG_MODE_COUNT | CG_MODE_OTHER)) == CG_MODE_COUNT ? outcome : &s->other, 1);
}

/* cg_call runs a call that carries a trace id: it hands the id to the
 * trampoline through the thread's TLS (the goroutine cannot move between
 * the two, both run in one C call). */
cg_ret cg_call(uintptr_t fnp, void *arg, int slot, int mode, uint64_t trace_hi, uint64_t trace_lo) {
	cg_tls_t *t = &cg_tls;
	t->trace_hi = trace_hi;
	t->trace_lo = trace_lo;
	t->has_trace = 1;
	return cg_call_fast(fnp, arg, (slot << 8) | (mode & 0xff));
}

/* cg_guard_run is the part of the trampoline that holds the guard frame
 * f: it records the resume point, pushes f, calls fn(arg) and pops f. It
 * returns fn's result (as an unsigned 32-bit value), or CG_CRASHED when the
 * handler jumped back here. Only this small function calls setjmp, so only
 * its few values live in memory across the call; the trampoline around it
 * keeps its values in registers. Not static: the unwinder stops at its
 * code range (cg_install), which it finds by its dynamic symbol. */
#define CG_CRASHED ((int64_t)1 << 32)
__attribute__((noinline)) int64_t cg_guard_run(cg_frame *f, cg_fn fn, void *arg) {
	cg_tls_t *t = &cg_tls;
	if (cg_setjmp(f->env) != 0)
		return CG_CRASHED; /* back from the handler: the call crashed */
	t->cur = &f->n;
	int rc = fn(arg);
	t->cur = f->n.prev;
	return (int64_t)(uint32_t)rc;
}

/* cg_call_fast is the trampoline; slotmode is slot << 8 | mode (slot -1 for
 * none), so the common path copies three arguments. */
cg_ret cg_call_fast(uintptr_t fnp, void *arg, int slotmode) {
	int slot = slotmode >> 8, mode = slotmode & 0xff;
	cg_tls_t *t = &cg_tls;
	cg_frame f;
	cg_mstats *s = NULL;
	cg_ret ret = {0, CG_STATUS_RAN, NULL};

	/* Take the trace id first, so no path leaves it for a later call. */
	f.n.flags = 0;
	if (__builtin_expect(t->has_trace, 0)) {
		f.n.flags = CG_F_TRACE;
		f.trace_hi = t->trace_hi;
		f.trace_lo = t->trace_lo;
		t->has_trace = 0;
	}
	if (__builtin_expect(t->stack_lo == 0, 0))
		cg_thread_init(t);
	/* Drop nodes a Go panic left behind when it unwound through an
	 * earlier call on this thread: live ones sit above this frame. */
	while (__builtin_expect(t->cur != NULL && t->cur->pos <= (uintptr_t)&f, 0)) {
		if (t->cur->kind == CG_NODE_BARRIER && t->nbar > 0)
			t->nbar--;
		t->cur = t->cur->prev;
	}
	if (slot >= 0) {
		s = cg_slot(t, slot);
		if (s != NULL) {
			cg_inc(&s->started, 1);
			__atomic_signal_fence(__ATOMIC_SEQ_CST);
			if (__builtin_expect(__atomic_load_n(&cg_slot_closed[slot], __ATOMIC_RELAXED), 0)) {
				cg_inc(&s->started, (uint64_t)-1); /* it never ran */
				ret.status = CG_STATUS_CLOSED;
				return ret;
			}
		}
	}
	f.n.prev = t->cur;
	f.n.pos = (uintptr_t)&f;
	f.n.kind = CG_NODE_GUARD;
	f.nbar = t->nbar;
	/* With the histogram, a countdown picks the calls to time. */
	if ((mode & CG_MODE_TIME) && s != NULL && --s->sample_left == 0) {
		f.n.flags |= CG_F_TIMED;
		f.t0 = cg_ticks();
	}
	int64_t r = cg_guard_run(&f, (cg_fn)fnp, arg);
	if (__builtin_expect(r == CG_CRASHED, 0)) {
		t->cur = f.n.prev;
		t->nbar = f.nbar;
		ret.detail = cg_crash_detail(&f);
		if (s != NULL)
			cg_count_end(s, mode, &s->crash, &f);
		return ret;
	}
	int rc = (int)(uint32_t)r;
	ret.rc = rc;
	if (__builtin_expect(f.n.flags & CG_F_ERR_SET, 0) && rc < 0)
		ret.detail = cg_error_detail(&f);
	if (s != NULL)
		cg_count_end(s, mode, rc >= 0 ? &s->ok : &s->err, &f);
	return ret;
}

/* cg_unwind runs (from a deferred Go function) when a Go panic unwound
 * through a guarded call on this thread: nodes below this function's frame
 * belong to C frames that no longer exist. slot is the call's statistics
 * slot (-1 for none). */
void cg_unwind(int slot) {
	cg_tls_t *t = &cg_tls;
	uintptr_t here = (uintptr_t)__builtin_frame_address(0);
	if (slot >= 0 && slot < CG_MAX_SLOTS) {
		/* The call never reached its end: count its end (as other), so
		 * Close does not wait for it. */
		cg_mstats *s = cg_slot(t, slot);
		if (s != NULL)
			cg_inc_rel(&s->other, 1);
	}
	while (t->cur != NULL && t->cur->pos < here) {
		if (t->cur->kind == CG_NODE_BARRIER && t->nbar > 0)
			t->nbar--;
		t->cur = t->cur->prev;
	}
}

/* ---- the public C API (include/cgoguard.h) ------------------------------ */

static int cg_neg(int code) { return code > 0 ? -code : (code < 0 ? code : -1); }

static int cg_vset(int code, int errnum, const char *fmt, va_list ap) {
	cg_node *top = cg_tls.cur;
	if (top != NULL && top->kind == CG_NODE_GUARD) {
		cg_frame *f = (cg_frame *)top;
		f->n.flags |= CG_F_ERR_SET;
		f->err_code = code;
		f->err_errno = errnum;
		if (fmt != NULL)
			vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
		else
			f->msg[0] = 0;
	}
	errno = errnum;
	return cg_neg(code);
}

int cg_set_error(int code, const char *fmt, ...) {
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	int r = cg_vset(code, e, fmt, ap);
	va_end(ap);
	return r;
}

int cg_set_error_errno(int code, int errnum, const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	int r = cg_vset(code, errnum, fmt, ap);
	va_end(ap);
	return r;
}

void cg_callback_begin(void) {
	cg_tls_t *t = &cg_tls;
	if (t->nbar >= CG_MAX_BARRIERS) {
		/* Too deep to track: still hide the guard frames. */
		t->nbar++;
		return;
	}
	cg_node *b = &t->bars[t->nbar++];
	b->prev = t->cur;
	b->pos = (uintptr_t)__builtin_frame_address(0);
	b->kind = CG_NODE_BARRIER;
	t->cur = b;
}

void cg_callback_end(void) {
	cg_tls_t *t = &cg_tls;
	if (t->nbar <= 0)
		return;
	t->nbar--;
	if (t->nbar >= CG_MAX_BARRIERS)
		return;
	cg_node *b = &t->bars[t->nbar];
	/* Pop down to this barrier (frames above it are gone if a guarded call
	 * inside the region did not return normally). */
	while (t->cur != NULL && t->cur != b && t->cur->pos < b->pos)
		t->cur = t->cur->prev;
	if (t->cur == b)
		t->cur = b->prev;
}

int cg_in_guarded_call(void) {
	cg_node *top = cg_tls.cur;
	return top != NULL && top->kind == CG_NODE_GUARD;
}

int cg_trace_id(char buf[33]) {
	static const char hex[] = "0123456789abcdef";
	cg_node *top = cg_tls.cur;
	/* Look through callback barriers to the innermost guard frame. */
	while (top != NULL && top->kind != CG_NODE_GUARD)
		top = top->prev;
	if (top == NULL || !(top->flags & CG_F_TRACE)) {
		if (buf)
			buf[0] = 0;
		return 0;
	}
	if (buf) {
		const cg_frame *f = (const cg_frame *)top;
		for (int i = 0; i < 16; i++) {
			uint64_t w = i < 8 ? f->trace_hi : f->trace_lo;
			unsigned b = (unsigned)(w >> (56 - 8 * (i % 8))) & 0xff;
			buf[2 * i] = hex[b >> 4];
			buf[2 * i + 1] = hex[b & 15];
		}
		buf[32] = 0;
	}
	return 1;
}

/* ---- symbolization ------------------------------------------------------- */

int cg_symbolize(uintptr_t pc, char *name, size_t namelen, char *obj, size_t objlen, uintptr_t *base, uintptr_t *symaddr) {
	Dl_info info;
	const ElfW(Sym) *sym = NULL;
	name[0] = 0;
	obj[0] = 0;
	*base = 0;
	*symaddr = 0;
	if (dladdr1((void *)pc, &info, (void **)&sym, RTLD_DL_SYMENT) == 0)
		return 0;
	/* dladdr names the nearest dynamic symbol below pc; a static function
	 * is not one, so trust the name only when the symbol's size covers pc. */
	if (info.dli_sname && info.dli_saddr && sym &&
	    (sym->st_size == 0 || pc < (uintptr_t)info.dli_saddr + sym->st_size))
		snprintf(name, namelen, "%s", info.dli_sname);
	else
		info.dli_saddr = NULL;
	if (info.dli_fname)
		snprintf(obj, objlen, "%s", info.dli_fname);
	*base = (uintptr_t)info.dli_fbase;
	*symaddr = (uintptr_t)info.dli_saddr;
	return 1;
}
