package chaos

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func writeJournal(t *testing.T, path string, entries []JournalEntry, tail string) {
	t.Helper()
	var b strings.Builder
	for _, e := range entries {
		line, _ := json.Marshal(e)
		b.Write(line)
		b.WriteByte('\n')
	}
	b.WriteString(tail)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCleanupJournal(t *testing.T) {
	dir := t.TempDir()
	journal := filepath.Join(dir, "j.jsonl")
	// A port nothing listens on: the process holding that failpoint is gone.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	gone := "http://" + l.Addr().String() + "/debug/cgoguard/failpoints"
	l.Close()
	writeJournal(t, journal, []JournalEntry{
		{ID: "a", Op: opInject, Kind: "command", Experiment: "cmd", Revert: `echo "$CHAOS_ID" >> reverted.txt`, Dir: dir, PID: 1 << 30},
		{ID: "a", Op: opID, FaultID: "first"},
		{ID: "b", Op: opInject, Kind: "command", Experiment: "done", Revert: "exit 1", Dir: dir},
		{ID: "b", Op: opReverted},
		{ID: "c", Op: opInject, Kind: "failpoint", Experiment: "fp", Admin: gone, Target: "zlib", TokenEnv: "NOPE"},
		{ID: "d", Op: opInject, Kind: "command", Experiment: "cmd2", Revert: `echo "second$CHAOS_ID" >> reverted.txt`, Dir: dir},
	}, `{"id":"e","op":"inj`) // torn by a kill mid-write
	r := NewRunner(WithJournal(journal))
	out, err := r.journal.Outstanding()
	if err != nil || len(out) != 3 || out[0].FaultID != "first" {
		t.Fatalf("outstanding %+v, %v", out, err)
	}
	items, err := r.Cleanup(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, it := range items {
		got = append(got, it.Entry.Experiment+":"+it.Outcome)
	}
	// Newest first.
	if strings.Join(got, " ") != "cmd2:reverted fp:gone cmd:reverted" {
		t.Fatalf("items %v", got)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "reverted.txt"))
	if string(data) != "second\nfirst\n" {
		t.Fatalf("reverts ran as %q", data)
	}
	if _, err := os.Stat(journal); !os.IsNotExist(err) {
		t.Fatalf("journal not removed: %v", err)
	}
}

func TestCleanupKeepsWhatFails(t *testing.T) {
	dir := t.TempDir()
	journal := filepath.Join(dir, "j.jsonl")
	writeJournal(t, journal, []JournalEntry{
		{ID: "a", Op: opInject, Kind: "command", Experiment: "stuck", Revert: "echo cannot >&2; exit 3", Dir: dir},
		{ID: "b", Op: opInject, Kind: "command", Experiment: "fine", Revert: "true", Dir: dir},
	}, "")
	r := NewRunner(WithJournal(journal))
	items, err := r.Cleanup(context.Background(), false)
	if err == nil || !strings.Contains(err.Error(), "1 fault(s) could not be reverted") {
		t.Fatalf("err %v", err)
	}
	if len(items) != 2 || items[1].Outcome != "failed" || !strings.Contains(items[1].Err, "cannot") {
		t.Fatalf("items %+v", items)
	}
	out, _ := r.journal.Outstanding()
	if len(out) != 1 || out[0].Experiment != "stuck" {
		t.Fatalf("left in the journal: %+v", out)
	}
}

func TestCleanupSkipsLiveRunner(t *testing.T) {
	dir := t.TempDir()
	journal := filepath.Join(dir, "j.jsonl")
	live := exec.Command("sleep", "60")
	if err := live.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { live.Process.Kill(); live.Wait() }()
	pid := live.Process.Pid
	writeJournal(t, journal, []JournalEntry{
		{ID: "a", Op: opInject, Kind: "command", Experiment: "live", Revert: "touch reverted", Dir: dir, PID: pid, PIDStart: processStart(pid)},
		// The same pid with another start time is a reused pid: not live.
		{ID: "b", Op: opInject, Kind: "command", Experiment: "reused", Revert: "touch reverted-b", Dir: dir, PID: pid, PIDStart: processStart(pid) + 1},
	}, "")
	r := NewRunner(WithJournal(journal))
	items, err := r.Cleanup(context.Background(), false)
	if err != nil || len(items) != 2 || items[0].Outcome != "reverted" || items[1].Outcome != "skipped" {
		t.Fatalf("items %+v, %v", items, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "reverted")); err == nil {
		t.Fatal("a live runner's fault was reverted")
	}
	items, err = r.Cleanup(context.Background(), true)
	if err != nil || len(items) != 1 || items[0].Outcome != "reverted" {
		t.Fatalf("forced: %+v, %v", items, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "reverted")); err != nil {
		t.Fatal("--force did not revert")
	}
}

func TestJournalBadLine(t *testing.T) {
	journal := filepath.Join(t.TempDir(), "j.jsonl")
	os.WriteFile(journal, []byte("{\"id\":\"a\",\"op\":\"inject\"}\nnot json\n{\"id\":\"b\",\"op\":\"inject\"}\n"), 0o600)
	_, err := (&Journal{Path: journal}).Outstanding()
	if err == nil || !strings.Contains(err.Error(), "j.jsonl:2: not a journal entry") {
		t.Fatalf("err %v", err)
	}
}
