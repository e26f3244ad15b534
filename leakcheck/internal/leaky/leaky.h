#ifndef LEAKY_H
#define LEAKY_H

#include <stddef.h>
#include <stdint.h>

int leaky_malloc64(void);
int leaky_release_heap(void);
int leaky_open_fd(void);
int leaky_release_fds(void);
int leaky_thread(void);
int leaky_release_threads(void);
void leaky_keep_handle(uintptr_t h);
int leaky_take_handles(uintptr_t *out, int max);
void clean_malloc_free(size_t n);
int clean_thread_join(void);
int churn_start(void);
unsigned long churn_rounds_now(void);
unsigned long churn_stop_and_join(void);

#endif
