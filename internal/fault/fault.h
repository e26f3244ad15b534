/* fault.h: the contract between package chaos, which decides that a call
 * misbehaves, and package isolate, which carries the decision into a
 * worker process. Not part of the public C API.
 *
 * A fired failpoint becomes a ticket: the call's function and argument and
 * a cg_fault, what to do to the call. In this process the ticket is the
 * argument of the fault entry (package chaos's cg_chaos_call) run in place
 * of the function; for a module whose calls run in worker processes the
 * cg_fault travels in the request slot, and the worker builds the ticket
 * and runs the same entry on the thread that serves the call.
 *
 * Delays and hangs wait on gates: one per failpoint slot, in a page of a
 * memory file that the parent creates and every worker maps read-only, so
 * clearing a failpoint, or its TTL running out, releases the calls it holds
 * here and in every worker alike. */
#ifndef CGOGUARD_FAULT_H
#define CGOGUARD_FAULT_H

#include <stdint.h>

#define CG_FAULT_SLOTS 256
#define CG_FAULT_MSG 256

/* Actions of a cg_fault. */
#define CG_FAULT_SEGV 1
#define CG_FAULT_BUS 2
#define CG_FAULT_FPE 3
#define CG_FAULT_ABORT 4
#define CG_FAULT_DELAY 5
#define CG_FAULT_HANG 6
#define CG_FAULT_ERRNO 7
#define CG_FAULT_ERROR 8

/* cg_fault is what one fired failpoint does to one call. It holds no
 * pointer, so it can be copied between processes. */
typedef struct cg_fault {
	int32_t action;   /* CG_FAULT_* */
	int32_t err;      /* errno of errno(), errno recorded by error() */
	int32_t code;     /* code of error() */
	int32_t slot;     /* the failpoint's gate */
	uint32_t gen;     /* the gate's generation when the failpoint fired */
	uint32_t pad;
	int64_t delay_ns; /* delay() */
	char msg[CG_FAULT_MSG];
} cg_fault;

/* cg_fault_ticket is the argument of the fault entry. */
typedef struct cg_fault_ticket {
	uintptr_t fn;      /* the call's function, int fn(void *) */
	void *arg;         /* its argument */
	uint32_t *waiting; /* NULL, or a word set to 1 while the call waits at its gate */
	cg_fault f;
} cg_fault_ticket;

/* cg_fault_gate is the state of one failpoint slot. */
typedef struct cg_fault_gate {
	uint32_t seq;   /* futex: bumped after every change below */
	uint32_t gen;   /* bumped when the failpoint is removed */
	int64_t expiry; /* CLOCK_MONOTONIC ns when it expires; 0: never */
} cg_fault_gate;

#define CG_FAULT_GATES_SIZE 4096

/* The fault entry of this program: package chaos's cg_chaos_call, set when
 * it initialises (in workers too); NULL when it is not linked in. */
extern int (*volatile cg_fault_entry)(void *ticket);

/* Parent: create the gates in a memory file; returns its descriptor
 * (close-on-exec), or -errno after falling back to private memory (the
 * gates then serve this process only). */
int cg_fault_setup(void);
/* Worker: map the parent's gates, read-only, from descriptor fd. */
int cg_fault_attach(int fd);

int64_t cg_fault_now(void);
uint32_t cg_fault_gen(int slot);
/* cg_fault_expiry sets when the slot's waiters are released at the latest:
 * remaining_ns from now, or never for 0. */
void cg_fault_expiry(int slot, int64_t remaining_ns);
/* cg_fault_release ends the slot's failpoint: every call waiting at its
 * gate, in any process, returns. */
void cg_fault_release(int slot);
/* cg_fault_wait blocks until f's failpoint is released or expires, or until
 * the monotonic time until (0: no limit). */
void cg_fault_wait(const cg_fault *f, int64_t until);

#endif
