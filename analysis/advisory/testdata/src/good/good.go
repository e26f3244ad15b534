package good

/*
#cgo noescape sum
#cgo nocallback sum
#cgo noescape copy_out
#include <stddef.h>
#include <string.h>

static int sum(const int *p, size_t n) {
	int s = 0;
	size_t i;
	for (i = 0; i < n; i++) s += p[i];
	return s;
}
static void copy_out(char *dst, const char *src, size_t n) {
	char *d = dst;
	memcpy(d, src, n);
}
static int sum_all(const int *p, size_t n) { return sum(p, n); }
static void tick(void) {}
*/
import "C"

import "unsafe"

// One call for the whole batch, calls in loops that do not depend on the
// element, and consumer loops are fine.
func Use(xs []C.int, done chan struct{}, jobs chan int) int {
	if len(xs) == 0 {
		return 0
	}
	total := int(C.sum_all((*C.int)(unsafe.Pointer(&xs[0])), C.size_t(len(xs))))
	for i := 0; i < 3; i++ {
		C.tick()
	}
	for {
		select {
		case <-done:
			return total
		case j := <-jobs:
			total += int(C.sum(nil, C.size_t(j)))
		}
	}
}

func Copy(dst, src []byte) {
	if len(dst) < len(src) || len(src) == 0 {
		return
	}
	C.copy_out((*C.char)(unsafe.Pointer(&dst[0])), (*C.char)(unsafe.Pointer(&src[0])), C.size_t(len(src)))
}

func Strings(ps []*C.char) (out []string) {
	for _, p := range ps {
		out = append(out, C.GoString(p))
	}
	return out
}
