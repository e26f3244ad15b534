/* A small "key=value;count=N" record parser with real bugs in it, of the
 * kind that kill Go services embedding C: a missing NULL check, an
 * unchecked division, and an assert on input the author thought impossible. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cgoguard.h"
#include "parser.h"

int parse_record(void *arg) {
	struct parse_req *req = arg;
	const char *line = req->line;
	if (line[0] == '\0')
		return cg_set_error(EINVAL, "empty record");
	/* Bug 1: records without '=' make strchr return NULL. */
	const char *eq = strchr(line, '=');
	if (strncmp(line, "strict:", 7) == 0 && eq == NULL)
		return -EINVAL; /* the strict path checks; the default one does not */
	const char *value = eq + 1;
	req->value_len = strlen(value);
	/* Bug 2: "count=0" divides by zero. */
	const char *count = strstr(line, "count=");
	if (count != NULL) {
		int n = atoi(count + 6);
		req->checksum = (int)req->value_len / n;
	}
	/* Bug 3: the author "knew" values are never longer than 64 bytes. */
	assert(req->value_len <= 64);
	return (int)req->value_len;
}
