package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard/observe"
)

var updateStatus = flag.Bool("update-status", false, "rewrite the golden files of cgoguard status")

// deadPID is a pid above the kernel's limit (pid_max <= 2^22): no process
// has it, so its status file is stale.
const deadPID = 1<<22 + 17

type fixtureModule struct {
	name                                  string
	state                                 uint32
	ok, errs, crashes, timeouts, rejected uint64
	inflight, abandoned                   int64
}

// writeStatusFixture writes a status file with the layout documented in
// include/cgoguard_observe.h.
func writeStatusFixture(t *testing.T, dir string, pid int, mods []fixtureModule) {
	t.Helper()
	buf := make([]byte, 128+64*128)
	le := binary.LittleEndian
	copy(buf, "CGSTATUS")
	le.PutUint32(buf[8:], 1)
	le.PutUint32(buf[12:], uint32(len(mods)))
	le.PutUint64(buf[16:], 42) // seq: even, not being written
	le.PutUint32(buf[24:], uint32(pid))
	le.PutUint32(buf[28:], 64)
	le.PutUint64(buf[32:], 12345)
	le.PutUint64(buf[40:], uint64(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano()))
	le.PutUint64(buf[48:], uint64(time.Date(2026, 1, 2, 3, 9, 5, 250e6, time.UTC).UnixNano()))
	le.PutUint64(buf[56:], uint64(time.Second))
	for i, m := range mods {
		r := buf[128+i*128:]
		copy(r[:64], m.name)
		le.PutUint32(r[64:], m.state)
		for j, v := range []uint64{m.ok, m.errs, m.crashes, m.timeouts, m.rejected, uint64(m.inflight), uint64(m.abandoned)} {
			le.PutUint64(r[72+8*j:], v)
		}
	}
	if err := os.WriteFile(observe.StatusPath(dir, pid), buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestStatusGolden(t *testing.T) {
	staleDir := t.TempDir()
	writeStatusFixture(t, staleDir, deadPID, []fixtureModule{
		{name: "zlib", state: 0, ok: 1200, errs: 3, rejected: 0, inflight: 2},
		{name: "libpng", state: 3, ok: 88, crashes: 1, rejected: 17},
		{name: "ffmpeg", state: 1, ok: 5, errs: 9, timeouts: 4, abandoned: 1, inflight: 1},
	})
	emptyDir := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"stale-all", []string{"--all"}, 0},
		{"stale-hidden", nil, 0},
		{"stale-pid", []string{"--pid", fmt.Sprint(deadPID)}, 1},
		{"stale-json", []string{"--all", "--json"}, 0},
		{"empty", []string{"--dir", "EMPTY"}, 0},
		{"empty-json", []string{"--dir", "EMPTY", "--json"}, 0},
		{"missing-pid", []string{"--pid", "7"}, 1},
		{"bad-pid", []string{"--pid", "x"}, 2},
		{"negative-pid", []string{"--pid", "-3"}, 2},
		{"extra-arg", []string{"now"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"status", "--dir", staleDir}
			for _, a := range tt.args {
				if a == "EMPTY" {
					a = emptyDir
				}
				args = append(args, a)
			}
			var stdout, stderr bytes.Buffer
			code := run(args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, stderr.String())
			}
			got := stdout.String() + "--- stderr\n" + stderr.String()
			got = strings.ReplaceAll(got, staleDir, "$DIR")
			got = strings.ReplaceAll(got, emptyDir, "$EMPTY")
			format := "text"
			if strings.Contains(tt.name, "json") {
				format = "json"
			}
			golden := filepath.Join("testdata", "status", fmt.Sprintf("%s.exit%d.%s.golden", tt.name, tt.code, format))
			if *updateStatus {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update-status)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s:\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
		})
	}
}
