package lens

/*
#include <stddef.h>
static void use(void *p, size_t n) { (void)p; (void)n; }
*/
import "C"

import "unsafe"

func madeConst() {
	buf := make([]byte, 64)
	C.use(unsafe.Pointer(&buf[0]), 64) // want "non-empty"
}

func param(b []byte) {
	C.use(unsafe.Pointer(&b[0]), C.size_t(len(b))) // want "may be empty"
}

// A package-level literal that is never reassigned is never empty.
var defaultKey = []byte{0x01, 0x02}

func global() {
	C.use(unsafe.Pointer(&defaultKey[0]), 2) // want "non-empty"
}

// One that is reassigned with something possibly empty may be.
var current = []byte{1}

func SetCurrent(b []byte) { current = b }

func globalReassigned() {
	C.use(unsafe.Pointer(&current[0]), 1) // want "may be empty"
}

// A fallback assigned above the call when the slice is empty.
func fallback(b []byte) {
	if len(b) == 0 {
		b = defaultKey
	}
	C.use(unsafe.Pointer(&b[0]), C.size_t(len(b))) // want "non-empty"
}

func fallbackOnNil(b []byte) {
	if b == nil {
		b = defaultKey
	}
	C.use(unsafe.Pointer(&b[0]), C.size_t(len(b))) // want "may be empty"
}

// make with a length clamped to a positive minimum.
func clampedMax(n int) {
	buf := make([]byte, max(n, 1))
	C.use(unsafe.Pointer(&buf[0]), C.size_t(len(buf))) // want "non-empty"
}

func clampedIf(n int) {
	if n < 1 {
		n = 1
	}
	buf := make([]byte, n)
	C.use(unsafe.Pointer(&buf[0]), C.size_t(n)) // want "non-empty"
}

func unclamped(n int) {
	buf := make([]byte, n)
	C.use(unsafe.Pointer(&buf[0]), C.size_t(n)) // want "may be empty"
}

func lenPlusOne(b []byte) {
	out := make([]byte, len(b)+1)
	C.use(unsafe.Pointer(&out[0]), C.size_t(len(out))) // want "non-empty"
}

// A struct field created non-empty and only appended to.
type ring struct {
	slots []int32
}

func newRing() *ring { return &ring{slots: make([]int32, 8)} }

func (r *ring) grow() { r.slots = append(r.slots, 0) }

func (r *ring) flush() {
	C.use(unsafe.Pointer(&r.slots[0]), C.size_t(len(r.slots))) // want "non-empty"
}

// A field that a construction leaves empty may be empty.
type queue struct {
	items []int32
}

func newQueue(n int) *queue { return &queue{items: make([]int32, 0, n)} }

func (q *queue) flush() {
	C.use(unsafe.Pointer(&q.items[0]), C.size_t(len(q.items))) // want "may be empty"
}

// Padded in a loop up to a minimum.
func padded(b []byte) {
	for len(b) < 16 {
		b = append(b, 0)
	}
	C.use(unsafe.Pointer(&b[0]), 16) // want "non-empty"
}

func paddedToUnknown(b []byte, n int) {
	for len(b) < n {
		b = append(b, 0)
	}
	C.use(unsafe.Pointer(&b[0]), C.size_t(len(b))) // want "may be empty"
}

// A nil check is not a length check.
func nilChecked(b []byte) {
	if b != nil {
		C.use(unsafe.Pointer(&b[0]), C.size_t(len(b))) // want "may be empty"
	}
}

// An early return when empty.
func earlyReturn(b []byte) {
	if len(b) == 0 {
		return
	}
	C.use(unsafe.Pointer(&b[0]), C.size_t(len(b))) // want "non-empty"
}

// A check in a later branch does not help an earlier one.
func laterBranch(b []byte, first bool) {
	if first {
		C.use(unsafe.Pointer(&b[0]), 1) // want "may be empty"
		return
	}
	if len(b) > 0 {
		C.use(unsafe.Pointer(&b[0]), 1) // want "non-empty"
	}
}

// The length passed to the same C call is checked.
func lengthArg(b []byte, n int) {
	if n > 0 {
		C.use(unsafe.Pointer(&b[0]), C.size_t(n)) // want "non-empty"
	}
}

func lengthArgUnsigned(b []byte, n C.size_t) {
	if n != 0 {
		C.use(unsafe.Pointer(&b[0]), n) // want "non-empty"
	}
}

// Inside a range loop over the slice.
func ranged(b []byte) {
	for i := range b {
		C.use(unsafe.Pointer(&b[0]), C.size_t(i)) // want "non-empty"
	}
}

// n := len(b) checked.
func lenVar(b []byte) {
	if n := len(b); n >= 4 {
		C.use(unsafe.Pointer(&b[0]), C.size_t(n)) // want "non-empty"
	}
}

// append of one element.
func appended(b []byte) {
	b = append(b, 0)
	C.use(unsafe.Pointer(&b[0]), C.size_t(len(b))) // want "non-empty"
}

// A conjunction.
func conjunction(b []byte, ok bool) {
	if ok && len(b) > 0 {
		C.use(unsafe.Pointer(&b[0]), C.size_t(len(b))) // want "non-empty"
	}
}

// A disjunction proves nothing about b.
func disjunction(b []byte, ok bool) {
	if ok || len(b) > 0 {
		C.use(unsafe.Pointer(&b[0]), C.size_t(len(b))) // want "may be empty"
	}
}

// A string converted from a non-empty constant.
func fromString() {
	b := []byte("hello")
	C.use(unsafe.Pointer(&b[0]), 5) // want "non-empty"
}

// make with a length an early return proved positive, the length living
// in a cell because the cgo closure captures it.
func madeAfterCheck(keys []string) {
	n := len(keys)
	if n == 0 {
		return
	}
	ptrs := make([]*C.char, n)
	C.use(unsafe.Pointer(&ptrs[0]), C.size_t(n)) // want "non-empty"
	defer func() { _ = ptrs }()
}

func madeUnchecked(keys []string) {
	n := len(keys)
	ptrs := make([]*C.char, n)
	C.use(unsafe.Pointer(&ptrs[0]), C.size_t(n)) // want "may be empty"
}
