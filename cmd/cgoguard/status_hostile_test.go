package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// A status file is written by another process: its module names reach the
// terminal escaped, and the JSON keeps them exactly.
func TestStatusEscapesModuleNames(t *testing.T) {
	dir := t.TempDir()
	hostile := "zlib\x1b]0;pwned\x07\x1b[2J"
	writeStatusFixture(t, dir, deadPID, []fixtureModule{{name: hostile, ok: 1}})
	var stdout, stderr bytes.Buffer
	run([]string{"status", "--dir", dir, "--all"}, &stdout, &stderr)
	if strings.ContainsAny(stdout.String(), "\x1b\x07") {
		t.Fatalf("raw escape sequence printed:\n%q", stdout.String())
	}
	if !strings.Contains(stdout.String(), `zlib\x1b]0;pwned\x07\x1b[2J`) {
		t.Fatalf("escaped name missing:\n%s", stdout.String())
	}
	stdout.Reset()
	run([]string{"status", "--dir", dir, "--all", "--json"}, &stdout, &stderr)
	var list []struct {
		Modules []struct{ Name string } `json:"modules"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &list); err != nil || list[0].Modules[0].Name != hostile {
		t.Fatalf("JSON name %+v, %v", list, err)
	}
}
