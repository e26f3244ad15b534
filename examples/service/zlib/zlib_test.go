//go:build cgo

package zlib

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/chaos"
	"github.com/cgoguard/cgoguard/leakcheck"
)

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		data  []byte
		level int
	}{
		{"empty", nil, DefaultLevel},
		{"short", []byte("hello"), 9},
		{"repetitive", bytes.Repeat([]byte("cgoguard "), 10000), 6},
		{"stored", []byte(strings.Repeat("x", 100)), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z, err := Compress(tt.data, tt.level)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Decompress(z, len(tt.data)+1)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back, tt.data) {
				t.Fatalf("round trip changed %d bytes into %d", len(tt.data), len(back))
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		run  func() error
		zlib bool
	}{
		{"bad level", func() error { _, err := Compress([]byte("x"), 12); return err }, false},
		{"not zlib", func() error { _, err := Decompress([]byte("plain text"), 100); return err }, true},
		{"too small", func() error {
			z, _ := Compress(bytes.Repeat([]byte("a"), 1000), 9)
			_, err := Decompress(z, 10)
			return err
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, ErrZlib) != tt.zlib {
				t.Fatalf("errors.Is(%v, ErrZlib) = %v, want %v", err, !tt.zlib, tt.zlib)
			}
			if !strings.HasPrefix(err.Error(), "cgoguard: ") {
				t.Fatalf("message %q lacks the cgoguard: prefix", err)
			}
		})
	}
}

// TestLeakHeapCompress checks that compressing and decompressing grows
// neither the C heap nor the descriptors per call.
func TestLeakHeapCompress(t *testing.T) {
	data := bytes.Repeat([]byte("leak check "), 1000)
	leakcheck.Check(t, func() {
		z, err := Compress(data, 6)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decompress(z, len(data)); err != nil {
			t.Fatal(err)
		}
	}, leakcheck.Only(leakcheck.KindCHeap, leakcheck.KindFD), leakcheck.Iterations(300))
}

func ExampleCompress() {
	z, err := Compress([]byte("hello, hello, hello, hello"), DefaultLevel)
	if err != nil {
		fmt.Println(err)
		return
	}
	back, _ := Decompress(z, 100)
	fmt.Println(string(back))
	// Output: hello, hello, hello, hello
}

func TestErrorsCarryTheGuardedCall(t *testing.T) {
	_, err := Decompress([]byte("plain text"), 100)
	var ze *Error
	var ce *cgoguard.CError
	if !errors.As(err, &ze) || !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *Error wrapping *cgoguard.CError", err)
	}
	if ze.Code != -3 || ce.Errno != syscall.EINVAL || !strings.Contains(ce.Message, "uncompress2") {
		t.Errorf("Error %+v, CError %+v", ze, ce)
	}
	m, _ := Module()
	if st := m.Stats(); st.Errors == 0 || st.OK == 0 {
		t.Errorf("module stats %+v: calls not counted", st)
	}
}

// Decompress sizes its buffer from the input and grows it as needed, up to
// max: a tiny input no longer costs max bytes, and growing is not an error.
func TestDecompressSizesFromInput(t *testing.T) {
	tiny, _ := Compress([]byte("hi"), 9)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range 100 {
		if out, err := Decompress(tiny, 8<<20); err != nil || string(out) != "hi" {
			t.Fatalf("%q, %v", out, err)
		}
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Errorf("100 tiny decompressions allocated %d KiB", grew>>10)
	}
	m, _ := Module()
	errsBefore := m.Stats().Errors
	big := bytes.Repeat([]byte("0123456789"), 400_000) // 4 MB, ~1000:1
	z, err := Compress(big, 9)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Decompress(z, 8<<20)
	if err != nil || !bytes.Equal(out, big) {
		t.Fatalf("large round trip: %d bytes, %v", len(out), err)
	}
	if n := m.Stats().Errors - errsBefore; n != 0 {
		t.Errorf("growing the buffer counted %d errors", n)
	}
	if _, err := Decompress(z, len(big)-1); !errors.Is(err, ErrZlib) || !strings.Contains(err.Error(), "more than") {
		t.Errorf("over max: %v", err)
	}
}

// TestFailpointNames: failpoints name the module's C functions inflate and
// deflate (the names of the failpoint grammar's example,
// zlib.inflate=10%segv), and still by their symbols; each fires only on
// the calls of its function.
func TestFailpointNames(t *testing.T) {
	in := bytes.Repeat([]byte("failpoint "), 100)
	z, err := Compress(in, DefaultLevel)
	if err != nil {
		t.Fatal(err)
	}
	compress := func() error { _, err := Compress(in, DefaultLevel); return err }
	decompress := func() error { _, err := Decompress(z, len(in)+1); return err }
	tests := []struct {
		spec        string
		hit, missed func() error
	}{
		{"zlib.inflate=errno(EIO)", decompress, compress},
		{"zlib.deflate=errno(EIO)", compress, decompress},
		{"zlib.exz_uncompress=errno(EIO)", decompress, compress},
		{"zlib.exz_compress=errno(EIO)", compress, decompress},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			if err := chaos.Set(tt.spec); err != nil {
				t.Fatal(err)
			}
			defer chaos.Clear()
			if err := tt.hit(); !errors.Is(err, syscall.EIO) {
				t.Errorf("the call the failpoint names: %v, want EIO", err)
			}
			if err := tt.missed(); err != nil {
				t.Errorf("the other call: %v, want success", err)
			}
		})
	}
}

// TestInjectedErrnoIsNotAZlibStatus: a call that returned -errno without
// a zlib status (a failpoint's errno(EIO)) is reported by its errno, not
// as the zlib status of the same number (-5 is also Z_BUF_ERROR); an
// injected error(CODE,MESSAGE) is a zlib status as the wrapper's own.
func TestInjectedErrnoIsNotAZlibStatus(t *testing.T) {
	in := bytes.Repeat([]byte("errno "), 100)
	tests := []struct {
		spec      string
		zlibError bool
		errno     syscall.Errno
		want      string
		notWant   string
	}{
		{"zlib.deflate=errno(EIO)", false, syscall.EIO, "input/output error", "buffer error"},
		{"zlib.deflate=errno(ENOMEM)", false, syscall.ENOMEM, "cannot allocate memory", "zlib compress: error"},
		{`zlib.deflate=error(-3,"compress2: injected data error",EINVAL)`, true, syscall.EINVAL, "data error", ""},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			if err := chaos.Set(tt.spec); err != nil {
				t.Fatal(err)
			}
			defer chaos.Clear()
			_, err := Compress(in, DefaultLevel)
			if err == nil {
				t.Fatal("the failpoint did not fire")
			}
			if errors.Is(err, ErrZlib) != tt.zlibError || !errors.Is(err, tt.errno) {
				t.Errorf("%v: ErrZlib %v (want %v), errno %v", err, errors.Is(err, ErrZlib), tt.zlibError, tt.errno)
			}
			if !strings.Contains(err.Error(), tt.want) || (tt.notWant != "" && strings.Contains(err.Error(), tt.notWant)) {
				t.Errorf("message %q: want %q, not %q", err, tt.want, tt.notWant)
			}
		})
	}
}
