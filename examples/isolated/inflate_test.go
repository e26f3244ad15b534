//go:build cgo && linux

package main

import (
	"bytes"
	"compress/zlib"
	"context"
	"strings"
	"testing"
)

// Data that inflates past the output buffer is refused, not returned cut
// short: exz_uncompress says EXZ_MORE when its buffer is full.
func TestDecompressTooLarge(t *testing.T) {
	s, ts := startServer(t)
	if err := s.selfTest(context.Background()); err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write(make([]byte, 2*maxBody))
	w.Close()
	out := post(t, ts.URL+"/decompress", z.Bytes(), 400)
	if !strings.Contains(string(out), "inflates to more than") {
		t.Fatalf("body %q", out)
	}
}
