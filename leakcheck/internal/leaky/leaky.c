//go:build cgo

/* leaky.c: C functions that leak on purpose (and can give back what they
 * leaked), clean C functions, and a thread that mallocs and frees all the
 * time; fixtures for the leakcheck tests. */

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "leaky.h"

/* ---- 64 bytes per call ---- */

static void *heap_list; /* blocks chained through their first word */
static pthread_mutex_t heap_mu = PTHREAD_MUTEX_INITIALIZER;

int leaky_malloc64(void) {
	void **p = malloc(64);
	if (p == NULL) {
		return -1;
	}
	pthread_mutex_lock(&heap_mu);
	*p = heap_list;
	heap_list = p;
	pthread_mutex_unlock(&heap_mu);
	return 0;
}

int leaky_release_heap(void) {
	pthread_mutex_lock(&heap_mu);
	while (heap_list != NULL) {
		void **p = heap_list;
		heap_list = *p;
		free(p);
	}
	pthread_mutex_unlock(&heap_mu);
	return 0;
}

/* ---- 1 descriptor per call ---- */

#define MAX_FDS 16384
static int fds[MAX_FDS];
static int nfds;

int leaky_open_fd(void) {
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && nfds < MAX_FDS) {
		fds[nfds++] = fd;
	} else if (fd >= 0) {
		close(fd);
	}
	return 0;
}

int leaky_release_fds(void) {
	while (nfds > 0) {
		close(fds[--nfds]);
	}
	return 0;
}

/* ---- 1 blocked thread per call ---- */

static pthread_mutex_t th_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t th_cond = PTHREAD_COND_INITIALIZER;
static int th_release;
static int th_live;

static void *blocked_main(void *arg) {
	(void)arg;
	pthread_mutex_lock(&th_mu);
	while (!th_release) {
		pthread_cond_wait(&th_cond, &th_mu);
	}
	th_live--;
	pthread_cond_broadcast(&th_cond);
	pthread_mutex_unlock(&th_mu);
	return NULL;
}

int leaky_thread(void) {
	pthread_attr_t attr;
	pthread_t t;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	pthread_mutex_lock(&th_mu);
	int rc = pthread_create(&t, &attr, blocked_main, NULL);
	if (rc == 0) {
		th_live++;
	}
	pthread_mutex_unlock(&th_mu);
	pthread_attr_destroy(&attr);
	return rc;
}

int leaky_release_threads(void) {
	pthread_mutex_lock(&th_mu);
	th_release = 1;
	pthread_cond_broadcast(&th_cond);
	while (th_live > 0) {
		pthread_cond_wait(&th_cond, &th_mu);
	}
	th_release = 0;
	pthread_mutex_unlock(&th_mu);
	return 0;
}

/* ---- handles held by C ---- */

#define MAX_HANDLES 16384
static uintptr_t held[MAX_HANDLES];
static int nheld;

void leaky_keep_handle(uintptr_t h) {
	if (nheld < MAX_HANDLES) {
		held[nheld++] = h;
	}
}

int leaky_take_handles(uintptr_t *out, int max) {
	int n = 0;
	while (nheld > 0 && n < max) {
		out[n++] = held[--nheld];
	}
	return n;
}

/* ---- clean C functions ---- */

void clean_malloc_free(size_t n) {
	char *volatile p = malloc(n);
	if (p != NULL) {
		p[0] = 1;
	}
	free(p);
}

static void *joined_main(void *arg) { return arg; }

int clean_thread_join(void) {
	pthread_t t;
	int rc = pthread_create(&t, NULL, joined_main, NULL);
	if (rc == 0) {
		rc = pthread_join(t, NULL);
	}
	return rc;
}

/* ---- a thread that mallocs and frees continuously ---- */

static volatile int churn_stop;
static pthread_t churn_thread;
static volatile unsigned long churn_rounds;

static void *churn_main(void *arg) {
	(void)arg;
	unsigned seed = 12345;
	void *slots[64];
	while (!churn_stop) {
		int n = 1 + (int)(rand_r(&seed) % 64);
		for (int i = 0; i < n; i++) {
			slots[i] = malloc(16 + rand_r(&seed) % 2048);
		}
		for (int i = 0; i < n; i++) {
			free(slots[i]);
		}
		churn_rounds++;
	}
	return NULL;
}

int churn_start(void) {
	churn_stop = 0;
	churn_rounds = 0;
	return pthread_create(&churn_thread, NULL, churn_main, NULL);
}

unsigned long churn_rounds_now(void) { return churn_rounds; }

unsigned long churn_stop_and_join(void) {
	churn_stop = 1;
	pthread_join(churn_thread, NULL);
	return churn_rounds;
}
