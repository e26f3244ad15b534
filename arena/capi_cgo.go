//go:build cgo

package arena

/*
#cgo CFLAGS: -I${SRCDIR}/../include -Wall -Wextra -Werror
#include <stddef.h>
#include "cgoguard_arena.h"
size_t cgarena_layout(size_t *out, size_t n);
*/
import "C"

// cLayout returns the C header's field offsets and size, in the order of
// cgarena_layout in arena.c.
func cLayout() ([]uintptr, error) {
	var out [16]C.size_t
	n := C.cgarena_layout(&out[0], C.size_t(len(out)))
	res := make([]uintptr, int(n))
	for i := range res {
		res[i] = uintptr(out[i])
	}
	return res, nil
}
