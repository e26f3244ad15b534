/* observe.c: the C side of package observe: snapshot callbacks and the
 * status-file reader declared in include/cgoguard_observe.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "observe.h"

_Static_assert(sizeof(cg_status_module) == 128, "cg_status_module is 128 bytes");
_Static_assert(offsetof(cg_status, modules) == 128, "the cg_status header is 128 bytes");
_Static_assert(offsetof(cg_status, seq) == 16 && offsetof(cg_status, pid) == 24 &&
                   offsetof(cg_status, proc_start) == 32 && offsetof(cg_status, started_unix_ns) == 40 &&
                   offsetof(cg_status, updated_unix_ns) == 48 && offsetof(cg_status, interval_ns) == 56 &&
                   offsetof(cg_status, dropped) == 64,
               "cg_status header offsets as observe/status.go writes them");
_Static_assert(offsetof(cg_status_module, state) == 64 && offsetof(cg_status_module, ok) == 72 &&
                   offsetof(cg_status_module, inflight) == 112 && offsetof(cg_status_module, abandoned) == 120,
               "cg_status_module offsets as observe/status.go writes them");

/* ---- snapshot callbacks ---------------------------------------------------- */

typedef struct cg_obs_reg {
	char module[CG_MODULE_NAME_MAX];
	cg_snapshot_fn fn;
	void *ud;
	int used;
} cg_obs_reg;

struct cg_snapshot {
	cg_obs_kv *kv;
	int n, max;
	int truncated;
};

/* reg_mu guards the table; run_mu is held while callbacks run, so that
 * unregister can wait for a running callback to finish. */
static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t run_mu = PTHREAD_MUTEX_INITIALIZER;
static cg_obs_reg regs[CG_SNAPSHOT_MAX_CALLBACKS];

int cg_snapshot_register(const char *module, cg_snapshot_fn fn, void *ud) {
	if (module == NULL || fn == NULL || module[0] == 0 || strlen(module) >= CG_MODULE_NAME_MAX)
		return -EINVAL;
	int rc = -ENOSPC;
	pthread_mutex_lock(&reg_mu);
	for (int i = 0; i < CG_SNAPSHOT_MAX_CALLBACKS; i++) {
		if (regs[i].used && regs[i].fn == fn && regs[i].ud == ud && strcmp(regs[i].module, module) == 0) {
			rc = -EEXIST;
			goto out;
		}
	}
	for (int i = 0; i < CG_SNAPSHOT_MAX_CALLBACKS; i++) {
		if (!regs[i].used) {
			snprintf(regs[i].module, sizeof regs[i].module, "%s", module);
			regs[i].fn = fn;
			regs[i].ud = ud;
			regs[i].used = 1;
			rc = 0;
			break;
		}
	}
out:
	pthread_mutex_unlock(&reg_mu);
	return rc;
}

