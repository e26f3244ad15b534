//go:build !linux

package arena

import (
	"fmt"
	"os"
	"syscall"
)

func mapMemory(fd int, size uint64, shared bool, addr uintptr) ([]byte, error) {
	if addr != 0 {
		return nil, fmt.Errorf("%w: fixed arena addresses need Linux", ErrNotSupported)
	}
	flags := syscall.MAP_PRIVATE
	if shared {
		flags = syscall.MAP_SHARED
	}
	if fd < 0 {
		flags |= syscall.MAP_ANON
	}
	return syscall.Mmap(fd, 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE, flags)
}

func unmapMemory(mem []byte) error {
	if len(mem) == 0 {
		return nil
	}
	return syscall.Munmap(mem)
}

func createMemfd(name string, mapSize uint64, addr uintptr) (*os.File, []byte, error) {
	return nil, nil, fmt.Errorf("%w: memfd arenas need Linux", ErrNotSupported)
}

func dupFile(f *os.File) (*os.File, error) {
	return nil, fmt.Errorf("%w: arena files need Linux", ErrNotSupported)
}
