package ownership

/*
#include <stdlib.h>
#include <string.h>

typedef struct ctx { const char *text; void (*destroy)(void *); } ctx;
typedef void (*destructor)(void *);

static void lib_result(ctx *c, const char *s, int n, destructor d) { (void)n; c->text = s; c->destroy = d; }

// result_text hands s to the library with free as its destructor: the
// library owns it from here.
void result_text(ctx *c, const char *s, int n) { lib_result(c, s, n, free); }

// copy_text gives the library a copy: the caller still owns s.
void copy_text(ctx *c, const char *s, int n) { lib_result(c, strdup(s), n, free); }

// bind_text asks the library for a copy of its own (a destructor constant
// like SQLITE_TRANSIENT): the caller still owns s.
#define LIB_TRANSIENT ((destructor)-1)
void bind_text(ctx *c, const char *s, int n) { lib_result(c, s, n, LIB_TRANSIENT); }

// release_buf frees what it is given.
void release_buf(char *b) { free(b); }
*/
import "C"
