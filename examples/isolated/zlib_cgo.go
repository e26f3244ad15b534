//go:build cgo && linux

package main

// #cgo CFLAGS: -I${SRCDIR}/../../include -I${SRCDIR}/../service/zlib -Wall -Wextra -Werror
// #cgo LDFLAGS: -lz
// #include "exz.h"
// #include "izlib.h"
import "C"

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"
	"unsafe"

	"github.com/cgoguard/cgoguard"
	// The C wrappers of zlib (exz_compress, exz_uncompress), unchanged:
	// the same functions the in-process service calls.
	_ "github.com/cgoguard/cgoguard/examples/service/zlib"
	"github.com/cgoguard/cgoguard/isolate"
)

// The entry points workers may run, registered before anything else runs:
// the worker, which is this binary re-executed, builds the same table.
func init() {
	isolate.Register("exz_compress", unsafe.Pointer(C.exz_compress))
	isolate.Register("exz_uncompress", unsafe.Pointer(C.exz_uncompress))
	isolate.Register("iz_crash", unsafe.Pointer(C.iz_crash))
}

// newModule creates the module "zlib" whose calls run in worker processes.
// Against the in-process version (examples/service/zlib) the one change is
// the WithIsolation option.
func newModule(workers int) (*cgoguard.Module, *isolate.Pool, error) {
	m, err := cgoguard.New("zlib",
		cgoguard.WithIsolation(isolate.WithWorkers(workers), isolate.WithArenaSize(bufSlots*slotSize)),
		cgoguard.WithMaxConcurrent(64),
		cgoguard.WithTimeout(10*time.Second))
	if err != nil {
		return nil, nil, err
	}
	p, _ := isolate.PoolOf(m)
	return m, p, nil
}

// reqSize is the size of struct exz_req at the start of every buffer slot.
const reqSize = int(C.sizeof_struct_exz_req)

// bound is zlib's upper bound of the compressed size of n bytes.
func bound(n int) int { return int(C.exz_bound(C.size_t(n))) }

// zcall runs one zlib call in a worker: the request and both buffers are
// in the slot, in the pool's arena. It returns the output length.
func (s *server) zcall(ctx context.Context, op string, level int, sl *slot, in []byte) (int, error) {
	fn := unsafe.Pointer(C.exz_compress)
	if op == "decompress" {
		fn = unsafe.Pointer(C.exz_uncompress)
	}
	n := copy(sl.in, in)
	req := (*C.struct_exz_req)(sl.req)
	req.src = (*C.uchar)(unsafe.Pointer(unsafe.SliceData(sl.in)))
	req.n = C.size_t(n)
	req.dst = (*C.uchar)(unsafe.Pointer(unsafe.SliceData(sl.out)))
	req.dstlen = C.size_t(len(sl.out))
	req.level = C.int(level)
	rc, err := s.mod.Call(ctx, fn, sl.req)
	if err != nil {
		var ce *cgoguard.CError
		if errors.As(err, &ce) {
			return 0, fmt.Errorf("zlib %s: %w", op, err)
		}
		return 0, err
	}
	if rc == C.EXZ_MORE {
		// The slot's output buffer is full: the data inflates past the
		// limit. Reported as zlib's own buffer error.
		return 0, fmt.Errorf("zlib %s: %w", op, &cgoguard.CError{Module: s.mod.Name(), Code: -5, Errno: syscall.ENOBUFS,
			Message: fmt.Sprintf("the data inflates to more than %d bytes", len(sl.out))})
	}
	return int(req.dstlen), nil
}

// crash makes the worker crash inside zlib.
func (s *server) crash(ctx context.Context) error {
	_, err := s.mod.Call(ctx, unsafe.Pointer(C.iz_crash), nil)
	return err
}
