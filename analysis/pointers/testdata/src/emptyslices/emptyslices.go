// Package emptyslices holds the &s[0] patterns CG002 must judge from the
// facts that dominate the index expression: every function without a want
// comment is correct code that must stay quiet.
package emptyslices

/*
#include <stddef.h>
static void use(void *p, size_t n) { (void)p; (void)n; }
*/
import "C"

import "unsafe"

func madeConst() {
	buf := make([]byte, 64)
	C.use(unsafe.Pointer(&buf[0]), 64)
}

func param(b []byte) {
	C.use(unsafe.Pointer(&b[0]), C.size_t(len(b))) // want `CG002: &b\[0\] passed to C.use panics when b is empty`
}

// A package-level literal that is never reassigned is never empty.
var defaultKey = []byte{0x01, 0x02}

func global() {
	C.use(unsafe.Pointer(&defaultKey[0]), 2)
}

// One that is reassigned with something possibly empty may be.
var current = []byte{1}

func SetCurrent(b []byte) { current = b }

func globalReassigned() {
	C.use(unsafe.Pointer(&current[0]), 1) // want `CG002: &current\[0\] passed to C.use panics when current is empty`
}

// A fallback assigned above the call when the slice is empty.
func fallback(b []byte) {
	if len(b) == 0 {
		b = defaultKey
	}
	C.use(unsafe.Pointer(&b[0]), C.size_t(len(b)))
}

func fallbackOnNil(b []byte) {
	if b == nil {
		b = defaultKey
	}
	C.use(unsafe.Pointer(&b[0]), C.size_t(len(b))) // want `CG002: &b\[0\] passed to C.use panics when b is empty`
}

// make with a length clamped to a positive minimum.
func clampedMax(n int) {
	buf := make([]byte, max(n, 1))
	C.use(unsafe.Pointer(&buf[0]), C.size_t(len(buf)))
}

func clampedIf(n int) {
	if n < 1 {
		n = 1
	}
	buf := make([]byte, n)
	C.use(unsafe.Pointer(&buf[0]), C.size_t(n))
}

func unclamped(n int) {
	buf := make([]byte, n)
	C.use(unsafe.Pointer(&buf[0]), C.size_t(n)) // want `CG002: &buf\[0\] passed to C.use panics when buf is empty`
}

func lenPlusOne(b []byte) {
	out := make([]byte, len(b)+1)
	C.use(unsafe.Pointer(&out[0]), C.size_t(len(out)))
}

// A struct field created non-empty and only appended to.
type ring struct {
	slots []int32
}

func newRing() *ring { return &ring{slots: make([]int32, 8)} }

func (r *ring) grow() { r.slots = append(r.slots, 0) }

func (r *ring) flush() {
	C.use(unsafe.Pointer(&r.slots[0]), C.size_t(len(r.slots)))
}

// A field that a construction leaves empty may be empty.
type queue struct {
	items []int32
}

func newQueue(n int) *queue { return &queue{items: make([]int32, 0, n)} }

func (q *queue) flush() {
	C.use(unsafe.Pointer(&q.items[0]), C.size_t(len(q.items))) // want `CG002: &q\.items\[0\] passed to C.use panics when q\.items is empty`
}

// Padded in a loop up to a minimum.
func padded(b []byte) {
	for len(b) < 16 {
		b = append(b, 0)
	}
	C.use(unsafe.Pointer(&b[0]), 16)
}

func paddedToUnknown(b []byte, n int) {
	for len(b) < n {
		b = append(b, 0)
	}
	C.use(unsafe.Pointer(&b[0]), C.size_t(len(b))) // want `CG002: &b\[0\] passed to C.use panics when b is empty`
}

// A nil check is not a length check.
func nilChecked(b []byte) {
	if b != nil {
		C.use(unsafe.Pointer(&b[0]), C.size_t(len(b))) // want `CG002: &b\[0\] passed to C.use panics when b is empty`
	}
}

// An early return when empty.
func earlyReturn(b []byte) {
	if len(b) == 0 {
		return
	}
	C.use(unsafe.Pointer(&b[0]), C.size_t(len(b)))
}

// A check in a later branch does not help an earlier one.
func laterBranch(b []byte, first bool) {
	if first {
		C.use(unsafe.Pointer(&b[0]), 1) // want `CG002: &b\[0\] passed to C.use panics when b is empty`
		return
	}
	if len(b) > 0 {
		C.use(unsafe.Pointer(&b[0]), 1)
	}
}

