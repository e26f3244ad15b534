package arena

import (
	"errors"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapMemory maps size bytes of fd (-1: anonymous memory) read-write,
// shared with other mappings of the file or private to this process. With
// addr != 0 the mapping is placed at exactly addr or not at all: an
// address already in use is ErrAddressInUse, never a silent move (on
// kernels before 4.17, which treat MAP_FIXED_NOREPLACE as a hint, the
// result is checked).
func mapMemory(fd int, size uint64, shared bool, addr uintptr) ([]byte, error) {
	flags := unix.MAP_PRIVATE
	if shared {
		flags = unix.MAP_SHARED
	}
	if fd < 0 {
		flags |= unix.MAP_ANONYMOUS
	}
	if addr != 0 {
		if addr%uintptr(os.Getpagesize()) != 0 {
			return nil, fmt.Errorf("cgoguard: arena address %#x is not page aligned", addr)
		}
		flags |= unix.MAP_FIXED_NOREPLACE
	}
	// The address is not a Go pointer, only a number for the kernel; the
	// indirection keeps vet's uintptr-to-pointer check quiet about that.
	hint := *(*unsafe.Pointer)(unsafe.Pointer(&addr))
	p, err := unix.MmapPtr(fd, 0, hint, uintptr(size), unix.PROT_READ|unix.PROT_WRITE, flags)
	if err != nil {
		if addr != 0 && errors.Is(err, unix.EEXIST) {
			return nil, fmt.Errorf("%w: %#x", ErrAddressInUse, addr)
		}
		return nil, err
	}
	if addr != 0 && uintptr(p) != addr {
		unix.MunmapPtr(p, uintptr(size))
		return nil, fmt.Errorf("%w: asked for %#x, the kernel chose %#x (MAP_FIXED_NOREPLACE needs Linux 4.17)", ErrAddressInUse, addr, uintptr(p))
	}
	return unsafe.Slice((*byte)(p), size), nil
}

func unmapMemory(mem []byte) error {
	if len(mem) == 0 {
		return nil
	}
	return unix.MunmapPtr(unsafe.Pointer(unsafe.SliceData(mem)), uintptr(len(mem)))
}

// createMemfd makes an anonymous memory file (close-on-exec; it exists in
// no directory, so nothing can be left behind) of mapSize bytes and maps
// it shared.
func createMemfd(name string, mapSize uint64, addr uintptr) (*os.File, []byte, error) {
	fd, err := unix.MemfdCreate("cgoguard-arena:"+name, unix.MFD_CLOEXEC)
	if err != nil {
		if errors.Is(err, unix.ENOSYS) {
			return nil, nil, fmt.Errorf("%w: memfd_create: %v", ErrNotSupported, err)
		}
		return nil, nil, fmt.Errorf("cgoguard: arena %q: memfd_create: %w", name, err)
	}
	f := os.NewFile(uintptr(fd), "memfd:cgoguard-arena:"+name)
	if err := f.Truncate(int64(mapSize)); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("cgoguard: size arena %q to %d bytes: %w", name, mapSize, err)
	}
	mem, err := mapMemory(fd, mapSize, true, addr)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("cgoguard: map arena %q: %w", name, err)
	}
	return f, mem, nil
}

// dupFile returns a close-on-exec duplicate of f's descriptor.
func dupFile(f *os.File) (*os.File, error) {
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("dup: %w", err)
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}
