package bad

/*
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <pthread.h>

static int op(int x) { if (x < 0) { errno = EINVAL; return -1; } return x; }
static void reset(void) { errno = 0; }
static int lib_flush(void) { return 0; }
static int db_close(void) { return 0; }
*/
import "C"

import "errors"

func errFirst(x int) (int, error) {
	n, err := C.op(C.int(x))
	if err != nil { // want `CG030: err from C.op is read before n`
		return 0, err
	}
	return int(n), nil
}

func resultDropped(x int) error {
	_, err := C.op(C.int(x)) // want `CG030: errno from C.op is read but the result is discarded`
	return err
}

func ignored(fd int) {
	C.close(C.int(fd)) // want `CG031: status returned by C.close is ignored`
}

func ignoredUnlock(m *C.pthread_mutex_t) {
	C.pthread_mutex_unlock(m) // want `CG031: status returned by C.pthread_mutex_unlock is ignored`
}

func wrap(err error) error { return errors.Join(err) }

func patterns() {
	C.lib_flush() // want `CG031: status returned by C.lib_flush is ignored`
	C.db_close()  // want `CG031: status returned by C.db_close is ignored`
}
