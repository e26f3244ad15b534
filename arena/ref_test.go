package arena_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cgoguard/cgoguard/arena"
)

func TestRefEncodings(t *testing.T) {
	r := arena.NewRef(0x1a2b3c4d, 7, 4096, 64)
	bin, _ := r.MarshalBinary()
	want := []byte{0x4d, 0x3c, 0x2b, 0x1a, 7, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 64, 0, 0, 0, 0, 0, 0, 0}
	if !bytes.Equal(bin, want) {
		t.Fatalf("binary % x, want % x", bin, want)
	}
	if text, _ := r.MarshalText(); string(text) != "cgref:1a2b3c4d:7:4096:64" {
		t.Fatalf("text %q", text)
	}
	tests := []struct {
		name string
		text string
		ok   bool
	}{
		{"canonical", "cgref:1a2b3c4d:7:4096:64", true},
		{"no prefix", "1a2b3c4d:7:4096:64", false},
		{"upper-case hex", "cgref:1A2B3C4D:7:4096:64", false},
		{"short id", "cgref:1a2b3c4:7:4096:64", false},
		{"leading zero", "cgref:1a2b3c4d:07:4096:64", false},
		{"plus sign", "cgref:1a2b3c4d:+7:4096:64", false},
		{"three fields", "cgref:1a2b3c4d:7:4096", false},
		{"five fields", "cgref:1a2b3c4d:7:4096:64:1", false},
		{"generation too big", "cgref:1a2b3c4d:4294967296:4096:64", false},
		{"zero generation", "cgref:1a2b3c4d:0:4096:64", false},
		{"zero id", "cgref:00000000:1:4096:64", false},
		{"zero length", "cgref:1a2b3c4d:1:4096:0", false},
		{"header offset", "cgref:1a2b3c4d:1:8:8", false},
		{"overflow", "cgref:1a2b3c4d:1:18446744073709551615:2", false},
		{"empty", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got arena.Ref
			err := got.UnmarshalText([]byte(tc.text))
			if tc.ok {
				if err != nil || got != r {
					t.Fatalf("UnmarshalText = %v, %v; want %v", got, err, r)
				}
				return
			}
			if err == nil || !errors.Is(err, arena.ErrInvalidRef) {
				t.Fatalf("UnmarshalText(%q) = %v, %v; want an ErrInvalidRef", tc.text, got, err)
			}
			if !got.IsZero() {
				t.Fatalf("failed decode changed the ref to %v", got)
			}
		})
	}
	var got arena.Ref
	if err := got.UnmarshalBinary(bin[:23]); err == nil {
		t.Fatal("23-byte binary ref accepted")
	}
	if err := got.UnmarshalBinary(bin); err != nil || got != r {
		t.Fatalf("UnmarshalBinary = %v, %v", got, err)
	}
}

func FuzzRefBinary(f *testing.F) {
	good, _ := arena.NewRef(0x1a2b3c4d, 7, 4096, 64).MarshalBinary()
	f.Add(good)
	f.Add(make([]byte, 24))
	f.Add([]byte("short"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r arena.Ref
		if err := r.UnmarshalBinary(b); err != nil {
			if !r.IsZero() {
				t.Fatalf("failed decode left %v", r)
			}
			return
		}
		again, err := r.MarshalBinary()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("round trip % x -> %v -> % x (%v)", b, r, again, err)
		}
		if r.ArenaID() == 0 || r.Generation() == 0 || r.Len() == 0 || r.Offset() < 4096 || r.Offset()+r.Len() < r.Offset() {
			t.Fatalf("decoder accepted an impossible ref %v", r)
		}
		var viaText arena.Ref
		text, _ := r.MarshalText()
		if err := viaText.UnmarshalText(text); err != nil || viaText != r {
			t.Fatalf("text round trip of %v: %v, %v", r, viaText, err)
		}
	})
}

func FuzzRefText(f *testing.F) {
	f.Add("cgref:1a2b3c4d:7:4096:64")
	f.Add("cgref:ffffffff:4294967295:18446744073709551551:64")
	f.Add("cgref:1a2b3c4d:07:4096:64")
	f.Add("cgref::::")
	f.Fuzz(func(t *testing.T, s string) {
		var r arena.Ref
		if err := r.UnmarshalText([]byte(s)); err != nil {
			if !r.IsZero() {
				t.Fatalf("failed decode left %v", r)
			}
			return
		}
		if again, _ := r.MarshalText(); string(again) != s {
			t.Fatalf("accepted %q but marshals as %q", s, again)
		}
		bin, _ := r.MarshalBinary()
		var viaBin arena.Ref
		if err := viaBin.UnmarshalBinary(bin); err != nil || viaBin != r {
			t.Fatalf("binary round trip of %v: %v, %v", r, viaBin, err)
		}
	})
}
