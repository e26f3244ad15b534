#ifndef CGOGUARD_CFIXTURE_H
#define CGOGUARD_CFIXTURE_H
typedef int (*cg_fn)(void *);
int fx_empty(void *arg);
int fx_ret(void *arg);
int fx_count(void *arg);
int fx_getpid(void *arg);
int fx_errno(void *arg);
int fx_set_error(void *arg);
int fx_set_error_errno(void *arg);
int fx_set_error_then_ok(void *arg);
int fx_segv(void *arg);
int fx_strlen_null(void *arg);
int fx_memcpy_null(void *arg);
int fx_inflate_bad_stream(void *arg);
int fx_inflate_null_input(void *arg);
int fx_bus(void *arg);
int fx_fpe(void *arg);
int fx_ill(void *arg);
int fx_abort(void *arg);
int fx_assert(void *arg);
int fx_trap(void *arg);
int fx_recurse(volatile char *prev, int depth);
int fx_overflow(void *arg);
int fx_sleep_ms(void *arg);
void fx_gate_set(int open);
int fx_wait_gate(void *arg);
int fx_callback(void *arg);
int fx_in_guard(void *arg);
int fx_trace(void *arg);
int fx_raw(void *fn, void *arg);

int fx_sigmask(void *arg);
long long fx_heap_in_use(void);

int fx_callback_unmarked(void *arg);

void *fx_bad_address(void);

int fx_wait_gate_segv(void *arg);
int fx_block_segv_abort(void *arg);
int fx_block_segv_fault(void *arg);
#endif
