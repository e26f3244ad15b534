//go:build cgo && linux

package isolate

import (
	"strings"
	"testing"
	"time"
)

func TestSpecRoundTrip(t *testing.T) {
	s := spec{index: 3, ppid: 4242, arenaAddr: 0x4123_4560_0000, nfn: 15, hash: 0xdeadbeefcafe, faults: 1, module: "zlib:v2"}
	got, err := parseSpec(s.String())
	if err != nil || got != s {
		t.Fatalf("parseSpec(%q) = %+v, %v", s.String(), got, err)
	}
	for _, bad := range []string{"", "1:1:2:3:4:5:m", "2:1:2:3:4:5:m", "3:1:2:3:4:5:0:m", "2:x:2:3:4:5:0:m", "2:1:2:zz:4:5:0:m", "2:1:2:3:4:5:x:m", "2:1:2:3"} {
		if _, err := parseSpec(bad); err == nil || !strings.HasPrefix(err.Error(), "cgoguard: ") {
			t.Errorf("parseSpec(%q) = %v, want an error", bad, err)
		}
	}
}

func TestParseMapsLine(t *testing.T) {
	tests := []struct {
		line string
		want mapping
		ok   bool
	}{
		{"7f1c2a000000-7f1c2a028000 r--p 00000000 fd:01 1234 /usr/lib/x86_64-linux-gnu/libc.so.6",
			mapping{0x7f1c2a000000, 0x7f1c2a028000, 0, "/usr/lib/x86_64-linux-gnu/libc.so.6"}, true},
		{"00400000-00c00000 r-xp 00001000 fd:01 99 /tmp/a b/prog (deleted)",
			mapping{0x400000, 0xc00000, 0x1000, "/tmp/a b/prog"}, true},
		{"01e4b000-01e6c000 rw-p 00000000 00:00 0                                  [heap]", mapping{}, false},
		{"7ffd1c3f2000-7ffd1c413000 rw-p 00000000 00:00 0", mapping{}, false},
		{"garbage", mapping{}, false},
	}
	for _, tc := range tests {
		got, ok := parseMapsLine(tc.line)
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseMapsLine(%q) = %+v, %v; want %+v, %v", tc.line, got, ok, tc.want, tc.ok)
		}
	}
}

func TestTranslate(t *testing.T) {
	worker := []mapping{
		{0x400000, 0x500000, 0, "/bin/prog"},
		{0x7f0000001000, 0x7f0000003000, 0x1000, "/lib/libz.so"},
		{0x7f0000010000, 0x7f0000011000, 0, "/lib/only-in-worker.so"},
	}
	parent := []mapping{
		{0x400000, 0x500000, 0, "/bin/prog"},
		{0x7e0000000000, 0x7e0000001000, 0, "/lib/libz.so"},
		{0x7e0000001000, 0x7e0000003000, 0x1000, "/lib/libz.so"},
	}
	tests := []struct {
		pc    uint64
		path  string
		off   uint64
		there uint64
		ok    bool
	}{
		{0x401234, "/bin/prog", 0x1234, 0x401234, true},
		{0x7f0000001010, "/lib/libz.so", 0x1010, 0x7e0000001010, true},
		{0x7f0000010020, "/lib/only-in-worker.so", 0x20, 0, false},
		{0x10, "", 0, 0, false},
	}
	for _, tc := range tests {
		path, off, there, ok := translate(worker, parent, tc.pc)
		if path != tc.path || off != tc.off || there != tc.there || ok != tc.ok {
			t.Errorf("translate(%#x) = %q %#x %#x %v; want %q %#x %#x %v", tc.pc, path, off, there, ok, tc.path, tc.off, tc.there, tc.ok)
		}
	}
}

func TestBackoff(t *testing.T) {
	p := &Pool{o: options{backoffMin: 10 * time.Millisecond, backoffMax: 50 * time.Millisecond}}
	want := []time.Duration{0, 0, 10, 20, 40, 50, 50}
	for failures, w := range want {
		if got := p.backoff(failures); got != w*time.Millisecond {
			t.Errorf("backoff(%d) = %v, want %v", failures, got, w*time.Millisecond)
		}
	}
}
