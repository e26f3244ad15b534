// Package zlib compresses with the system's zlib (Debian's zlib1g) through
// cgo: the C library the example service embeds.
//
// Memory rules it follows: Go buffers are passed to C only for the length
// of the call (C keeps no pointer), C never allocates on behalf of Go, and
// every zlib status is checked and turned into an *Error.
//
// Example:
//
//	z, err := zlib.Compress([]byte("hello, hello, hello"), zlib.DefaultLevel)
//	if err != nil {
//		return err
//	}
//	back, err := zlib.Decompress(z, 1<<20)
//
// All functions are safe for concurrent use: zlib's one-shot functions keep
// no shared state.
package zlib

import (
	"errors"
	"fmt"
)

// DefaultLevel is zlib's default compression level.
const DefaultLevel = -1

// ErrNotSupported is returned when the program was built without cgo.
var ErrNotSupported = errors.New("cgoguard: zlib example needs cgo")

// ErrZlib matches every *Error.
var ErrZlib = errors.New("cgoguard: zlib error")

// Error is a failed zlib call with its status code.
type Error struct {
	Op   string
	Code int
}

// Error names the operation and the zlib status.
func (e *Error) Error() string {
	return fmt.Sprintf("cgoguard: zlib %s: %s (%d)", e.Op, codeName(e.Code), e.Code)
}

// Is matches ErrZlib.
func (e *Error) Is(target error) bool { return target == ErrZlib }

func codeName(c int) string {
	switch c {
	case -2:
		return "stream error (bad level)"
	case -3:
		return "data error (not zlib data)"
	case -4:
		return "out of memory"
	case -5:
		return "buffer error (output too small)"
	}
	return "error"
}
