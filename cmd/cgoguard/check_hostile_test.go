package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeCgoguardOnPath puts a "cgoguard" on PATH that records that it ran.
func fakeCgoguardOnPath(t *testing.T) (marker string) {
	t.Helper()
	dir := t.TempDir()
	marker = filepath.Join(dir, "ran")
	script := "#!/bin/sh\necho \"$@\" > " + marker + "\nexit 2\n"
	if err := os.WriteFile(filepath.Join(dir, "cgoguard"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return marker
}

// Vet checks run this executable, whatever its name, never another
// cgoguard found on PATH.
func TestCheckVetRunsThisExecutable(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks a fixture module")
	}
	marker := fakeCgoguardOnPath(t)
	t.Setenv("CGOGUARD_TEST_AS_CLI", "1") // this test binary is the CLI for its children
	checklistFile, _ := filepath.Abs("testdata/check/vet.yaml")
	t.Chdir("testdata/vet/src")
	var stdout, stderr bytes.Buffer
	code := run([]string{"check", "-q", "-f", checklistFile, "-o", "json=-", "./clean"}, &stdout, &stderr)
	if _, err := os.Stat(marker); err == nil {
		b, _ := os.ReadFile(marker)
		t.Fatalf("the cgoguard on PATH ran: %s", b)
	}
	if code != checkExitPassed {
		t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	var res jsonResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || res.Checks[0].Outcome != "pass" {
		t.Fatalf("result %+v, %v\n%s", res, err, stdout.String())
	}
}

// The same with a real, renamed binary.
func TestCheckVetRenamedBinary(t *testing.T) {
	bin := cgoguardBinary(t)
	renamed := filepath.Join(t.TempDir(), "reliability-tool")
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(renamed, data, 0o755); err != nil {
		t.Fatal(err)
	}
	marker := fakeCgoguardOnPath(t)
	checklistFile, _ := filepath.Abs("testdata/check/vet.yaml")
	cmd := exec.Command(renamed, "check", "-q", "-f", checklistFile, "-o", "json=-", "./bad")
	cmd.Dir = "testdata/vet/src"
	out, err := cmd.Output()
	if _, serr := os.Stat(marker); serr == nil {
		t.Fatal("the cgoguard on PATH ran")
	}
	var res jsonResult
	if jerr := json.Unmarshal(out, &res); jerr != nil {
		t.Fatalf("%v: %v\n%s", err, jerr, out)
	}
	if c := res.Checks[0]; c.Outcome != "fail" || len(c.Findings) == 0 {
		t.Fatalf("vet check %+v, want the planted CG001 and CG024 findings", c)
	}
	if strings.Contains(string(out), "CG001 CG001") {
		t.Errorf("finding repeats its rule id:\n%s", out)
	}
}

// -o onto a FIFO and a symlink writes through them and leaves them what
// they were; the root-only test below adds a device node.
func TestCheckOutputOntoSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target.json")
	if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- nil
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- b
	}()
	var stdout, stderr bytes.Buffer
	code := run([]string{"check", "-q", "-f", "testdata/check/passing.yaml", "-o", "json=" + link, "-o", "json=" + fifo}, &stdout, &stderr)
	if code != checkExitPassed {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("symlink replaced: %v %v", fi.Mode(), err)
	}
	if b, _ := os.ReadFile(target); !bytes.Contains(b, []byte(`"checklist": "passing"`)) {
		t.Errorf("symlink target holds %q", b)
	}
	select {
	case b := <-got:
		if !bytes.Contains(b, []byte(`"checklist": "passing"`)) {
			t.Errorf("FIFO reader got %q", b)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nothing written to the FIFO")
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("FIFO replaced: %v %v", fi.Mode(), err)
	}
}

// TestCheckOutputOntoDeviceAsRoot: as root the atomic rename could replace
// a device node; -o writes through it instead. CI runs as root.
func TestCheckOutputOntoDeviceAsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI runs as root; this test needs root to create a device node")
		}
		t.Skip("needs root to create a device node")
	}
	dir := t.TempDir()
	null := filepath.Join(dir, "null")
	// A copy of /dev/null: character device 1,3.
	if err := syscall.Mknod(null, syscall.S_IFCHR|0o666, int(mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"check", "-q", "-f", "testdata/check/passing.yaml", "-o", "json=" + null, "-o", "junit=" + null}, &stdout, &stderr); code != checkExitPassed {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(null, &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFCHR || st.Rdev != mkdev(1, 3) {
		t.Fatalf("the device node became mode %o rdev %d", st.Mode, st.Rdev)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("temporary files left beside the device: %v", ents)
	}
}

func mkdev(major, minor uint64) uint64 {
	return (major&0xfff)<<8 | (minor & 0xff) | (minor&^0xff)<<12 | (major&^0xfff)<<32
}

// -o json=/dev/stdout works for a user who cannot create files in /dev,
// and counts as standard output (no text report mixed in).
func TestCheckOutputToDevStdout(t *testing.T) {
	bin := cgoguardBinary(t)
	cmd := exec.Command(bin, "check", "-q", "-f", "passing.yaml", "-o", "json=/dev/stdout")
	// A directory every user may enter (t.TempDir's parent is private).
	dir, err := os.MkdirTemp("", "cgoguard-stdout-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	cmd.Dir = dir
	// The checklist, readable by every user.
	data := []byte("checklist: passing\nchecks:\n  - {id: ONE, title: one passes, kind: command, with: {argv: [\"true\"]}}\n")
	if err := os.WriteFile(filepath.Join(dir, "passing.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// Run as nobody: as root the old code could create files in /dev.
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var res jsonResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, stdout.String())
	}
}

// Terminal escape sequences in check output and titles reach the text
// report escaped; the JSON report keeps them exactly.
func TestCheckEscapesTerminalSequences(t *testing.T) {
	var stdout, stderr bytes.Buffer
	run([]string{"check", "-f", "testdata/check/hostile.yaml"}, &stdout, &stderr)
	for name, out := range map[string]string{"stdout": stdout.String(), "stderr": stderr.String()} {
		for _, bad := range []string{"\x1b", "\x07", "\r"} {
			if strings.Contains(out, bad) {
				t.Errorf("%s holds a raw %q:\n%s", name, bad, out)
			}
		}
	}
	if !strings.Contains(stdout.String(), `\x1b]0;pwned\x07`) {
		t.Errorf("the escaped sequence is not shown:\n%s", stdout.String())
	}
	stdout.Reset()
	run([]string{"check", "-q", "-f", "testdata/check/hostile.yaml", "-o", "json=-"}, &stdout, &stderr)
	var res jsonResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Checks[0].Evidence.Stdout, "\x1b]0;pwned\x07") {
		t.Errorf("JSON evidence changed: %q", res.Checks[0].Evidence.Stdout)
	}
}

// An unused --var is reported, not ignored.
func TestCheckWarnsAboutUnusedVars(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"check", "-q", "-f", "testdata/check/mixed.yaml", "--var", "WORD=hi", "--var", "SERVCE=./cmd/api", "-list"}, &stdout, &stderr)
	if code != checkExitPassed {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "--var SERVCE") || strings.Contains(stderr.String(), "--var WORD") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}
