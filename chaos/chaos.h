/* chaos.h: the C side of package chaos (failpoints at the Go→C boundary).
 * Not part of the public C API. */
#ifndef CGOGUARD_CHAOS_H
#define CGOGUARD_CHAOS_H

#include <stdint.h>

#define CG_CHAOS_SLOTS 256
#define CG_CHAOS_MSG 256

/* Actions of a ticket. */
#define CG_CHAOS_SEGV 1
#define CG_CHAOS_BUS 2
#define CG_CHAOS_FPE 3
#define CG_CHAOS_ABORT 4
#define CG_CHAOS_DELAY 5
#define CG_CHAOS_HANG 6
#define CG_CHAOS_ERRNO 7
#define CG_CHAOS_ERROR 8

/* cg_chaos_ticket is what one fired failpoint does to one call. Go
 * allocates it and passes it as the argument of cg_chaos_call in place of
 * the original argument; C reads it only during that call. */
typedef struct cg_chaos_ticket {
	uintptr_t fn;     /* the original function, int fn(void *) */
	void *arg;        /* its argument (set for delay and hang only) */
	int action;       /* CG_CHAOS_* */
	int err;          /* errno of errno(), errno recorded by error() */
	int code;         /* code of error() */
	int slot;         /* the failpoint's release slot */
	uint64_t gen;     /* the slot's generation when the ticket was made */
	int64_t delay_ns; /* delay() */
	char msg[CG_CHAOS_MSG];
} cg_chaos_ticket;

int cg_chaos_init(void);
int cg_chaos_call(void *ticket);
int cg_chaos_segv(void);
int cg_chaos_bus(void);
int cg_chaos_fpe(void);
int cg_chaos_abort(void);
uint64_t cg_chaos_gen(int slot);
void cg_chaos_expiry(int slot, int64_t remaining_ns);
void cg_chaos_release(int slot);
int cg_chaos_waiting(void);

#endif
