//go:build linux

package arena_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/cgoguard/cgoguard/arena"
)

const fdChildEnv = "CGOGUARD_ARENA_TEST_FDCHILD"

// shmEntries lists /dev/shm, to show a memfd arena leaves nothing there.
func shmEntries(t *testing.T) map[string]bool {
	t.Helper()
	ents, err := os.ReadDir("/dev/shm")
	if err != nil {
		t.Skipf("no /dev/shm: %v", err)
	}
	m := map[string]bool{}
	for _, e := range ents {
		m[e.Name()] = true
	}
	return m
}

func TestMemfdSameProcess(t *testing.T) {
	before := shmEntries(t)
	a := newArena(t, 1<<16, arena.WithMemfd(), arena.WithName("memfd-test"))
	for name := range shmEntries(t) {
		if !before[name] {
			t.Fatalf("a memfd arena created /dev/shm/%s", name)
		}
	}
	if a.SharedName() != "" {
		t.Fatalf("SharedName = %q, want none", a.SharedName())
	}
	ref, b, err := a.Alloc(12, 8)
	if err != nil {
		t.Fatal(err)
	}
	copy(b, "memfd block!")
	f, err := a.File()
	if err != nil {
		t.Fatal(err)
	}
	// Mapping it at the address it already has must fail, never move.
	if _, err := arena.OpenFile(f, arena.WithAddress(uintptr(a.CPtr()))); !errors.Is(err, arena.ErrAddressInUse) {
		t.Fatalf("OpenFile at the first mapping's address: %v, want ErrAddressInUse", err)
	}
	b2, err := arena.OpenFile(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	if b2.CPtr() == a.CPtr() || b2.ID() != a.ID() || b2.Name() != "memfd-test" {
		t.Fatalf("second mapping at %p id %x name %q; first at %p id %x", b2.CPtr(), b2.ID(), b2.Name(), a.CPtr(), a.ID())
	}
	got, err := b2.Resolve(ref)
	if err != nil || string(got) != "memfd block!" {
		t.Fatalf("second mapping resolves %q, %v", got, err)
	}
	// Allocations through either mapping move the same cursor.
	ref2, b3, err := b2.Alloc(8, 8)
	if err != nil {
		t.Fatal(err)
	}
	copy(b3, "from two")
	if got, err := a.Resolve(ref2); err != nil || string(got) != "from two" || ref2.Offset() <= ref.Offset() {
		t.Fatalf("first mapping resolves %v: %q, %v", ref2, got, err)
	}
	// The opened arena's File works too, and a private arena has none.
	f2, err := b2.File()
	if err != nil {
		t.Fatal(err)
	}
	f2.Close()
	p := newArena(t, 4096)
	if _, err := p.File(); !errors.Is(err, arena.ErrNotSupported) {
		t.Fatalf("File of a private arena: %v, want ErrNotSupported", err)
	}
}

func TestWithAddress(t *testing.T) {
	a := newArena(t, 1<<16, arena.WithMemfd())
	want := uintptr(a.CPtr())
	a.Close()
	// The range is free again: a new arena can be placed exactly there.
	b := newArena(t, 1<<16, arena.WithAddress(want))
	if uintptr(b.CPtr()) != want {
		t.Fatalf("arena at %p, want %#x", b.CPtr(), want)
	}
	if _, err := arena.New(4096, arena.WithAddress(want)); !errors.Is(err, arena.ErrAddressInUse) {
		t.Fatalf("second arena at the same address: %v, want ErrAddressInUse", err)
	}
	_, buf, err := b.Alloc(8, 8)
	if err != nil {
		t.Fatal(err)
	}
	if p := uintptr(unsafe.Pointer(&buf[0])); p < want || p >= want+1<<17 {
		t.Fatalf("block at %#x outside the arena at %#x", p, want)
	}
}

func TestMemfdOptionErrors(t *testing.T) {
	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"memfd and shared", func() error {
			_, err := arena.New(64, arena.WithMemfd(), arena.WithShared("x"))
			return err
		}, "exclude each other"},
		{"zero address", func() error { _, err := arena.New(64, arena.WithAddress(0)); return err }, "nonzero and page aligned"},
		{"unaligned address", func() error { _, err := arena.New(64, arena.WithAddress(0x1234)); return err }, "nonzero and page aligned"},
		{"OpenFile nil", func() error { _, err := arena.OpenFile(nil); return err }, "nil file"},
		{"OpenFile with a name", func() error {
			a, err := arena.New(64, arena.WithMemfd())
			if err != nil {
				return err
			}
			defer a.Close()
			f, _ := a.File()
			defer f.Close()
			_, err = arena.OpenFile(f, arena.WithName("x"))
			return err
		}, "only WithAddress applies"},
		{"OpenFile of a non-arena", func() error {
			f, err := os.CreateTemp(t.TempDir(), "junk")
			if err != nil {
				return err
			}
			defer f.Close()
			f.Truncate(8192)
			_, err = arena.OpenFile(f)
			return err
		}, "not a cgoguard arena"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "cgoguard: ") {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestMemfdChildAtSameAddress hands the arena's descriptor to a child
// process, which maps it at the parent's address: a plain pointer written
// by the child into the arena then points at the same bytes in the parent.
func TestMemfdChildAtSameAddress(t *testing.T) {
	before := shmEntries(t)
	a := newArena(t, 1<<16, arena.WithMemfd())
	f, err := a.File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fdChildEnv+"="+strconv.FormatUint(uint64(uintptr(a.CPtr())), 10))
	cmd.ExtraFiles = []*os.File{f}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	text, ok := strings.CutPrefix(strings.TrimSpace(string(out)), "wrote ")
	if !ok {
		t.Fatalf("child said %q", out)
	}
	var ref arena.Ref
	if err := ref.UnmarshalText([]byte(text)); err != nil {
		t.Fatal(err)
	}
	blk, err := a.Resolve(ref)
	if err != nil {
		t.Fatal(err)
	}
	// The block holds a pointer (the child's address of its message) and
	// the message; in the parent the pointer is valid as it is.
	p := *(*uintptr)(unsafe.Pointer(&blk[0]))
	msg := unsafe.Slice((*byte)(unsafe.Add(a.CPtr(), p-uintptr(a.CPtr()))), 20)
	if !bytes.Equal(msg, blk[8:28]) || !bytes.HasPrefix(msg, []byte("child pid ")) {
		t.Fatalf("pointer %#x from the child reads %q, block holds %q", p, msg, blk[8:28])
	}
	for name := range shmEntries(t) {
		if !before[name] {
			t.Fatalf("/dev/shm/%s left behind", name)
		}
	}
}

func fdChild(addr string) int {
	n, err := strconv.ParseUint(addr, 10, 64)
	if err != nil {
		fmt.Println("addr:", err)
		return 1
	}
	a, err := arena.OpenFile(os.NewFile(3, "arena"), arena.WithAddress(uintptr(n)))
	if err != nil {
		fmt.Println("open:", err)
		return 1
	}
	defer a.Close()
	ref, b, err := a.Alloc(28, 8)
	if err != nil {
		fmt.Println("alloc:", err)
		return 1
	}
	copy(b[8:], fmt.Sprintf("child pid %-10d", os.Getpid()))
	*(*uintptr)(unsafe.Pointer(&b[0])) = uintptr(unsafe.Pointer(&b[8]))
	fmt.Println("wrote", ref)
	return 0
}
