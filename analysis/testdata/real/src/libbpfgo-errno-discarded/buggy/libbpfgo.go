// Reduced from github.com/aquasecurity/libbpfgo libbpfgo.go (Apache-2.0, see
// ../LICENSE).

package libbpfgo

/*
#include <stdlib.h>

struct bpf_map;

extern int bpf_map__pin(struct bpf_map *map, const char *path);
extern int bpf_map__unpin(struct bpf_map *map, const char *path);
extern int bpf_map__set_max_entries(struct bpf_map *map, unsigned int max_entries);
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// BPFMap is a map of a loaded BPF object.
type BPFMap struct {
	name   string
	bpfMap *C.struct_bpf_map
}

func (b *BPFMap) Pin(pinPath string) error {
	path := C.CString(pinPath)
	_, errno := C.bpf_map__pin(b.bpfMap, path) // bug: CG030
	C.free(unsafe.Pointer(path))
	if errno != nil {
		return fmt.Errorf("failed to pin map %s to path %s: %w", b.name, pinPath, errno)
	}
	return nil
}

func (b *BPFMap) Unpin(pinPath string) error {
	path := C.CString(pinPath)
	_, errno := C.bpf_map__unpin(b.bpfMap, path) // bug: CG030
	C.free(unsafe.Pointer(path))
	if errno != nil {
		return fmt.Errorf("failed to unpin map %s from path %s: %w", b.name, pinPath, errno)
	}
	return nil
}

func (b *BPFMap) Resize(maxEntries uint32) error {
	_, errno := C.bpf_map__set_max_entries(b.bpfMap, C.uint(maxEntries)) // bug: CG030
	if errno != nil {
		return fmt.Errorf("failed to resize map %s to %v: %w", b.name, maxEntries, errno)
	}
	return nil
}
