package cmem_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/cgoguard/cgoguard/cmem"
	"github.com/cgoguard/cgoguard/cmem/internal/cbase"
)

func needC(t testing.TB) {
	if !cbase.Available {
		t.Skip("C allocation needs cgo")
	}
}

// nextLine returns the line after the one it is called on.
func nextLine() int {
	_, _, line, _ := runtime.Caller(1)
	return line + 1
}

func siteAt(file string, line int) (cmem.Site, bool) {
	for _, s := range cmem.Sites() {
		if strings.HasSuffix(s.File, file) && s.Line == line {
			return s, true
		}
	}
	return cmem.Site{}, false
}

func TestAllocators(t *testing.T) {
	needC(t)
	tests := []struct {
		name  string
		alloc func() (unsafe.Pointer, error)
		bytes int64
		check func(p unsafe.Pointer) string
	}{
		{"Malloc", func() (unsafe.Pointer, error) { return cmem.Malloc(100) }, 100, nil},
		{"Malloc zero", func() (unsafe.Pointer, error) { return cmem.Malloc(0) }, 0, nil},
		{"Calloc", func() (unsafe.Pointer, error) { return cmem.Calloc(10, 8) }, 80, func(p unsafe.Pointer) string {
			for _, v := range cmem.GoBytes(p, 80) {
				if v != 0 {
					return "Calloc memory not zeroed"
				}
			}
			return ""
		}},
		{"CString", func() (unsafe.Pointer, error) { return cmem.CString("héllo") }, 7, func(p unsafe.Pointer) string {
			if got := cmem.GoString(p); got != "héllo" {
				return "CString holds " + got
			}
			return ""
		}},
		{"CBytes", func() (unsafe.Pointer, error) { return cmem.CBytes([]byte{1, 2, 0, 4}) }, 4, func(p unsafe.Pointer) string {
			if got := cmem.GoBytes(p, 4); string(got) != "\x01\x02\x00\x04" {
				return "CBytes holds wrong bytes"
			}
			return ""
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n0, b0 := cmem.Live()
			p, err := tc.alloc()
			if err != nil || p == nil {
				t.Fatalf("alloc: %v, %v", p, err)
			}
			if n, b := cmem.Live(); n-n0 != 1 || b-b0 != tc.bytes {
				t.Fatalf("live grew by %d allocations, %d bytes; want 1, %d", n-n0, b-b0, tc.bytes)
			}
			if size, ok := cmem.Size(p); !ok || int64(size) != tc.bytes {
				t.Fatalf("Size = %d, %v", size, ok)
			}
			if tc.check != nil {
				if msg := tc.check(p); msg != "" {
					t.Fatal(msg)
				}
			}
			if err := cmem.Free(p); err != nil {
				t.Fatalf("Free: %v", err)
			}
			if n, b := cmem.Live(); n != n0 || b != b0 {
				t.Fatalf("after Free live is %d, %d; want %d, %d", n, b, n0, b0)
			}
			if err := cmem.Free(p); !errors.Is(err, cmem.ErrUnknownPointer) {
				t.Fatalf("second Free: %v, want ErrUnknownPointer", err)
			}
		})
	}
}

func TestSites(t *testing.T) {
	needC(t)
	var ps []unsafe.Pointer
	var line int
	for i := 0; i < 3; i++ {
		line = nextLine()
		p, err := cmem.Malloc(32)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	s, ok := siteAt("cmem_test.go", line)
	if !ok || s.Allocs != 3 || s.Bytes != 96 || !strings.HasSuffix(s.Function, "cmem_test.TestSites") {
		t.Fatalf("site at cmem_test.go:%d = %+v, %v; all sites: %v", line, s, ok, cmem.Sites())
	}
	if !strings.Contains(s.String(), fmt.Sprintf("cmem_test.go:%d): 3 allocations, 96 bytes", line)) {
		t.Fatalf("String() = %q", s.String())
	}
	for _, p := range ps {
		if err := cmem.Free(p); err != nil {
			t.Fatal(err)
		}
	}
	if s, ok := siteAt("cmem_test.go", line); ok {
		t.Fatalf("site still listed after all frees: %+v", s)
	}
}

func TestTrackingOff(t *testing.T) {
	needC(t)
	was := cmem.SetTracking(false)
	defer cmem.SetTracking(was)
	if cmem.Tracking() {
		t.Fatal("Tracking() true after SetTracking(false)")
	}
	n0, _ := cmem.Live()
	line := nextLine()
	p, err := cmem.CString("untracked")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := siteAt("cmem_test.go", line); ok {
		t.Fatal("site recorded with tracking off")
	}
	if n, _ := cmem.Live(); n != n0+1 {
		t.Fatalf("live allocations %d, want %d", n, n0+1)
	}
	cmem.SetTracking(true) // switching back on must not confuse Free
	if err := cmem.Free(p); err != nil {
		t.Fatalf("Free of an allocation made with tracking off: %v", err)
	}
	if err := cmem.Free(p); !errors.Is(err, cmem.ErrUnknownPointer) {
		t.Fatalf("double Free: %v", err)
	}
}

func TestBadInput(t *testing.T) {
	needC(t)
	goMem := make([]byte, 16)
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"free of Go memory", func() error { return cmem.Free(unsafe.Pointer(&goMem[0])) }, cmem.ErrUnknownPointer},
		{"free inside a block", func() error {
			p, _ := cmem.Malloc(64)
			defer cmem.Free(p)
			return cmem.Free(unsafe.Add(p, 8))
		}, cmem.ErrUnknownPointer},
		{"free of nil", func() error { return cmem.Free(nil) }, nil},
		{"negative Malloc", func() error { _, err := cmem.Malloc(-1); return err }, cmem.ErrSize},
		{"negative Calloc", func() error { _, err := cmem.Calloc(-1, 8); return err }, cmem.ErrSize},
		{"overflowing Calloc", func() error { _, err := cmem.Calloc(1<<62, 8); return err }, cmem.ErrSize},
		{"huge Malloc", func() error { _, err := cmem.Malloc(1 << 62); return err }, cmem.ErrOutOfMemory},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n0, b0 := cmem.Live()
			err := tc.call()
			if !errors.Is(err, tc.want) || (err != nil && !strings.HasPrefix(err.Error(), "cgoguard: ")) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if n, b := cmem.Live(); n != n0 || b != b0 {
				t.Fatalf("live changed to %d, %d from %d, %d", n, b, n0, b0)
			}
		})
	}
}

func TestConcurrent(t *testing.T) {
	needC(t)
	n0, b0 := cmem.Live()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var held []unsafe.Pointer
			for i := 0; i < 2000; i++ {
				p, err := cmem.Malloc(8 + i%64)
				if err != nil {
					t.Error(err)
					return
				}
				held = append(held, p)
				if i%3 == 0 {
					if err := cmem.Free(held[0]); err != nil {
						t.Error(err)
						return
					}
					held = held[1:]
				}
			}
			for _, p := range held {
				if err := cmem.Free(p); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if n, b := cmem.Live(); n != n0 || b != b0 {
		t.Fatalf("after concurrent use live is %d, %d; want %d, %d", n, b, n0, b0)
	}
}
