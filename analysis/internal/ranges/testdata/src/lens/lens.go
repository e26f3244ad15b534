package lens

/*
#include <stddef.h>
static void use(void *p, size_t n) { (void)p; (void)n; }
static int count(void *e) { (void)e; return 1; }
static void *next(int t, int *kind, void *prev) { (void)t; (void)kind; return prev; }
static int fill(char **p, size_t n) { (void)p; return (int)n; }
static void use2(void *p, size_t n, void *q, size_t m) { (void)p; (void)n; (void)q; (void)m; }
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

// A fallback chosen through an alias of the checked slice.
var oneByte = []byte{0}

func produce(v []byte) {
	valp := v
	if len(v) == 0 {
		valp = oneByte
	}
	C.use(unsafe.Pointer(&valp[0]), C.size_t(len(v))) // want "non-empty"
}

func produceNoFallback(v []byte) {
	valp := v
	if len(v) == 0 {
		println("empty")
	}
	C.use(unsafe.Pointer(&valp[0]), C.size_t(len(v))) // want "may be empty"
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
	C.use(unsafe.Pointer(&w.buf[0]), C.size_t(len(w.buf))) // want "non-empty"
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
	C.use(unsafe.Pointer(&dict[0]), C.size_t(len(dict)))   // want "non-empty"
	C.use(unsafe.Pointer(&buf[0]), C.size_t(len(buf)))     // want "non-empty"
	C.use(unsafe.Pointer(&sizes[0]), C.size_t(len(sizes))) // want "non-empty"
}

// The loop may not run when the slice starts long enough.
func trainGiven(buf []byte) {
	var sizes []C.size_t
	for len(buf) < 1024 {
		buf = append(buf, 'x')
		sizes = append(sizes, 1)
	}
	C.use(unsafe.Pointer(&sizes[0]), C.size_t(len(sizes))) // want "may be empty"
}

// make with len(x), after an early return when x is empty, or when it
// has not exactly one element.
func del(names []string) error {
	if len(names) == 0 {
		return nil
	}
	c := make([]*C.char, len(names))
	C.use(unsafe.Pointer(&c[0]), C.size_t(len(c))) // want "non-empty"
	return nil
}

func one(names []string) {
	if len(names) != 1 {
		return
	}
	c := make([]*C.char, len(names))
	C.use(unsafe.Pointer(&c[0]), 1) // want "non-empty"
}

func counted(count C.uint) {
	if count == 0 {
		return
	}
	c := make([]*C.char, count)
	C.use(unsafe.Pointer(&c[0]), C.size_t(count)) // want "non-empty"
}

// The call inside if size > 0, the slice made with size.
func copyOut(size C.size_t) []byte {
	data := make([]byte, int(size))
	if size > 0 {
		C.use(unsafe.Pointer(&data[0]), size) // want "non-empty"
	}
	return data
}

// An unexported function whose every caller passes a constant size, or a
// slice built by append.
func getString(bufsize int) {
	v := make([]byte, bufsize)
	C.use(unsafe.Pointer(&v[0]), C.size_t(len(v))) // want "non-empty"
}

func Identity() { getString(256) }

func Routing() { getString(1024) }

func sendBatch(batch []int32) {
	C.use(unsafe.Pointer(&batch[0]), C.size_t(len(batch))) // want "non-empty"
}

func Produce(x int32) {
	var batch []int32
	batch = append(batch, x)
	sendBatch(batch)
}

// One caller passes something possibly empty.
func getAny(bufsize int) {
	v := make([]byte, bufsize)
	C.use(unsafe.Pointer(&v[0]), C.size_t(len(v))) // want "may be empty"
}

func Any(n int) { getAny(n) }

func Fixed() { getAny(64) }

// Exported: callers elsewhere are unknown.
func GetExported(bufsize int) {
	v := make([]byte, bufsize)
	C.use(unsafe.Pointer(&v[0]), C.size_t(len(v))) // want "may be empty"
}

func UseExported() { GetExported(64) }

// A constant length, the address taken by a deferred call.
func deferredDestroy() {
	recs := make([]*C.char, 1)
	defer C.use(unsafe.Pointer(&recs[0]), C.size_t(1)) // want "non-empty"
	recs[0] = nil
}

// A check of the make length at the use.
func checkedCount(a, b []string) {
	count := len(a) + len(b)
	list := make([]*C.char, count)
	var ptr unsafe.Pointer
	if count > 0 {
		ptr = unsafe.Pointer(&list[0])
	}
	C.use(ptr, C.size_t(count))
}

// The check is of a variable holding len(value).
func produceLen(value []byte) {
	var valp []byte
	var valLen int
	oneByte := []byte{0}
	if value == nil {
		valp = oneByte
	} else {
		valLen = len(value)
		if valLen > 0 {
			valp = value
		} else {
			valp = oneByte
		}
	}
	C.use(unsafe.Pointer(&valp[0]), C.size_t(valLen)) // want "non-empty"
}

// Batches grouped in a map by append, each sent to an unexported
// function.
func sendGroup(batch []int32) {
	out := make([]C.int, len(batch))
	C.use(unsafe.Pointer(&out[0]), C.size_t(len(out))) // want "non-empty"
}

func Group(in chan int32) {
	groups := make(map[int32][]int32)
	for v := range in {
		groups[v%4] = append(groups[v%4], v)
	}
	for _, batch := range groups {
		sendGroup(batch)
	}
}

// The groups map is remade each round.
func GroupRounds(in chan int32) {
	groups := make(map[int32][]int32)
	for v := range in {
		groups[v%4] = append(groups[v%4], v)
		if len(groups) > 8 {
			for _, batch := range groups {
				sendGroup(batch)
			}
			groups = make(map[int32][]int32)
		}
	}
}

// A length from a function whose result is at least 64 for any length.
func bound(n int) int { return n + n>>8 + 64 }

func compress(dst, src []byte) {
	b := bound(len(src))
	if cap(dst) >= b {
		dst = dst[:b]
	} else {
		dst = make([]byte, b)
	}
	C.use(unsafe.Pointer(&dst[0]), C.size_t(len(dst))) // want "non-empty"
}

// One whose result may be 0.
func margin(n int) int { return n >> 8 }

func compressSmall(dst, src []byte) {
	b := margin(len(src))
	dst = make([]byte, b)
	C.use(unsafe.Pointer(&dst[0]), C.size_t(len(dst))) // want "may be empty"
}

// Two returns: size < 0, then size == 0.
func recv(next func() (C.int, error)) []byte {
	var size C.int
	var err error
	for {
		size, err = next()
		if size >= 0 || err == nil {
			break
		}
	}
	if size < 0 {
		return nil
	}
	if size == 0 {
		return []byte{}
	}
	data := make([]byte, int(size))
	C.use(unsafe.Pointer(&data[0]), C.size_t(size)) // want "non-empty"
	return data
}

// Only size == 0 returns: a negative size is left.
func recvNeg(size C.int) []byte {
	if size == 0 {
		return nil
	}
	data := make([]byte, 1+int(size)-1)
	C.use(unsafe.Pointer(&data[0]), C.size_t(size)) // want "may be empty"
	return data
}

// A bound with a margin for small sizes, called with a constant.
func compressBound(srcSize int) int {
	lowLimit := 128 << 10
	var margin int
	if srcSize < lowLimit {
		margin = (lowLimit - srcSize) >> 11
	}
	return srcSize + (srcSize >> 8) + margin
}

type streamWriter struct{ dst []byte }

func newStreamWriter() *streamWriter {
	return &streamWriter{dst: make([]byte, compressBound(1024))}
}

func (w *streamWriter) flush() {
	w.dst = w.dst[0:cap(w.dst)]
	C.use(unsafe.Pointer(&w.dst[0]), C.size_t(len(w.dst))) // want "non-empty"
}

// An inner slice of a checked outer slice may be empty.
func replicaAssignment(assign [][]int32) {
	if len(assign) == 0 {
		return
	}
	for p, replicas := range assign {
		out := make([]C.int, len(replicas))
		for ri, r := range replicas {
			out[ri] = C.int(r)
		}
		C.use(unsafe.Pointer(&out[0]), C.size_t(p)) // want "may be empty"
	}
}

// An unrelated constant size after the length does not count.
func withErrbuf(assign [][]int32) {
	errbuf := make([]C.char, 512)
	errsize := C.size_t(512)
	for p, replicas := range assign {
		out := make([]C.int, len(replicas))
		C.use2(unsafe.Pointer(&out[0]), C.size_t(len(out)), unsafe.Pointer(&errbuf[0]), errsize) // want "may be empty" "non-empty"
		_ = p
	}
}

// A field kept at least as long as bound(len(p)), checked with a second
// call of the same function.
type bufWriter struct{ dst []byte }

func newBufWriter() *bufWriter { return &bufWriter{dst: make([]byte, compressBound(1024))} }

func (w *bufWriter) Write(p []byte) {
	w.dst = w.dst[0:cap(w.dst)]
	if len(w.dst) < compressBound(len(p)) {
		w.dst = make([]byte, compressBound(len(p)))
	}
	C.use(unsafe.Pointer(&w.dst[0]), C.size_t(len(w.dst))) // want "non-empty"
}

// Grown by its own length plus a constant.
func (w *bufWriter) grow() {
	nb := make([]byte, len(w.dst)+16)
	copy(nb, w.dst)
	w.dst = nb
}

// A length from C.
func fromCCount(kind int) int {
	switch kind {
	case 1:
		msgs := make([]*C.char, int(C.count(unsafe.Pointer(&kind))))
		cnt := int(C.fill((**C.char)(unsafe.Pointer(&msgs[0])), C.size_t(len(msgs)))) // want "may be empty"
		return cnt
	}
	return 0
}

// The same inside a polling loop.
func poll(maxEvents int, kinds []int) int {
	total := 0
	var prev unsafe.Pointer
out:
	for evcnt := 0; evcnt < maxEvents; evcnt++ {
		kind := kinds[evcnt]
		prev = nil
		switch kind {
		case 0:
			if prev == nil {
				break
			}
		case 1:
			msgs := make([]*C.char, int(C.count(unsafe.Pointer(&total))))
			cnt := int(C.fill((**C.char)(unsafe.Pointer(&msgs[0])), C.size_t(len(msgs)))) // want "may be empty"
			for _, m := range msgs[:cnt] {
				_ = m
				total++
			}
		case 2:
			break out
		}
	}
	return total
}

// A bound whose margin makes up for a zero size: n + n>>8 + 64 at n == 0,
// at least n otherwise.
func marginBound(n int) int {
	low := 128 << 10
	var margin int
	if n < low {
		margin = (low - n) >> 11
	}
	return n + (n >> 8) + margin
}

func withMarginBound(dst, src []byte) {
	b := marginBound(len(src))
	if cap(dst) >= b {
		dst = dst[:b]
	} else {
		dst = make([]byte, b)
	}
	C.use(unsafe.Pointer(&dst[0]), C.size_t(len(dst))) // want "non-empty"
}

// The margin vanishes at n == 0: the bound may be 0.
func thinBound(n int) int {
	low := 128 << 10
	var margin int
	if n < low {
		margin = (low - n) >> 20
	}
	return n + margin
}

func withThinBound(dst, src []byte) {
	b := thinBound(len(src))
	dst = make([]byte, b)
	C.use(unsafe.Pointer(&dst[0]), C.size_t(len(dst))) // want "may be empty"
}

// The margin is only added when n is large: nothing at n == 0.
func lateBound(n int) int {
	low := 128 << 10
	var margin int
	if n >= low {
		margin = (n - low) >> 11
	}
	return n + margin
}

func withLateBound(src []byte) {
	dst := make([]byte, lateBound(len(src)))
	C.use(unsafe.Pointer(&dst[0]), C.size_t(len(dst))) // want "may be empty"
}

// A length from C per event, in a loop whose events come from C.
func pollEvents(maxEvents, timeout int) int {
	total := 0
	var prev unsafe.Pointer
out:
	for evcnt := 0; evcnt < maxEvents; evcnt++ {
		var kind C.int
		ev := C.next(C.int(timeout), &kind, prev)
		prev = ev
		timeout = 0
		switch kind {
		case 0:
			if ev == nil {
				break
			}
			defer C.use(ev, 0)
		case 1:
			msgs := make([]*C.char, int(C.count(ev)))
			cnt := int(C.fill((**C.char)(unsafe.Pointer(&msgs[0])), C.size_t(len(msgs)))) // want "may be empty"
			for _, m := range msgs[:cnt] {
				if m != nil {
					total++
				}
			}
		case 2:
			break out
		}
	}
	return total
}
