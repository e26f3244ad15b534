/* PLANTED HAZARDS: this file is wrong on purpose, so that the shipped
   checklist has something to find. Do not copy it. */
#include <stdlib.h>
#include <string.h>
#include "hazards.h"

int hz_greet(const char *name, char *out, int cap) {
	if (cap < 64) {
		return -1;
	}
	/* Hazard: unbounded copy; a long name overruns out. */
	strcpy(out, "hello, ");
	strncat(out, name, (size_t)cap - 8);
	return 0;
}

FILE *hz_open_log(const char *path) {
	return fopen(path, "a");
}

int hz_flush(void) {
	return fflush(NULL);
}

int hz_check(int v) {
	if (v < 0) {
		/* Hazard: a C library that aborts takes the whole Go process down. */
		abort();
	}
	return v;
}
