/* isolate.h: the request/response slot shared by a pool (the parent) and
 * one worker process, and the functions on both sides of it. Declarations
 * for isolate.c and the cgo preambles of package isolate; not public API
 * (that is include/cgoguard_isolate.h).
 *
 * One slot per worker, one page of a memory file both processes map. The
 * parent posts a request (function index, argument address, trace id) and
 * bumps req; the worker takes it, runs the function in the root package's
 * guarded-call trampoline, writes the result and sets resp to the request's
 * sequence number. Each side spins for a moment before sleeping on a futex,
 * and wakes the other only when it announced it sleeps. No socket, no
 * serialisation: the argument stays in the shared arena.
 *
 * A call a failpoint fired on carries its fault (internal/fault's
 * cg_fault: the action and its parameters, decided in the parent): the
 * worker runs the fault entry (package chaos's cg_chaos_call) with a ticket
 * for the function in place of the function, on the same thread and under
 * the same trampoline. */
#ifndef CGOGUARD_ISOLATE_H
#define CGOGUARD_ISOLATE_H

#include <stdint.h>

#include "internal/fault/fault.h"

/* resp holds a 30-bit sequence number and two flags. */
#define CG_ISO_SEQ_MASK 0x3fffffffu
#define CG_ISO_DEAD 0x40000000u   /* the worker process is gone (set by the parent) */
#define CG_ISO_CANCEL 0x80000000u /* the caller gave up (set by the parent) */
/* resp's sequence number before the worker said it is ready; readiness is
 * the completion of request 0. */
#define CG_ISO_NOT_READY CG_ISO_SEQ_MASK

/* Requests. */
#define CG_ISO_OP_CALL 1
#define CG_ISO_OP_EXIT 2

/* Result kinds. */
#define CG_ISO_RET 1    /* rc */
#define CG_ISO_ERROR 2  /* rc with the cg_set_error detail */
#define CG_ISO_CRASH 3  /* a crash record; the worker waits to be killed */
#define CG_ISO_BADFN 4  /* function index out of range */
#define CG_ISO_BADARG 5 /* argument outside the worker's arena mapping */
#define CG_ISO_BADFAULT 6 /* a fault, and no fault entry in the worker */

/* What cg_iso_wait returns. */
#define CG_ISO_W_DONE 0
#define CG_ISO_W_DEAD 1
#define CG_ISO_W_CANCELLED 2
#define CG_ISO_W_TIMEOUT 3

#define CG_ISO_FRAMES 48
#define CG_ISO_MSG 256
#define CG_ISO_SLOT_SIZE 4096

typedef struct cg_iso_slot {
	/* Request line, written by the parent. */
	uint32_t req;             /* futex: sequence number of the last request */
	uint32_t worker_sleeping; /* the worker sleeps (or is about to) on req */
	uint32_t op;
	uint32_t fn;
	uint64_t arg;
	uint64_t trace_hi, trace_lo;
	uint32_t has_trace;
	uint32_t spin_ns; /* how long each side spins before it sleeps */
	uint32_t has_fault; /* the call carries fault (below) */
	uint8_t pad0[12];

	/* Response line, written by the worker (and the flags by the parent). */
	uint32_t resp;            /* futex: last completed sequence | flags */
	uint32_t parent_sleeping; /* the caller sleeps (or is about to) on resp */
	uint32_t started;         /* sequence number of the request the worker took */
	uint32_t kind;            /* CG_ISO_* result kind */
	int32_t rc;
	int32_t err_code, err_errno;
	int32_t pid;
	int32_t signo, si_code, nframes;
	uint32_t pad1;
	uint64_t addr, pc;
	uint64_t frames[CG_ISO_FRAMES];
	char msg[CG_ISO_MSG];

	/* Fault line: the fault of a request (written by the parent with the
	 * request), and a word the worker sets to 1 while the call waits at
	 * the fault's gate (delay, hang). */
	uint32_t fault_waiting;
	uint32_t pad2;
	cg_fault fault;
} cg_iso_slot;

/* Parent side. */
void cg_iso_init(cg_iso_slot *s, uint32_t spin_ns);
/* cg_iso_post posts request seq; fault is NULL, or the fault the call
 * carries. */
void cg_iso_post(cg_iso_slot *s, uint32_t seq, uint32_t op, uint32_t fn, uint64_t arg, int has_trace, uint64_t trace_hi, uint64_t trace_lo, const cg_fault *fault);
/* cg_iso_wait waits for the completion of request seq, for at most
 * timeout_ns (< 0: no limit). With ignore_cancel a cancelled request is
 * waited for anyway. */
int cg_iso_wait(cg_iso_slot *s, uint32_t seq, int64_t timeout_ns, int ignore_cancel);
void cg_iso_cancel(cg_iso_slot *s, uint32_t seq);
void cg_iso_mark_dead(cg_iso_slot *s);

/* Worker side: serves requests until an exit request (CG_ISO_SERVE_EXIT)
 * or the parent's death (CG_ISO_SERVE_ORPHANED). After a crash it posts
 * the record and waits to be killed; if that does not happen within 30s
 * (or the parent dies) it returns CG_ISO_SERVE_CRASHED. The caller ends
 * the process. */
#define CG_ISO_SERVE_EXIT 0
#define CG_ISO_SERVE_ORPHANED 1
#define CG_ISO_SERVE_CRASHED 2
int cg_iso_serve(cg_iso_slot *s, const uintptr_t *fns, uint32_t nfn, uint64_t arena_lo, uint64_t arena_hi, int32_t ppid, int32_t index);

#endif
