/* C fixtures for the tests of package observe: a module's own C code
 * reporting through snapshot callbacks and reading the status file. */
#include <errno.h>
#include <stdio.h>

#include "cgoguard.h"
#include "obsfixture.h"

static volatile int depth;

static void report(void *ud, cg_snapshot *s) {
	(void)ud;
	cg_snapshot_putf(s, "queue_depth", "%d", depth);
	cg_snapshot_put(s, "version", "zlib-like 1.3");
}

int ofx_register(const char *module) { return cg_snapshot_register(module, report, NULL); }
int ofx_unregister(const char *module) { return cg_snapshot_unregister(module, report, NULL); }
void ofx_set_depth(int d) { depth = d; }

static void flood(void *ud, cg_snapshot *s) {
	char key[32];
	(void)ud;
	for (int i = 0; i < CG_SNAPSHOT_MAX_KEYS + 10; i++) {
		snprintf(key, sizeof key, "k%03d", i);
		cg_snapshot_putf(s, key, "%d", i);
	}
}

int ofx_register_flood(const char *module) { return cg_snapshot_register(module, flood, NULL); }
int ofx_unregister_flood(const char *module) { return cg_snapshot_unregister(module, flood, NULL); }

/* ofx_register_bad returns the codes of invalid registrations, one per
 * decimal digit place so a test can check each: NULL fn, NULL module,
 * empty module. Each must be -EINVAL. */
int ofx_register_bad(const char *module) {
	int bad = 0;
	if (cg_snapshot_register(module, NULL, NULL) == -EINVAL)
		bad++;
	if (cg_snapshot_register(NULL, report, NULL) == -EINVAL)
		bad++;
	if (cg_snapshot_register("", report, NULL) == -EINVAL)
		bad++;
	if (cg_snapshot_put(NULL, "k", "v") == -EINVAL)
		bad++;
	return bad;
}

/* ofx_status_nmodules is a guarded function: it reads this process's
 * status file with the C reader and returns how many modules it lists, or
 * the negative errno. arg, when not NULL, receives the record. */
int ofx_status_nmodules(void *arg) {
	static cg_status st;
	cg_status *out = arg ? (cg_status *)arg : &st;
	return cg_status_read(NULL, out);
}
