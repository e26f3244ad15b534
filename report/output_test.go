package report_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/report"
)

func small() *checklist.Result {
	return &checklist.Result{Checklist: "small", Checks: []checklist.CheckResult{{ID: "A", Title: "a", Outcome: checklist.Pass}}}
}

func TestOutputWriteFiles(t *testing.T) {
	dir := t.TempDir()
	json := report.Output{Format: "json"}

	t.Run("new file in new directories", func(t *testing.T) {
		o := json
		o.Path = filepath.Join(dir, "a", "b", "r.json")
		if err := o.Write(small(), io.Discard); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(o.Path); err != nil || fi.Mode().Perm() != 0o644 {
			t.Fatalf("%v %v", fi, err)
		}
	})
	t.Run("regular file replaced atomically", func(t *testing.T) {
		o := json
		o.Path = filepath.Join(dir, "r.json")
		os.WriteFile(o.Path, []byte("old"), 0o600)
		var before syscall.Stat_t
		syscall.Stat(o.Path, &before)
		if err := o.Write(small(), io.Discard); err != nil {
			t.Fatal(err)
		}
		var after syscall.Stat_t
		syscall.Stat(o.Path, &after)
		if before.Ino == after.Ino {
			t.Error("the file was rewritten in place, not replaced")
		}
		if b, _ := os.ReadFile(o.Path); !bytes.Contains(b, []byte(`"small"`)) {
			t.Errorf("content %q", b)
		}
	})
	t.Run("symlink kept, target written", func(t *testing.T) {
		target := filepath.Join(dir, "target.json")
		os.WriteFile(target, []byte(strings.Repeat("x", 10000)), 0o644)
		link := filepath.Join(dir, "link.json")
		os.Symlink(target, link)
		o := json
		o.Path = link
		if err := o.Write(small(), io.Discard); err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
			t.Error("symlink replaced")
		}
		if b, _ := os.ReadFile(target); !bytes.HasPrefix(b, []byte("{")) || bytes.Contains(b, []byte("xxx")) {
			t.Errorf("target %q", b)
		}
	})
	t.Run("dangling symlink creates its target", func(t *testing.T) {
		link := filepath.Join(dir, "dangling.json")
		os.Symlink(filepath.Join(dir, "made.json"), link)
		o := json
		o.Path = link
		if err := o.Write(small(), io.Discard); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, "made.json")); err != nil {
			t.Error(err)
		}
	})
	t.Run("fifo written through", func(t *testing.T) {
		fifo := filepath.Join(dir, "fifo")
		syscall.Mkfifo(fifo, 0o600)
		got := make(chan []byte)
		go func() {
			f, _ := os.Open(fifo)
			b, _ := io.ReadAll(f)
			f.Close()
			got <- b
		}()
		o := json
		o.Path = fifo
		if err := o.Write(small(), io.Discard); err != nil {
			t.Fatal(err)
		}
		select {
		case b := <-got:
			if !bytes.Contains(b, []byte(`"small"`)) {
				t.Errorf("reader got %q", b)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("reader got nothing")
		}
		if fi, _ := os.Lstat(fifo); fi.Mode()&os.ModeNamedPipe == 0 {
			t.Error("FIFO replaced")
		}
	})
	t.Run("directory refused", func(t *testing.T) {
		o := json
		o.Path = dir
		if err := o.Write(small(), io.Discard); err == nil || !strings.Contains(err.Error(), "is a directory") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("standard output", func(t *testing.T) {
		var b bytes.Buffer
		o := json
		o.Path = "-"
		if err := o.Write(small(), &b); err != nil || !bytes.Contains(b.Bytes(), []byte(`"small"`)) {
			t.Fatalf("%v %q", err, b.String())
		}
	})
}

// The text report escapes what a terminal acts on; JSON keeps it exact.
func TestTextEscapesControlCharacters(t *testing.T) {
	hostile := "\x1b]0;pwned\x07\x1b[2J\rover \u202eevil \u009b1m"
	r := &checklist.Result{Checklist: "x\x1b[31m", Packages: []string{"./\x1b[2J"}, Checks: []checklist.CheckResult{{
		ID: "A\x1b[1m", Title: "title " + hostile, Outcome: checklist.Fail, Message: "msg " + hostile,
		Prevents: hostile, Fix: hostile, Attempts: 1,
		Evidence: checklist.Evidence{Command: "cmd " + hostile, Stdout: "out " + hostile + "\nsecond"},
	}}}
	var b bytes.Buffer
	if err := (report.Text{}).Write(&b, r); err != nil {
		t.Fatal(err)
	}
	p := report.NewProgress(&b, false)
	p.Event(checklist.Event{Type: checklist.CheckFinished, Check: &checklist.Check{ID: "A\x1b[1m", Title: hostile}, Result: &r.Checks[0], Done: 1, Total: 1})
	out := b.String()
	for _, bad := range []string{"\x1b", "\x07", "\r", "\u202e", "\u009b"} {
		if strings.Contains(out, bad) {
			t.Errorf("text report holds %q:\n%s", bad, out)
		}
	}
	if !strings.Contains(out, `\x1b]0;pwned\x07`) {
		t.Errorf("escaped form missing:\n%s", out)
	}
	var j bytes.Buffer
	if err := mustLookup(t, "json").Write(&j, r); err != nil {
		t.Fatal(err)
	}
	var back checklist.Result
	if err := json.Unmarshal(j.Bytes(), &back); err != nil || back.Checks[0].Title != "title "+hostile {
		t.Fatalf("JSON changed the title: %q, %v", back.Checks[0].Title, err)
	}
}

// Evidence cut short points to where the rest is, or says how to keep it.
func TestTextSaysWhereTheRestOfTheEvidenceIs(t *testing.T) {
	r := &checklist.Result{Checklist: "x", Checks: []checklist.CheckResult{{
		ID: "A", Title: "a", Outcome: checklist.Fail, Attempts: 1,
		Evidence: checklist.Evidence{Stdout: strings.Repeat("line\n", 20)},
	}}}
	tests := []struct {
		outputs []report.Output
		want    string
	}{
		{nil, "... 8 more line(s); -o json=FILE keeps all of it"},
		{[]report.Output{{Format: "sarif", Path: "o.sarif"}, {Format: "junit", Path: "out/j.xml"}}, "... 8 more line(s) in out/j.xml"},
		{[]report.Output{{Format: "junit", Path: "j.xml"}, {Format: "json", Path: "r.json"}}, "... 8 more line(s) in r.json"},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		_ = report.Text{Outputs: tt.outputs}.Write(&b, r)
		if !strings.Contains(b.String(), tt.want) {
			t.Errorf("outputs %v: report lacks %q:\n%s", tt.outputs, tt.want, b.String())
		}
	}
}

// FuzzParseOutput: ParseOutput never panics; what it accepts names a
// registered format and a usable path, and parses back to itself.
func FuzzParseOutput(f *testing.F) {
	for _, s := range []string{"json=out/r.json", "junit", "=x", "json=", "html=x", "sarif=a=b", "text=-", "json=\x00", "prometheus=/dev/stdout"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := report.ParseOutput(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "cgoguard: ") {
				t.Fatalf("error %q lacks the cgoguard: prefix", err)
			}
			return
		}
		if _, err := report.Lookup(o.Format); err != nil {
			t.Fatalf("%q: accepted unknown format %q", s, o.Format)
		}
		if o.Path == "" || strings.IndexByte(o.Path, 0) >= 0 {
			t.Fatalf("%q: accepted path %q", s, o.Path)
		}
		back, err := report.ParseOutput(o.Format + "=" + o.Path)
		if err != nil || back != o {
			t.Fatalf("%q: %+v does not parse back (%+v, %v)", s, o, back, err)
		}
	})
}
