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
	errC := C.bpf_map__pin(b.bpfMap, path)
	C.free(unsafe.Pointer(path))
	if errC != 0 {
		return fmt.Errorf("failed to pin map %s to path %s", b.name, pinPath)
	}
	return nil
}

func (b *BPFMap) Unpin(pinPath string) error {
	path := C.CString(pinPath)
	errC := C.bpf_map__unpin(b.bpfMap, path)
	C.free(unsafe.Pointer(path))
	if errC != 0 {
		return fmt.Errorf("failed to unpin map %s from path %s", b.name, pinPath)
	}
	return nil
}

func (b *BPFMap) Resize(maxEntries uint32) error {
	errC := C.bpf_map__set_max_entries(b.bpfMap, C.uint(maxEntries))
	if errC != 0 {
		return fmt.Errorf("failed to resize map %s to %v", b.name, maxEntries)
	}
	return nil
}