int cg_snapshot_unregister(const char *module, cg_snapshot_fn fn, void *ud) {
	int rc = -ENOENT;
	if (module == NULL)
		return rc;
	pthread_mutex_lock(&run_mu);
	pthread_mutex_lock(&reg_mu);
	for (int i = 0; i < CG_SNAPSHOT_MAX_CALLBACKS; i++) {
		if (regs[i].used && regs[i].fn == fn && regs[i].ud == ud && strcmp(regs[i].module, module) == 0) {
			memset(&regs[i], 0, sizeof regs[i]);
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&reg_mu);
	pthread_mutex_unlock(&run_mu);
	return rc;
}

int cg_snapshot_put(cg_snapshot *s, const char *key, const char *value) {
	if (s == NULL || key == NULL || key[0] == 0 || value == NULL)
		return -EINVAL;
	if (s->n >= s->max) {
		s->truncated = 1;
		return -ENOSPC;
	}
	cg_obs_kv *kv = &s->kv[s->n++];
	snprintf(kv->key, sizeof kv->key, "%s", key);
	snprintf(kv->value, sizeof kv->value, "%s", value);
	return 0;
}

int cg_snapshot_putf(cg_snapshot *s, const char *key, const char *fmt, ...) {
	char buf[CG_SNAPSHOT_VALUE_MAX];
	if (fmt == NULL)
		return -EINVAL;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return cg_snapshot_put(s, key, buf);
}

int cg_obs_collect(const char *module, cg_obs_kv *out, int max, int *truncated) {
	cg_obs_reg todo[CG_SNAPSHOT_MAX_CALLBACKS];
	int n = 0;
	cg_snapshot s = {out, 0, max, 0};
	/* Callbacks run without reg_mu, so that they may register others. */
	pthread_mutex_lock(&run_mu);
	pthread_mutex_lock(&reg_mu);
	for (int i = 0; i < CG_SNAPSHOT_MAX_CALLBACKS; i++)
		if (regs[i].used && strcmp(regs[i].module, module) == 0)
			todo[n++] = regs[i];
	pthread_mutex_unlock(&reg_mu);
	for (int i = 0; i < n; i++)
		todo[i].fn(todo[i].ud, &s);
	pthread_mutex_unlock(&run_mu);
	*truncated = s.truncated;
	return s.n;
}

int cg_obs_modules(char *buf, size_t len) {
	int count = 0;
	size_t off = 0;
	pthread_mutex_lock(&reg_mu);
	for (int i = 0; i < CG_SNAPSHOT_MAX_CALLBACKS; i++) {
		if (!regs[i].used)
			continue;
		int dup = 0;
		for (int j = 0; j < i; j++)
			if (regs[j].used && strcmp(regs[j].module, regs[i].module) == 0)
				dup = 1;
		size_t l = strlen(regs[i].module) + 1;
		if (dup || off + l > len)
			continue;
		memcpy(buf + off, regs[i].module, l);
		off += l;
		count++;
	}
	pthread_mutex_unlock(&reg_mu);
	return count;
}

/* ---- status file reader ---------------------------------------------------- */

static pthread_mutex_t path_mu = PTHREAD_MUTEX_INITIALIZER;
static char status_path[4096];

void cg_obs_set_status_path(const char *path) {
	pthread_mutex_lock(&path_mu);
	snprintf(status_path, sizeof status_path, "%s", path ? path : "");
	pthread_mutex_unlock(&path_mu);
}

int cg_status_read(const char *path, cg_status *out) {
	char own[sizeof status_path];
	if (out == NULL)
		return -EINVAL;
	if (path == NULL) {
		pthread_mutex_lock(&path_mu);
		memcpy(own, status_path, sizeof own);
		pthread_mutex_unlock(&path_mu);
		if (own[0] == 0)
			return -ENOENT;
		path = own;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	if ((size_t)st.st_size < sizeof(cg_status)) {
		close(fd);
		return -EPROTO;
	}
	const cg_status *sh = mmap(NULL, sizeof(cg_status), PROT_READ, MAP_SHARED, fd, 0);
	int e = errno;
	close(fd);
	if (sh == MAP_FAILED)
		return -e;
	int rc = -EAGAIN;
	for (int tries = 0; tries < 1000; tries++) {
		uint64_t s1 = __atomic_load_n(&sh->seq, __ATOMIC_ACQUIRE);
		if (s1 & 1) {
			sched_yield();
			continue;
		}
		memcpy(out, sh, sizeof *out);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		uint64_t s2 = __atomic_load_n(&sh->seq, __ATOMIC_RELAXED);
		if (s1 != s2)
			continue;
		out->seq = s1;
		if (memcmp(out->magic, CG_STATUS_MAGIC, 8) != 0 || out->version != CG_STATUS_VERSION ||
		    out->nmodules > CG_STATUS_MAX_MODULES) {
			rc = -EPROTO;
			break;
		}
		rc = (int)out->nmodules;
		break;
	}
	munmap((void *)sh, sizeof(cg_status));
	return rc;
}

/* proc_start returns field 22 of /proc/<pid>/stat, or 0. */
static uint64_t proc_start(uint32_t pid) {
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%u/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	/* The command name (field 2) may hold spaces: count from its ')'. */
	char *p = strrchr(buf, ')');
	if (p == NULL)
		return 0;
	int field = 2;
	for (; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	unsigned long long v = 0;
	if (sscanf(p, "%llu", &v) != 1)
		return 0;
	return v;
}

int cg_status_stale(const cg_status *s) {
	if (s == NULL || s->pid == 0)
		return 1;
	if (kill((pid_t)s->pid, 0) != 0 && errno == ESRCH)
		return 1;
	uint64_t st = proc_start(s->pid);
	if (st == 0) /* no /proc entry: gone (or another pid namespace) */
		return 1;
	return s->proc_start != 0 && st != s->proc_start;
}
