package arena

import (
	"fmt"
	"sync/atomic"
	"unsafe"
)

// Local hands out blocks of an Arena to one goroutine at a time, without an
// atomic operation per block: it reserves a chunk of the arena with one
// compare-and-swap on the shared cursor and bumps through it privately.
// Blocks from a Local are ordinary arena blocks (same Refs, same Resolve,
// visible to C and other processes); they only come from the chunk the
// Local holds. Use it in hot loops that allocate many small blocks; use
// Arena.Alloc elsewhere.
//
// A Local MUST NOT be used by two goroutines at once. After a Reset it
// drops its chunk and reserves a new one in the new generation.
type Local struct {
	// Copied from the Arena so the fast path follows no extra pointer.
	closed  *atomic.Bool
	genp    *uint64 // the header's generation mirror (offGen)
	base    unsafe.Pointer
	data    unsafe.Pointer // base + headerSize
	dataOff uint64
	limit   uint64 // the arena's capacity in bytes
	id      uint32

	a     *Arena
	chunk uint64 // units reserved at a time
	gen   uint64 // generation of the chunk
	cur   uint64 // next free unit in the chunk
	end   uint64 // end of the chunk, in units
}

// Local returns a Local that reserves chunk bytes (rounded up to a
// multiple of 8) at a time; a block larger than chunk gets a reservation
// of its own. chunk must be between 8 and the arena's capacity; 0 means
// 4096.
func (a *Arena) Local(chunk int) (*Local, error) {
	if a.closed.Load() {
		return nil, ErrClosed
	}
	if chunk == 0 {
		chunk = 4096
	}
	if chunk < unit || uint64(chunk) > a.capacity {
		return nil, fmt.Errorf("cgoguard: arena local chunk %d out of range (8 to %d bytes, or 0)", chunk, a.capacity)
	}
	return &Local{
		closed: &a.closed, genp: (*uint64)(unsafe.Add(a.base, offGen)), base: a.base, data: a.data,
		dataOff: a.dataOff, limit: a.capacity, id: a.id,
		a: a, chunk: (uint64(chunk) + unit - 1) / unit,
	}, nil
}

// Alloc is Arena.Alloc served from the Local's chunk: the same arguments,
// results and errors.
func (l *Local) Alloc(n, align int) (Ref, []byte, error) {
	// Fast path: a block of up to fastMax bytes, aligned to at most 8,
	// that fits in the chunk of the current generation. The rest (and a
	// closed arena) is allocSlow's.
	if uint(n-1) < fastMax && fastAligns>>uint(align)&1 != 0 && !l.closed.Load() {
		nu := (uint64(n) + unit - 1) / unit
		if gen, start := atomic.LoadUint64(l.genp), l.cur; gen == l.gen && start+nu <= l.end {
			l.cur = start + nu
			return Ref{arena: l.id, gen: uint32(gen), off: headerSize + start*unit, len: uint64(n)},
				(*[fastMax]byte)(unsafe.Add(l.data, start*unit))[:n:n], nil
		}
	}
	return l.allocSlow(n, align)
}

//go:noinline
func (l *Local) allocSlow(n, align int) (Ref, []byte, error) {
	if l.closed.Load() {
		return Ref{}, nil, ErrClosed
	}
	if n <= 0 || uint64(n) > l.limit {
		return Ref{}, nil, l.a.sizeErr(n)
	}
	au := uint64(1)
	if align > unit {
		if align > maxAlign || align&(align-1) != 0 {
			return Ref{}, nil, alignErr(align)
		}
		au = uint64(align) / unit
	} else if align < 0 || align&(align-1) != 0 {
		return Ref{}, nil, alignErr(align)
	}
	nu := (uint64(n) + unit - 1) / unit
	if gen := atomic.LoadUint64(l.genp); gen != l.gen {
		l.gen, l.cur, l.end = gen, 0, 0 // a Reset took the chunk away
	}
	start := (l.cur + au - 1) &^ (au - 1)
	if start+nu > l.end {
		var err error
		if start, err = l.refill(n, nu, au); err != nil {
			return Ref{}, nil, err
		}
	}
	l.cur = start + nu
	off := l.dataOff + start*unit
	return Ref{arena: l.id, gen: uint32(l.gen), off: off, len: uint64(n)},
		unsafe.Slice((*byte)(unsafe.Add(l.base, off)), n), nil
}

// refill reserves a new chunk that holds nu units at alignment au and
// returns the block's start; the rest of the old chunk is given back if
// nothing was allocated after it, and wasted otherwise.
func (l *Local) refill(n int, nu, au uint64) (uint64, error) {
	a := l.a
	l.Flush()
	for {
		s := atomic.LoadUint64(a.state)
		start := (s&cursorMask + au - 1) &^ (au - 1)
		end := start + max(l.chunk, nu)
		if end > a.capUnits {
			end = start + nu // not a whole chunk left: take just the block
			if end > a.capUnits {
				return 0, a.exhausted(n, s)
			}
		}
		if atomic.CompareAndSwapUint64(a.state, s, s&^cursorMask|end) {
			l.gen, l.cur, l.end = s>>32, start, end
			return start, nil
		}
	}
}

// Flush gives the unused rest of the Local's chunk back to the arena when
// no allocation was made after it (so Stats.Used counts only blocks handed
// out), and forgets the chunk in any case. The Local stays usable.
func (l *Local) Flush() {
	a := l.a
	if l.end > l.cur && !a.closed.Load() {
		s := l.gen<<32 | l.end
		atomic.CompareAndSwapUint64(a.state, s, l.gen<<32|l.cur)
	}
	l.cur, l.end = 0, 0
}
