// Reduced from github.com/aquasecurity/libbpfgo libbpfgo.go (Apache-2.0, see
// ../LICENSE).

package libbpfgo

/*
#include <stdlib.h>

struct bpf_object;
struct bpf_object_open_opts;

extern struct bpf_object_open_opts *bpf_object_open_opts_new(const char *btf_file_path, const char *kconfig_path, const char *bpf_obj_name);
extern void bpf_object_open_opts_free(struct bpf_object_open_opts *opts);
extern struct bpf_object *bpf_object__open_mem(const void *obj_buf, size_t obj_buf_sz, const struct bpf_object_open_opts *opts);
extern void set_print_fn(void);
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Module is a loaded BPF object.
type Module struct {
	obj *C.struct_bpf_object
}

// NewModuleArgs are the arguments of NewModuleFromBufferArgs.
type NewModuleArgs struct {
	KConfigFilePath string
	BTFObjPath      string
	BPFObjName      string
	BPFObjBuff      []byte
}

// NewModuleFromBufferArgs opens a BPF object from memory.
func NewModuleFromBufferArgs(args NewModuleArgs) (*Module, error) {
	C.set_print_fn()

	if args.BTFObjPath == "" {
		args.BTFObjPath = "/sys/kernel/btf/vmlinux"
	}

	cBTFFilePath := C.CString(args.BTFObjPath)
	defer C.free(unsafe.Pointer(cBTFFilePath))
	cKconfigPath := C.CString(args.KConfigFilePath)
	defer C.free(unsafe.Pointer(cKconfigPath))
	cBPFObjName := C.CString(args.BPFObjName)
	defer C.free(unsafe.Pointer(cBPFObjName))
	cBPFBuff := unsafe.Pointer(C.CBytes(args.BPFObjBuff))
	defer C.free(cBPFBuff)
	cBPFBuffSize := C.size_t(len(args.BPFObjBuff))

	if len(args.KConfigFilePath) <= 2 {
		C.free(unsafe.Pointer(cKconfigPath)) // bug: CG017
		cKconfigPath = nil
	}

	cOpts, errno := C.bpf_object_open_opts_new(cBTFFilePath, cKconfigPath, cBPFObjName)
	if cOpts == nil {
		return nil, fmt.Errorf("failed to create bpf_object_open_opts to %s: %w", args.BPFObjName, errno)
	}
	defer C.bpf_object_open_opts_free(cOpts)

	obj, errno := C.bpf_object__open_mem(cBPFBuff, cBPFBuffSize, cOpts)
	if obj == nil {
		return nil, fmt.Errorf("failed to open BPF object %s: %w", args.BPFObjName, errno)
	}

	return &Module{
		obj: obj,
	}, nil
}
