/* chaos.h: the C side of package chaos (failpoints at the Go→C boundary).
 * Not part of the public C API. The ticket, the actions and the gates are
 * internal/fault's (fault.h): package isolate carries them into worker
 * processes, where the same cg_chaos_call runs. */
#ifndef CGOGUARD_CHAOS_H
#define CGOGUARD_CHAOS_H

#include <stdint.h>

#include "internal/fault/fault.h"

#define CG_CHAOS_SLOTS CG_FAULT_SLOTS
#define CG_CHAOS_MSG CG_FAULT_MSG

/* Actions of a ticket. */
#define CG_CHAOS_SEGV CG_FAULT_SEGV
#define CG_CHAOS_BUS CG_FAULT_BUS
#define CG_CHAOS_FPE CG_FAULT_FPE
#define CG_CHAOS_ABORT CG_FAULT_ABORT
#define CG_CHAOS_DELAY CG_FAULT_DELAY
#define CG_CHAOS_HANG CG_FAULT_HANG
#define CG_CHAOS_ERRNO CG_FAULT_ERRNO
#define CG_CHAOS_ERROR CG_FAULT_ERROR

/* cg_chaos_ticket is what one fired failpoint does to one call. Go
 * allocates it and passes it as the argument of cg_chaos_call in place of
 * the original argument; C reads it only during that call. In a worker
 * process the serving loop builds it from the request. */
typedef cg_fault_ticket cg_chaos_ticket;

int cg_chaos_init(void);
int cg_chaos_call(void *ticket);
int cg_chaos_segv(void);
int cg_chaos_bus(void);
int cg_chaos_fpe(void);
int cg_chaos_abort(void);
int cg_chaos_waiting(void);

#endif
