package chaos

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

var (
	errnoOnce   sync.Once
	errnoByName map[string]syscall.Errno
)

// parseErrno reads an errno name (EIO, ENOMEM; case-insensitive) or a
// positive number.
func parseErrno(s string) (syscall.Errno, error) {
	if s == "" {
		return 0, fmt.Errorf("want an errno name such as EIO or a number")
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > 4095 {
			return 0, fmt.Errorf("errno %d is outside 1..4095", n)
		}
		return syscall.Errno(n), nil
	}
	errnoOnce.Do(func() {
		errnoByName = map[string]syscall.Errno{}
		for e := syscall.Errno(1); e < 4096; e++ {
			if n := unix.ErrnoName(e); n != "" {
				if _, dup := errnoByName[n]; !dup {
					errnoByName[n] = e
				}
			}
		}
	})
	if e, ok := errnoByName[strings.ToUpper(s)]; ok {
		return e, nil
	}
	return 0, fmt.Errorf("unknown errno name %q", s)
}

// errnoString names e (EIO), or writes its number when it has no name.
func errnoString(e syscall.Errno) string {
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	return strconv.Itoa(int(e))
}
