#include <stdint.h>

struct tr_req {
	int i;
	int64_t c_start, c_end;
	char trace[33];
};

int tr_work(int i);
int tr_inner(int i);
int tr_guarded(void *arg);
int tr_timed(void *arg);
