//go:build cgo

package observe

/*
#cgo CFLAGS: -I${SRCDIR}/../include -Wall -Wextra -Werror -O2
#include <stdlib.h>
#include "observe.h"
*/
import "C"

import (
	"unsafe"
)

// cSnapshot runs the C snapshot callbacks registered for module.
func cSnapshot(module string) (kv map[string]string, truncated bool) {
	cm := C.CString(module)
	defer C.free(unsafe.Pointer(cm))
	var buf [C.CG_SNAPSHOT_MAX_KEYS]C.cg_obs_kv
	var tr C.int
	n := int(C.cg_obs_collect(cm, &buf[0], C.int(len(buf)), &tr))
	if n == 0 {
		return nil, tr != 0
	}
	kv = make(map[string]string, n)
	for i := 0; i < n; i++ {
		kv[boundedString(buf[i].key[:])] = boundedString(buf[i].value[:])
	}
	return kv, tr != 0
}

// cSnapshotModules lists the module names that have C snapshot callbacks.
func cSnapshotModules() []string {
	var buf [C.CG_SNAPSHOT_MAX_CALLBACKS * C.CG_MODULE_NAME_MAX]C.char
	n := int(C.cg_obs_modules(&buf[0], C.size_t(len(buf))))
	out := make([]string, 0, n)
	b := C.GoBytes(unsafe.Pointer(&buf[0]), C.int(len(buf)))
	for i, start := 0, 0; i < len(b) && len(out) < n; i++ {
		if b[i] == 0 {
			out = append(out, string(b[start:i]))
			start = i + 1
		}
	}
	return out
}

// setCStatusPath tells cg_status_read(NULL, ...) which file is this
// process's ("" for none).
func setCStatusPath(path string) {
	if path == "" {
		C.cg_obs_set_status_path(nil)
		return
	}
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	C.cg_obs_set_status_path(cp)
}

// cReadStatus reads a status file with the C reader (path "" for this
// process's own); tests compare it with the Go reader.
func cReadStatus(path string) (*Status, error) {
	var cp *C.char
	if path != "" {
		cp = C.CString(path)
		defer C.free(unsafe.Pointer(cp))
	}
	var st C.cg_status
	rc := int(C.cg_status_read(cp, &st))
	if rc < 0 {
		return nil, errnoError(-rc)
	}
	raw := C.GoBytes(unsafe.Pointer(&st), C.int(unsafe.Sizeof(st)))
	s, err := decodeStatus(raw)
	if err != nil {
		return nil, err
	}
	s.Stale = C.cg_status_stale(&st) != 0
	return s, nil
}

// cStatusSize is the C layout's size, checked against the Go one in tests.
const cStatusSize = int(unsafe.Sizeof(C.cg_status{}))

// boundedString copies a fixed C buffer up to its first NUL, never past its
// end.
func boundedString(b []C.char) string {
	n := 0
	for n < len(b) && b[n] != 0 {
		n++
	}
	return C.GoStringN(&b[0], C.int(n))
}
