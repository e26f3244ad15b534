package arena

import (
	"fmt"
	"strings"
)

// Option configures New.
type Option func(*options) error

type options struct {
	name   string  // "" means the shared name, or "arena-<id>"
	shared string  // "" means an anonymous private mapping
	memfd  bool    // back the arena with an anonymous memory file
	addr   uintptr // 0 means the kernel chooses the address
}

// defaults holds every option's default, in one place.
func defaults() options {
	return options{
		name:   "",
		shared: "",
		memfd:  false,
		addr:   0,
	}
}

// WithName names the arena in Snapshot and in metrics (label arena). The
// name is 1 to 63 printable ASCII bytes. Default: the shared-memory name
// when WithShared is given, otherwise "arena-<id in hex>".
func WithName(name string) Option {
	return func(o *options) error {
		if len(name) == 0 || len(name) > nameMax {
			return fmt.Errorf("cgoguard: arena name %q must be 1 to %d bytes", name, nameMax)
		}
		for i := 0; i < len(name); i++ {
			if name[i] < 0x20 || name[i] > 0x7e {
				return fmt.Errorf("cgoguard: arena name %q has a non-printable byte at %d", name, i)
			}
		}
		o.name = name
		return nil
	}
}

// WithShared backs the arena with the shared-memory file /dev/shm/<name>,
// which another process maps with Open(name) (and C code with
// shm_open("/<name>")). The name is 1 to 200 bytes of letters, digits,
// '.', '_' and '-', not starting with '.'. The file is created with mode
// 0600 and must not exist yet; the creating arena removes it on Close.
// Default: an anonymous mapping private to this process.
func WithShared(name string) Option {
	return func(o *options) error {
		if err := checkSharedName(name); err != nil {
			return err
		}
		o.shared = name
		return nil
	}
}

// WithMemfd backs the arena with an anonymous memory file (memfd_create)
// that no directory names, so nothing is ever left in /dev/shm, even when
// every process using it is killed. Other processes get it by inheriting a
// descriptor (Arena.File, passed for example in exec.Cmd.ExtraFiles) and
// map it with OpenFile. It excludes WithShared. Linux only. Default: an
// anonymous mapping private to this process.
func WithMemfd() Option {
	return func(o *options) error {
		o.memfd = true
		return nil
	}
}

// WithAddress maps the arena at exactly addr (page aligned), in New and in
// OpenFile, so that processes mapping the same arena at the same address
// can exchange plain pointers into it. If anything is mapped there already
// the call fails with ErrAddressInUse; the mapping is never moved. Linux
// only. Default: 0, the kernel chooses.
func WithAddress(addr uintptr) Option {
	return func(o *options) error {
		if addr == 0 || addr%4096 != 0 {
			return fmt.Errorf("cgoguard: arena address %#x must be nonzero and page aligned", addr)
		}
		o.addr = addr
		return nil
	}
}

func checkSharedName(name string) error {
	if len(name) == 0 || len(name) > 200 {
		return fmt.Errorf("cgoguard: shared arena name %q must be 1 to 200 bytes", name)
	}
	if strings.HasPrefix(name, ".") {
		return fmt.Errorf("cgoguard: shared arena name %q must not start with '.'", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("cgoguard: shared arena name %q has invalid byte %q at %d (allowed: letters, digits, '.', '_', '-')", name, c, i)
		}
	}
	return nil
}
