//go:build cgo

package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestQuickstart(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	s := out.String()
	for _, want := range []string{
		"-> 200 ok: value of 5 bytes",
		"-> 500 C crashed: SIGSEGV (SEGV_MAPERR) in parse_record",
		"-> 503 parser quarantined after a crash",
		"-> 500 C crashed: SIGFPE (FPE_INTDIV) in parse_record",
		"-> 500 C crashed: SIGABRT (SI_TKILL) in abort",
		"-> 400 bad record: empty record (code 22)",
		"parser serving: 3 ok, 1 errors, 3 crashes",
		"survived 3 C crashes",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}