// The length passed to the same C call is checked.
func lengthArg(b []byte, n int) {
	if n > 0 {
		C.use(unsafe.Pointer(&b[0]), C.size_t(n))
	}
}

func lengthArgUnsigned(b []byte, n C.size_t) {
	if n != 0 {
		C.use(unsafe.Pointer(&b[0]), n)
	}
}

// Inside a range loop over the slice.
func ranged(b []byte) {
	for i := range b {
		C.use(unsafe.Pointer(&b[0]), C.size_t(i))
	}
}

// n := len(b) checked.
func lenVar(b []byte) {
	if n := len(b); n >= 4 {
		C.use(unsafe.Pointer(&b[0]), C.size_t(n))
	}
}

// append of one element.
func appended(b []byte) {
	b = append(b, 0)
	C.use(unsafe.Pointer(&b[0]), C.size_t(len(b)))
}

// A conjunction.
func conjunction(b []byte, ok bool) {
	if ok && len(b) > 0 {
		C.use(unsafe.Pointer(&b[0]), C.size_t(len(b)))
	}
}

// A disjunction proves nothing about b.
func disjunction(b []byte, ok bool) {
	if ok || len(b) > 0 {
		C.use(unsafe.Pointer(&b[0]), C.size_t(len(b))) // want `CG002: &b\[0\] passed to C.use panics when b is empty`
	}
}

// A string converted from a non-empty constant.
func fromString() {
	b := []byte("hello")
	C.use(unsafe.Pointer(&b[0]), 5)
}

// make with a length an early return proved positive, the length living
// in a cell because the cgo closure captures it.
func madeAfterCheck(keys []string) {
	n := len(keys)
	if n == 0 {
		return
	}
	ptrs := make([]*C.char, n)
	C.use(unsafe.Pointer(&ptrs[0]), C.size_t(n))
	defer func() { _ = ptrs }()
}

func madeUnchecked(keys []string) {
	n := len(keys)
	ptrs := make([]*C.char, n)
	C.use(unsafe.Pointer(&ptrs[0]), C.size_t(n)) // want `CG002: &ptrs\[0\] passed to C.use panics when ptrs is empty`
}

// A fallback chosen through an alias of the checked slice.
var oneByte = []byte{0}

func produce(v []byte) {
	valp := v
	if len(v) == 0 {
		valp = oneByte
	}
	C.use(unsafe.Pointer(&valp[0]), C.size_t(len(v)))
}

func produceNoFallback(v []byte) {
	valp := v
	if len(v) == 0 {
		println("empty")
	}
	C.use(unsafe.Pointer(&valp[0]), C.size_t(len(v))) // want `CG002: &valp\[0\] passed to C.use panics when valp is empty`
}

// A field made non-empty, resliced to its capacity, remade with a
// positive size.
type writer struct{ buf []byte }

func newWriter() *writer { return &writer{buf: make([]byte, 1024)} }

func (w *writer) Write(p []byte) {
	w.buf = w.buf[0:cap(w.buf)]
	if len(w.buf) < 2*len(p)+16 {
		w.buf = make([]byte, 2*len(p)+16)
	}
	C.use(unsafe.Pointer(&w.buf[0]), C.size_t(len(w.buf)))
}

// Padded in a loop that runs at least once: what the body appends is
// there after it.
func train(n int, samples [][]byte) {
	if n < 256 {
		n = 256
	}
	dict := make([]byte, n)
	var buf []byte
	var sizes []C.size_t
	for len(buf) < 1024 {
		s := []byte("pad")
		buf = append(buf, s...)
		sizes = append(sizes, C.size_t(len(s)))
	}
	C.use(unsafe.Pointer(&dict[0]), C.size_t(len(dict)))
	C.use(unsafe.Pointer(&buf[0]), C.size_t(len(buf)))
	C.use(unsafe.Pointer(&sizes[0]), C.size_t(len(sizes)))
}

// The loop may not run when the slice starts long enough.
func trainGiven(buf []byte) {
	var sizes []C.size_t
	for len(buf) < 1024 {
		buf = append(buf, 'x')
		sizes = append(sizes, 1)
	}
	C.use(unsafe.Pointer(&sizes[0]), C.size_t(len(sizes))) // want `CG002: &sizes\[0\] passed to C.use panics when sizes is empty`
}

