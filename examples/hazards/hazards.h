#ifndef HAZARDS_H
#define HAZARDS_H
#include <stdio.h>

typedef struct hz_slot { void *cb; } hz_slot;

int hz_greet(const char *name, char *out, int cap);
FILE *hz_open_log(const char *path);
int hz_flush(void);
int hz_check(int v);
#endif
