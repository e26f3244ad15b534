/* cproducer.h: C producer threads that drive a bridge in tests and
 * benchmarks. */
#ifndef CGOGUARD_CPRODUCER_H
#define CGOGUARD_CPRODUCER_H

#include <stddef.h>
#include <stdint.h>

#include "cgoguard.h"

enum {
	CP_PUSH = 0,      /* cg_bridge_push, checked messages */
	CP_RESERVE = 1,   /* cg_bridge_reserve + cg_bridge_commit_len, checked messages */
	CP_MIXED = 2,     /* alternate the two */
	CP_FLOOD = 3,     /* cg_bridge_push of a fixed-size message (seq u64, producer u32 if they fit), no checks */
	CP_CALLBACK = 4,  /* one call of the exported Go function per event, messages as CP_FLOOD */
	CP_LATENCY = 5,   /* push a timestamp, pause, repeat */
	CP_BATCH = 6,     /* cg_bridge_push_batch of checked messages, 1 to batch at a time */
	CP_FLOOD_BATCH = 7, /* cg_bridge_push_batch of batch fixed-size messages, no checks */
};

/* Errno values counted per thread, in this order; the last is "other". */
#define CP_NCODES 7

struct cp_result {
	uint64_t accepted;
	uint64_t codes[CP_NCODES]; /* EAGAIN ENOBUFS ETIMEDOUT EPIPE EMSGSIZE EINVAL other */
	int64_t cpu_ns;            /* the thread's CPU time pushing */
};

struct cp_run;

struct cp_run *cp_start(cg_bridge *b, int threads, uint64_t per_thread, int mode, uint32_t size, int64_t pause_ns, uint32_t batch,
			uint32_t first_id, int together);
void cp_join(struct cp_run *r, struct cp_result *out);
uint64_t cp_checksum(uint32_t producer, uint64_t seq);
int64_t cp_now(void);
void cp_commit_checks(cg_bridge *b, int *out);
void cp_batch_checks(cg_bridge *b, int *out);

/* Most messages in one batch. */
#define CP_MAX_BATCH 64

#endif
