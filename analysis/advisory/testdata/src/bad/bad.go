package bad

// #cgo noescape keep_ptr // want `CG011: #cgo noescape keep_ptr, but keep_ptr stores its argument p in kept`
// #cgo noescape fill // want `CG011: #cgo noescape fill, but fill stores its argument p in c->data`
// #cgo nocallback run_cb // want `CG011: #cgo nocallback run_cb, but run_cb calls the function pointer cb it is given`
// #cgo nocallback notify // want `CG011: #cgo nocallback notify, but notify calls the exported Go function goNotify`
// #include <stddef.h>
//
// static void *kept;
// static void keep_ptr(void *p) { kept = p; }
// struct ctx { void *data; };
// static void fill(struct ctx *c, void *p) { c->data = p; }
// static void run_cb(void (*cb)(int)) { cb(1); }
// extern void goNotify(int);
// static void notify(int n) { goNotify(n); }
// static int add(int a, int b) { return a + b; }
import "C"

import "unsafe"

//export goNotify
func goNotify(n C.int) {}

func Use(b []byte, xs []int) int {
	if len(b) == 0 {
		return 0
	}
	C.keep_ptr(unsafe.Pointer(&b[0]))
	sum := 0
	for _, x := range xs {
		sum += int(C.add(C.int(x), 1)) // want `CG028: C.add is called once per iteration of the loop over xs`
	}
	for i := 0; i < len(b); i++ {
		C.add(C.int(b[i]), 0) // want `CG028: C.add is called once per iteration of the loop over i`
	}
	return sum
}
