/* cgoguard_observe.h: the observe section of the cgoguard C API; included by
 * cgoguard.h. The functions are defined by the Go package
 * github.com/cgoguard/cgoguard/observe (its C files): a cgo package that uses
 * them must import that package. */
#ifndef CGOGUARD_OBSERVE_H
#define CGOGUARD_OBSERVE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- snapshot callbacks --------------------------------------------------
 *
 * A module's C code reports its own state (queue depths, cache sizes, the
 * library's version) on the /debug/cgoguard health page. It registers a
 * callback once, for the module's name (the name given to cgoguard.New):
 *
 *     static void report(void *ud, cg_snapshot *s) {
 *         struct db *db = ud;
 *         cg_snapshot_putf(s, "open_cursors", "%d", db->ncursors);
 *         cg_snapshot_put(s, "version", DB_VERSION);
 *     }
 *     ...
 *     cg_snapshot_register("db", report, db);
 *
 * The callback runs on the thread serving the health request, outside any
 * guarded call, each time a snapshot is taken. It MUST NOT block and MUST
 * NOT keep s after it returns; it SHOULD be cheap and thread-safe against
 * the module's own calls. Keys and values are copied (truncated to
 * CG_SNAPSHOT_KEY_MAX-1 and CG_SNAPSHOT_VALUE_MAX-1 bytes); a snapshot holds
 * at most CG_SNAPSHOT_MAX_KEYS pairs per module. Registering the same
 * (module, fn, ud) twice is an error; up to CG_SNAPSHOT_MAX_CALLBACKS
 * callbacks may be registered in all.
 */
#define CG_SNAPSHOT_MAX_CALLBACKS 64
#define CG_SNAPSHOT_MAX_KEYS 64
#define CG_SNAPSHOT_KEY_MAX 64
#define CG_SNAPSHOT_VALUE_MAX 256
#define CG_MODULE_NAME_MAX 64

typedef struct cg_snapshot cg_snapshot; /* opaque */
typedef void (*cg_snapshot_fn)(void *ud, cg_snapshot *s);

/* cg_snapshot_register returns 0, -EINVAL (NULL fn, NULL, empty or too long
 * module name), -EEXIST (already registered) or -ENOSPC (table full). */
int cg_snapshot_register(const char *module, cg_snapshot_fn fn, void *ud);
/* cg_snapshot_unregister returns 0 or -ENOENT. When it returns, the
 * callback is not running and will not run again. */
int cg_snapshot_unregister(const char *module, cg_snapshot_fn fn, void *ud);
/* cg_snapshot_put adds key=value; it returns 0, -EINVAL (NULL or empty key,
 * NULL value) or -ENOSPC (CG_SNAPSHOT_MAX_KEYS reached). */
int cg_snapshot_put(cg_snapshot *s, const char *key, const char *value);
/* cg_snapshot_putf is cg_snapshot_put with a printf-style value. */
int cg_snapshot_putf(cg_snapshot *s, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- status file -----------------------------------------------------------
 *
 * A process that runs observe.StartStatus publishes its modules' states and
 * counters in a small shared-memory file, by default
 * /dev/shm/cgoguard-<pid>.status, that other processes (cgoguard status) and
 * C code read without locks. The file is the fixed layout below, all
 * integers little-endian, guarded by a sequence lock: the writer makes seq
 * odd, writes, then makes it even again; a reader copies the record between
 * two reads of seq and retries if they differ or are odd. cg_status_read
 * does exactly that.
 */
#define CG_STATUS_MAGIC "CGSTATUS" /* 8 bytes, no NUL in the file */
#define CG_STATUS_VERSION 1
#define CG_STATUS_MAX_MODULES 64

/* Module states, as cgoguard.State. */
#define CG_STATE_CLOSED 0
#define CG_STATE_OPEN 1
#define CG_STATE_HALF_OPEN 2
#define CG_STATE_QUARANTINED 3
#define CG_STATE_STOPPED 4 /* closed; a closed module leaves the file */

typedef struct cg_status_module { /* 128 bytes */
	char name[CG_MODULE_NAME_MAX];   /* NUL-padded; truncated if longer */
	uint32_t state;                  /* CG_STATE_* */
	uint32_t slot;                   /* the module's trampoline slot + 1 (0: none or
	                                    unknown); cgoguard probe maps calls with it */
	uint64_t ok, errors, crashes, timeouts, rejected;
	int64_t inflight, abandoned;
} cg_status_module;

typedef struct cg_status { /* 128-byte header, then the modules */
	char magic[8];            /* CG_STATUS_MAGIC */
	uint32_t version;         /* CG_STATUS_VERSION */
	uint32_t nmodules;        /* entries of modules[] in use */
	uint64_t seq;             /* sequence lock: odd while being written */
	uint32_t pid;             /* the writing process */
	uint32_t max_modules;     /* CG_STATUS_MAX_MODULES */
	uint64_t proc_start;      /* the writer's start time in clock ticks since boot
	                             (/proc/<pid>/stat field 22): tells a reused pid */
	int64_t started_unix_ns;  /* when the file was created */
	int64_t updated_unix_ns;  /* last update */
	int64_t interval_ns;      /* the writer's update period */
	uint32_t dropped;         /* modules left out: more than max_modules */
	uint32_t reserved0;
	char reserved[56];
	cg_status_module modules[CG_STATUS_MAX_MODULES];
} cg_status;

/* cg_status_read copies a consistent status record from the file at path
 * (NULL: this process's own status file, while observe.StartStatus runs)
 * into out. It returns the number of modules, -ENOENT (no such file, or no
 * status published by this process), -EPROTO (not a status file of this
 * version), -EAGAIN (the record kept changing) or another -errno. */
int cg_status_read(const char *path, cg_status *out);

/* cg_status_stale reports whether the status record s was written by a
 * process that no longer runs (1), or by one that does (0). */
int cg_status_stale(const cg_status *s);

#ifdef __cplusplus
}
#endif

#endif /* CGOGUARD_OBSERVE_H */
