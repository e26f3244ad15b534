#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cproducer.h"
#include "_cgo_export.h"

struct cp_thread {
	pthread_t th;
	struct cp_run *run;
	uint32_t id;
	struct cp_result res;
};

struct cp_run {
	cg_bridge *b;
	int threads;
	uint64_t per_thread;
	int mode;
	uint32_t size;
	int64_t pause_ns;
	uint32_t batch;
	int together;
	pthread_barrier_t bar;
	/* The start gate: threads wait on it until every one of them has
	 * been created (gate 1) or a creation failed (gate -1: they return
	 * without pushing, so none waits at a barrier for a missing peer). */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int gate;
	struct cp_thread t[];
};

int64_t cp_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* splitmix64 of the producer and sequence number. */
uint64_t cp_checksum(uint32_t producer, uint64_t seq)
{
	uint64_t z = seq ^ ((uint64_t)producer << 56) ^ UINT64_C(0x9e3779b97f4a7c15);
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* A checked message: producer u32, length u32, seq u64, checksum u64, then
 * seq % 23 extra bytes with value (seq + i + producer) & 0xff. */
static size_t fill(unsigned char *p, uint32_t producer, uint64_t seq)
{
	uint32_t extra = (uint32_t)(seq % 23);
	uint32_t len = 24 + extra;
	uint64_t sum = cp_checksum(producer, seq);

	memcpy(p, &producer, 4);
	memcpy(p + 4, &len, 4);
	memcpy(p + 8, &seq, 8);
	memcpy(p + 16, &sum, 8);
	for (uint32_t i = 0; i < extra; i++)
		p[24 + i] = (unsigned char)(seq + i + producer);
	return len;
}

static void count(struct cp_result *r, int rc)
{
	int i;
	switch (rc) {
	case 0:
		r->accepted++;
		return;
	case -EAGAIN: i = 0; break;
	case -ENOBUFS: i = 1; break;
	case -ETIMEDOUT: i = 2; break;
	case -EPIPE: i = 3; break;
	case -EMSGSIZE: i = 4; break;
	case -EINVAL: i = 5; break;
	default: i = 6; break;
	}
	r->codes[i]++;
}

static int reserve_commit(cg_bridge *b, uint32_t producer, uint64_t seq)
{
	unsigned char *p = cg_bridge_reserve(b, 24 + 22);
	if (!p)
		return -errno;
	return cg_bridge_commit_len(b, p, fill(p, producer, seq));
}

/* run_batches pushes per_thread checked messages (CP_BATCH) or fixed-size
 * ones (CP_FLOOD_BATCH) with cg_bridge_push_batch. Checked batches vary in
 * size, 1 to r->batch. A refusal drops the one message it concerns, as
 * cg_bridge_push would, and is counted per message. */
static void run_batches(struct cp_thread *t)
{
	struct cp_run *r = t->run;
	unsigned char buf[CP_MAX_BATCH][64];
	const void *data[CP_MAX_BATCH];
	size_t len[CP_MAX_BATCH];
	uint64_t seq = 0;

	for (int i = 0; i < CP_MAX_BATCH; i++)
		data[i] = buf[i];
	while (seq < r->per_thread) {
		uint64_t n = r->batch;
		size_t off = 0;
		if (r->mode == CP_BATCH)
			n = (seq / 7) % r->batch + 1;
		if (n > r->per_thread - seq)
			n = r->per_thread - seq;
		for (uint64_t i = 0; i < n; i++) {
			if (r->mode == CP_BATCH) {
				len[i] = fill(buf[i], t->id, seq + i);
			} else {
				uint64_t v = seq + i;
				memcpy(buf[i], &v, 8);
				memcpy(buf[i] + 8, &t->id, 4);
				len[i] = r->size;
			}
		}
		while (off < n) {
			int rc = cg_bridge_push_batch(r->b, data + off, len + off, (size_t)(n - off));
			if (rc > 0) {
				t->res.accepted += (uint64_t)rc;
				off += (size_t)rc;
				continue;
			}
			count(&t->res, rc);
			if (rc == -EPIPE || rc == 0)
				return;
			off++;
		}
		seq += n;
	}
}

static void run_loop(struct cp_thread *t);

static void *run_thread(void *arg)
{
	struct cp_thread *t = arg;
	int64_t c0;
	int gate;

	pthread_mutex_lock(&t->run->mu);
	while ((gate = t->run->gate) == 0)
		pthread_cond_wait(&t->run->cv, &t->run->mu);
	pthread_mutex_unlock(&t->run->mu);
	if (gate < 0)
		return NULL;
	c0 = thread_cpu();
	if (t->run->mode == CP_BATCH || t->run->mode == CP_FLOOD_BATCH)
		run_batches(t);
	else
		run_loop(t);
	t->res.cpu_ns = thread_cpu() - c0;
	return NULL;
}

static void run_loop(struct cp_thread *t)
{
	struct cp_run *r = t->run;
	unsigned char buf[64];
	int rc = 0;

	memset(buf, 0xab, sizeof buf);
	for (uint64_t seq = 0; seq < r->per_thread; seq++) {
		switch (r->mode) {
		case CP_PUSH:
			rc = cg_bridge_push(r->b, buf, fill(buf, t->id, seq));
			break;
		case CP_RESERVE:
			rc = reserve_commit(r->b, t->id, seq);
			break;
		case CP_MIXED:
			if (seq & 1)
				rc = reserve_commit(r->b, t->id, seq);
			else
				rc = cg_bridge_push(r->b, buf, fill(buf, t->id, seq));
			break;
		case CP_FLOOD:
			memcpy(buf, &seq, 8);
			memcpy(buf + 8, &t->id, 4);
			rc = cg_bridge_push(r->b, buf, r->size);
			break;
		case CP_CALLBACK:
			memcpy(buf, &seq, 8);
			memcpy(buf + 8, &t->id, 4);
			cproducerEvent(buf, r->size);
			rc = 0;
			break;
		case CP_LATENCY: {
			struct timespec ts = {0, r->pause_ns};
			int64_t now;
			nanosleep(&ts, NULL);
			now = cp_now();
			memcpy(buf, &now, 8);
			rc = cg_bridge_push(r->b, buf, 8);
			break;
		}
		}
		count(&t->res, rc);
		if (seq == 0 && r->together)
			pthread_barrier_wait(&r->bar); /* every thread has pushed once */
		if (rc == -EPIPE)
			break;
	}
	if (r->together)
		pthread_barrier_wait(&r->bar); /* none exits before all are done */
}

static void open_gate(struct cp_run *r, int gate)
{
	pthread_mutex_lock(&r->mu);
	r->gate = gate;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

static void free_run(struct cp_run *r)
{
	if (r->together)
		pthread_barrier_destroy(&r->bar);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

struct cp_run *cp_start(cg_bridge *b, int threads, uint64_t per_thread, int mode, uint32_t size, int64_t pause_ns, uint32_t batch,
			uint32_t first_id, int together)
{
	struct cp_run *r = calloc(1, sizeof *r + (size_t)threads * sizeof(struct cp_thread));

	if (!r)
		return NULL;
	if (size > 64)
		size = 64;
	r->b = b;
	r->threads = threads;
	r->per_thread = per_thread;
	r->mode = mode;
	r->size = size;
	r->pause_ns = pause_ns;
	if (batch < 1)
		batch = 1;
	if (batch > CP_MAX_BATCH)
		batch = CP_MAX_BATCH;
	r->batch = batch;
	/* Together needs every thread to reach the barriers: modes that push
	 * one message per iteration, and at least one message. */
	r->together = together && per_thread > 0 && mode != CP_BATCH && mode != CP_FLOOD_BATCH;
	if (r->together && pthread_barrier_init(&r->bar, NULL, (unsigned)threads) != 0) {
		free(r);
		return NULL;
	}
	for (int i = 0; i < threads; i++) {
		r->t[i].run = r;
		r->t[i].id = first_id + (uint32_t)i;
	}
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	for (int i = 0; i < threads; i++) {
		if (pthread_create(&r->t[i].th, NULL, run_thread, &r->t[i]) != 0) {
			open_gate(r, -1);
			for (int j = 0; j < i; j++)
				pthread_join(r->t[j].th, NULL);
			free_run(r);
			return NULL;
		}
	}
	open_gate(r, 1);
	return r;
}

void cp_join(struct cp_run *r, struct cp_result *out)
{
	for (int i = 0; i < r->threads; i++) {
		pthread_join(r->t[i].th, NULL);
		out[i] = r->t[i].res;
	}
	free_run(r);
}

void cp_commit_checks(cg_bridge *b, int *out)
{
	unsigned char junk[32];
	unsigned char *p = cg_bridge_reserve(b, 8);

	if (!p) {
		for (int i = 0; i < 6; i++)
			out[i] = 1000 + errno;
		return;
	}
	memset(p, 7, 8);
	out[0] = cg_bridge_commit_len(b, p, 9);
	out[1] = cg_bridge_commit(b, junk + 16);
	out[2] = cg_bridge_commit(b, NULL);
	out[3] = cg_bridge_commit(b, p);
	out[4] = cg_bridge_commit(b, p);
	out[5] = cg_bridge_push(NULL, junk, 1);
}

/* cp_batch_checks exercises cg_bridge_push_batch's argument handling on b,
 * which must be empty, with room for at least 4 messages and a maximum
 * message size of at most 63 bytes. out gets, in order: a batch of 4
 * whose third message is too long (2: the prefix), the rest of it (the
 * too-long message first: -EMSGSIZE), the last one alone (1), n = 0 (0), a
 * NULL bridge (-EINVAL), NULL arrays with n > 0 (-EINVAL). */
void cp_batch_checks(cg_bridge *b, int *out)
{
	static unsigned char m[4][64];
	const void *data[4] = {m[0], m[1], m[2], m[3]};
	size_t len[4] = {1, 2, 64, 3};

	for (int i = 0; i < 4; i++)
		memset(m[i], 'a' + i, sizeof m[i]);
	out[0] = cg_bridge_push_batch(b, data, len, 4);
	out[1] = cg_bridge_push_batch(b, data + 2, len + 2, 2);
	out[2] = cg_bridge_push_batch(b, data + 3, len + 3, 1);
	out[3] = cg_bridge_push_batch(b, data, len, 0);
	out[4] = cg_bridge_push_batch(NULL, data, len, 1);
	out[5] = cg_bridge_push_batch(b, NULL, NULL, 1);
}
