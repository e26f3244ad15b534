#ifndef CMEM_H
#define CMEM_H
long long cmem_heap_in_use(void);
#endif
