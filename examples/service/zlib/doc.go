// Package zlib compresses with the system's zlib (Debian's zlib1g) through
// cgoguard: every call is a guarded call of the module "zlib" (Module), so a
// crash inside zlib is an error, not the end of the service, and the calls
// are counted and timed for observe's metrics.
//
// Memory rules it follows: Go buffers are pinned and passed to C only for
// the length of the call (C keeps no pointer), C never allocates on behalf
// of Go, and every zlib status is checked: the C side reports it with
// cg_set_error_errno and it reaches Go as an *Error wrapping the
// *cgoguard.CError.
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
//
// Package chaos's failpoints name the module's C functions inflate
// (Decompress) and deflate (Compress): CGOGUARD_FAILPOINTS='zlib.inflate=10%segv'
// crashes one decompression in ten.
package zlib

import (
	"errors"
	"fmt"

	"github.com/cgoguard/cgoguard"
)

// FailpointInflate and FailpointDeflate are the names failpoints give the
// module's two C functions: zlib.inflate=10%segv acts on decompressions,
// zlib.deflate=... on compressions. Their symbols (zlib.exz_uncompress,
// zlib.exz_compress, what crash frames show) name them too.
const (
	FailpointInflate = "inflate"
	FailpointDeflate = "deflate"
)

// DefaultLevel is zlib's default compression level.
const DefaultLevel = -1

// ErrNotSupported is returned when the program was built without cgo.
var ErrNotSupported = errors.New("cgoguard: zlib example needs cgo")

// ErrZlib matches every *Error.
var ErrZlib = errors.New("cgoguard: zlib error")

// zlib's status codes in Error.Code.
const (
	StreamError = -2 // Z_STREAM_ERROR: a bad compression level
	DataError   = -3 // Z_DATA_ERROR: not zlib data
	MemError    = -4 // Z_MEM_ERROR: out of memory
	BufError    = -5 // Z_BUF_ERROR: the output does not fit (Decompress: more than max bytes)
)

// Error is a failed zlib call with its status code.
type Error struct {
	Op   string
	Code int   // zlib status: DataError, BufError, ...
	Err  error // the *cgoguard.CError, with the errno and zlib's message
}

// Unwrap returns the guarded call's error.
func (e *Error) Unwrap() error { return e.Err }

// Error names the operation and the zlib status.
func (e *Error) Error() string {
	msg := fmt.Sprintf("cgoguard: zlib %s: %s (%d)", e.Op, codeName(e.Code), e.Code)
	var ce *cgoguard.CError
	if e.Err != nil && !errors.As(e.Err, &ce) {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is matches ErrZlib.
func (e *Error) Is(target error) bool { return target == ErrZlib }

func codeName(c int) string {
	switch c {
	case StreamError:
		return "stream error (bad level)"
	case DataError:
		return "data error (not zlib data)"
	case MemError:
		return "out of memory"
	case BufError:
		return "buffer error (output too small)"
	}
	return "error"
}
