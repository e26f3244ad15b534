/* observe.h: declarations shared by observe.c and the cgo preamble of
 * package observe. Not part of the public API (include/cgoguard_observe.h). */
#ifndef CGOGUARD_OBSERVE_PRIV_H
#define CGOGUARD_OBSERVE_PRIV_H

#include "cgoguard.h"

/* One key/value pair of a snapshot. */
typedef struct cg_obs_kv {
	char key[CG_SNAPSHOT_KEY_MAX];
	char value[CG_SNAPSHOT_VALUE_MAX];
} cg_obs_kv;

/* cg_obs_collect runs the callbacks registered for module into out (room
 * for max pairs) and returns the number of pairs; *truncated is set when
 * some were refused for lack of room. */
int cg_obs_collect(const char *module, cg_obs_kv *out, int max, int *truncated);
/* cg_obs_modules writes the distinct module names that have callbacks,
 * NUL-separated, into buf and returns their number. */
int cg_obs_modules(char *buf, size_t len);
/* cg_obs_set_status_path sets (or, with NULL, clears) the path that
 * cg_status_read(NULL, ...) reads. */
void cg_obs_set_status_path(const char *path);

#endif
