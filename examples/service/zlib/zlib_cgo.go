//go:build cgo

package zlib

// #cgo CFLAGS: -I${SRCDIR}/../../../include -Wall -Wextra -Werror
// #cgo LDFLAGS: -lz
// #include "exz.h"
import "C"

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/chaos"
)

// The failpoint names of the two C functions (see FailpointInflate).
func init() {
	chaos.Name(unsafe.Pointer(C.exz_uncompress), FailpointInflate)
	chaos.Name(unsafe.Pointer(C.exz_compress), FailpointDeflate)
}

var (
	modOnce sync.Once
	mod     *cgoguard.Module
	modErr  error
)

// Module returns the guarded module all zlib calls go through, creating it
// on first use: at most 64 calls in C at once, the duration histogram on,
// and, since zlib's one-shot functions keep no state between calls, a crash
// does not quarantine it (policy Restart).
func Module() (*cgoguard.Module, error) {
	modOnce.Do(func() {
		mod, modErr = cgoguard.New("zlib",
			cgoguard.WithMaxConcurrent(64),
			cgoguard.WithMetrics(cgoguard.MetricsHistogram),
			cgoguard.WithCrashPolicy(cgoguard.Restart))
	})
	return mod, modErr
}

// Compress returns data compressed at level (-1 default, 0 to 9).
func Compress(data []byte, level int) ([]byte, error) {
	return CompressContext(context.Background(), data, level)
}

// CompressContext is Compress with a context for the deadline.
func CompressContext(ctx context.Context, data []byte, level int) ([]byte, error) {
	if level < -1 || level > 9 {
		return nil, fmt.Errorf("cgoguard: zlib level %d is not -1 to 9", level)
	}
	dst := make([]byte, int(C.exz_bound(C.size_t(len(data))))+1)
	n, err := call(ctx, "compress", unsafe.Pointer(C.exz_compress), data, dst, level)
	if err != nil {
		return nil, err
	}
	return dst[:n], nil
}

// Decompress inflates data, which must decompress to at most max bytes.
// The output buffer is sized from the input and grown (four times at a
// step) up to max, so a small input costs little whatever max is.
func Decompress(data []byte, max int) ([]byte, error) {
	return DecompressContext(context.Background(), data, max)
}

// DecompressContext is Decompress with a context for the deadline.
func DecompressContext(ctx context.Context, data []byte, max int) ([]byte, error) {
	if max <= 0 {
		return nil, fmt.Errorf("cgoguard: zlib max size %d must be positive", max)
	}
	size := min(max, 4*len(data)+256) // most data inflates less than 4:1
	for {
		dst := make([]byte, size)
		n, err := call(ctx, "decompress", unsafe.Pointer(C.exz_uncompress), data, dst, 0)
		switch {
		case err != nil:
			return nil, err
		case n >= 0:
			return dst[:n], nil
		case size == max:
			return nil, &Error{Op: "decompress", Code: BufError,
				Err: fmt.Errorf("the data inflates to more than %d bytes", max)}
		}
		size = min(max, 4*size)
	}
}

// call runs one guarded zlib call and returns the output size, or -1 when
// dst was too small. The request holds pointers to Go buffers, so they are
// pinned for the call (the cgo rule for Go memory that holds Go pointers).
func call(ctx context.Context, op string, fn unsafe.Pointer, src, dst []byte, level int) (int, error) {
	m, err := Module()
	if err != nil {
		return 0, err
	}
	req := &C.struct_exz_req{n: C.size_t(len(src)), dstlen: C.size_t(len(dst)), level: C.int(level)}
	var pin runtime.Pinner
	defer pin.Unpin()
	if len(src) > 0 {
		p := unsafe.SliceData(src)
		pin.Pin(p)
		req.src = (*C.uchar)(unsafe.Pointer(p))
	}
	p := unsafe.SliceData(dst)
	pin.Pin(p)
	req.dst = (*C.uchar)(unsafe.Pointer(p))
	rc, err := m.Call(ctx, fn, unsafe.Pointer(req))
	if err != nil {
		// The C wrappers report every zlib status with cg_set_error, so
		// with a message; a bare -errno (a failpoint's errno(NAME)) is no
		// zlib status, even where the numbers meet (-5 is EIO and
		// Z_BUF_ERROR).
		var ce *cgoguard.CError
		if errors.As(err, &ce) && ce.Message != "" {
			return 0, &Error{Op: op, Code: ce.Code, Err: err}
		}
		return 0, fmt.Errorf("cgoguard: zlib %s: %w", op, err)
	}
	if rc == C.EXZ_MORE {
		return -1, nil // dst too small
	}
	return int(req.dstlen), nil
}

// Version returns the version of the zlib linked in.
func Version() string { return C.GoString(C.exz_version()) }