// make with len(x), after an early return when x is empty, or when it
// has not exactly one element.
func del(names []string) error {
	if len(names) == 0 {
		return nil
	}
	c := make([]*C.char, len(names))
	C.use(unsafe.Pointer(&c[0]), C.size_t(len(c)))
	return nil
}

func one(names []string) {
	if len(names) != 1 {
		return
	}
	c := make([]*C.char, len(names))
	C.use(unsafe.Pointer(&c[0]), 1)
}

func counted(count C.uint) {
	if count == 0 {
		return
	}
	c := make([]*C.char, count)
	C.use(unsafe.Pointer(&c[0]), C.size_t(count))
}

// The call inside if size > 0, the slice made with size.
func copyOut(size C.size_t) []byte {
	data := make([]byte, int(size))
	if size > 0 {
		C.use(unsafe.Pointer(&data[0]), size)
	}
	return data
}

// An unexported function whose every caller passes a constant size, or a
// slice built by append.
func getString(bufsize int) {
	v := make([]byte, bufsize)
	C.use(unsafe.Pointer(&v[0]), C.size_t(len(v)))
}

func Identity() { getString(256) }

func Routing() { getString(1024) }

func sendBatch(batch []int32) {
	C.use(unsafe.Pointer(&batch[0]), C.size_t(len(batch)))
}

func Produce(x int32) {
	var batch []int32
	batch = append(batch, x)
	sendBatch(batch)
}

// One caller passes something possibly empty.
func getAny(bufsize int) {
	v := make([]byte, bufsize)
	C.use(unsafe.Pointer(&v[0]), C.size_t(len(v))) // want `CG002: &v\[0\] passed to C.use panics when v is empty`
}

func Any(n int) { getAny(n) }

func Fixed() { getAny(64) }

// Exported: callers elsewhere are unknown.
func GetExported(bufsize int) {
	v := make([]byte, bufsize)
	C.use(unsafe.Pointer(&v[0]), C.size_t(len(v))) // want `CG002: &v\[0\] passed to C.use panics when v is empty`
}

func UseExported() { GetExported(64) }

// &s[0] taken into a variable that is then passed to C.
func viaVariable(input []byte) {
	cInput := (*C.char)(unsafe.Pointer(&input[0])) // want `CG002: &input\[0\], passed to C.use through cInput, panics when input is empty`
	C.use(unsafe.Pointer(cInput), C.size_t(len(input)))
}

func viaVariableChecked(input []byte) {
	var cInput *C.char
	if len(input) != 0 {
		cInput = (*C.char)(unsafe.Pointer(&input[0]))
	}
	C.use(unsafe.Pointer(cInput), C.size_t(len(input)))
}

// A check of the make length where the slice is used.
func checkedCount(a, b []string) {
	count := len(a) + len(b)
	list := make([]*C.char, count)
	var ptr unsafe.Pointer
	if count > 0 {
		ptr = unsafe.Pointer(&list[0])
	}
	C.use(ptr, C.size_t(count))
}

// A nil check of the source is no length check.
func statesOf(val []int32) {
	if val == nil {
		return
	}
	states := make([]C.int, len(val))
	ptr := (*C.int)(unsafe.Pointer(&states[0])) // want `CG002: &states\[0\], passed to C.use through ptr, panics when states is empty`
	C.use(unsafe.Pointer(ptr), C.size_t(len(val)))
}

// The length checked through a variable converted to a C type.
func namesPtr(groups []string) {
	list := make([]*C.char, len(groups))
	count := C.size_t(len(groups))
	for i := range groups {
		list[i] = nil
	}
	var ptr unsafe.Pointer
	if count > 0 {
		ptr = unsafe.Pointer(&list[0])
	}
	C.use(ptr, count)
}

// The same sum computed twice: once for make, once for the check.
func alterations(ups, dels []string) {
	list := make([]*C.char, len(ups)+len(dels))
	count := C.size_t(len(ups) + len(dels))
	for i := range ups {
		list[i] = nil
	}
	var ptr unsafe.Pointer
	if count > 0 {
		ptr = unsafe.Pointer(&list[0])
	}
	C.use(ptr, count)
}
