package good

/*
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static int op(int x) { if (x < 0) { errno = EINVAL; return -1; } return x; }
static void reset(void) { errno = 0; }
static int count(void) { return 3; }
*/
import "C"

import (
	"fmt"
	"syscall"
)

func resultFirst(x int) (int, error) {
	n, err := C.op(C.int(x))
	if n < 0 {
		return 0, err
	}
	return int(n), nil
}

func together(x int) error {
	n, err := C.op(C.int(x))
	if n == -1 && err == syscall.EINTR {
		return fmt.Errorf("interrupted: %w", err)
	}
	return nil
}

func voidErrno() error {
	_, err := C.reset()
	return err
}

func checked(fd int) error {
	if rc := C.close(C.int(fd)); rc != 0 {
		return fmt.Errorf("close failed: %d", rc)
	}
	return nil
}

func deliberate(fd int) {
	_ = C.close(C.int(fd))
}

func notListed() {
	C.count()
}
