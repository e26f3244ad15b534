#ifndef EXAMPLE_ISOLATED_IZLIB_H
#define EXAMPLE_ISOLATED_IZLIB_H

/* iz_crash runs inflate on a stream whose state was never initialised:
 * zlib follows a garbage pointer and the worker dies of SIGSEGV inside
 * libz. A guarded function: int fn(void *arg), arg unused. */
int iz_crash(void *arg);
#endif
