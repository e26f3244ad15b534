//go:build cgo

package observe_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/internal/cfixture"
	"github.com/cgoguard/cgoguard/observe"
	"github.com/cgoguard/cgoguard/observe/internal/obsfixture"
)

func findModule(s *observe.Status, name string) *observe.ModuleStatus {
	for i := range s.Modules {
		if s.Modules[i].Name == name {
			return &s.Modules[i]
		}
	}
	return nil
}

func TestStatusFileInProcess(t *testing.T) {
	dir := t.TempDir()
	m := newModule(t, "")
	callN(t, m, 5, cfixture.Empty, nil)
	callN(t, m, 2, cfixture.Errno, cInt(t, 13))
	w, err := observe.StartStatus(observe.WithStatusDir(dir), observe.WithStatusInterval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := observe.StartStatus(observe.WithStatusDir(dir)); !errors.Is(err, observe.ErrStatusRunning) {
		t.Errorf("second StartStatus: %v, want ErrStatusRunning", err)
	}
	if w.Path() != filepath.Join(dir, "cgoguard-"+itoa(os.Getpid())+".status") {
		t.Errorf("path %s", w.Path())
	}
	s, err := observe.ReadStatus(dir, os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	ms := findModule(s, m.Name())
	if ms == nil || ms.OK != 5 || ms.Errors != 2 || ms.State != cgoguard.Closed || ms.StateName != "serving" {
		t.Fatalf("module status %+v", ms)
	}
	if s.Stale || s.PID != os.Getpid() || s.Interval != time.Hour || time.Since(s.Updated) > time.Minute {
		t.Errorf("status %+v", s)
	}
	// Changes show after Update (or the next tick).
	callN(t, m, 1, cfixture.Segv, cfixture.BadAddress())
	w.Update()
	s, err = observe.ReadStatus(dir, os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if ms := findModule(s, m.Name()); ms == nil || ms.Crashes != 1 || ms.State != cgoguard.Quarantined {
		t.Errorf("after a crash: %+v", ms)
	}
	// The C reader (cg_status_read) sees the same record, inside a guarded
	// call too.
	rc, err := newModule(t, "_reader").Call(t.Context(), obsfixture.StatusModules, nil)
	if err != nil || rc != len(s.Modules) {
		t.Errorf("cg_status_read(NULL) in a guarded call = %d, %v; want %d modules", rc, err, len(s.Modules))
	}
	cs, err := observe.ReadStatusC("")
	if err != nil {
		t.Fatal(err)
	}
	if got := findModule(cs, m.Name()); got == nil || *got != *findModule(s, m.Name()) || cs.Stale {
		t.Errorf("C reader %+v, Go reader %+v", got, findModule(s, m.Name()))
	}
	if err := w.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(w.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("file after Stop: %v", err)
	}
	if _, err := observe.ReadStatusC(""); !errors.Is(err, observe.ErrNoStatus) {
		t.Errorf("C reader after Stop: %v, want ErrNoStatus", err)
	}
	if err := w.Stop(); err == nil {
		t.Errorf("second Stop succeeded")
	}
	// StartStatus works again after Stop.
	w2, err := observe.StartStatus(observe.WithStatusDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	w2.Stop()
}

func itoa(n int) string { return string(appendInt(nil, n)) }

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

func TestStatusSecondProcess(t *testing.T) {
	dir := t.TempDir()
	pid, stdin, cmd := startChild(t, dir)
	s, err := observe.ReadStatus(dir, pid)
	if err != nil {
		t.Fatal(err)
	}
	if s.Stale || s.PID != pid || len(s.Modules) != 2 {
		t.Fatalf("child status %+v", s)
	}
	want := []observe.ModuleStatus{
		{Name: "child-module", State: cgoguard.Closed, StateName: "serving", OK: 3, Errors: 1, Slot: 0},
		{Name: "child-quarantined", State: cgoguard.Quarantined, StateName: "quarantined", Crashes: 1, Slot: 1},
	}
	for i, w := range want {
		if s.Modules[i] != w {
			t.Errorf("module %d: %+v, want %+v", i, s.Modules[i], w)
		}
	}
	// The C reader reads another process's file too.
	cs, err := observe.ReadStatusC(s.Path)
	if err != nil || cs.Stale || len(cs.Modules) != 2 || cs.Modules[0] != want[0] {
		t.Errorf("C reader: %+v, %v", cs, err)
	}
	list, err := observe.ListStatus(dir)
	if err != nil || len(list) != 1 || list[0].PID != pid {
		t.Errorf("ListStatus: %v, %v", list, err)
	}
	// A clean exit removes the file.
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	if _, err := observe.ReadStatus(dir, pid); !errors.Is(err, observe.ErrNoStatus) {
		t.Errorf("after a clean exit: %v, want ErrNoStatus", err)
	}
}

func TestStatusStaleAfterKill(t *testing.T) {
	dir := t.TempDir()
	pid, _, cmd := startChild(t, dir)
	cmd.Process.Kill()
	cmd.Wait()
	s, err := observe.ReadStatus(dir, pid)
	if err != nil {
		t.Fatalf("file of a killed process: %v", err)
	}
	if !s.Stale {
		t.Errorf("status of killed pid %d not stale", pid)
	}
	if cs, err := observe.ReadStatusC(s.Path); err != nil || !cs.Stale {
		t.Errorf("C reader: stale %v, %v", cs != nil && cs.Stale, err)
	}
	list, err := observe.ListStatus(dir)
	if err != nil || len(list) != 1 || !list[0].Stale {
		t.Errorf("ListStatus: %+v, %v", list, err)
	}
}

func TestStatusBadFiles(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		content []byte
		want    error
	}{
		{"short", []byte("CGSTATUS"), observe.ErrBadStatus},
		{"bad magic", make([]byte, 128+64*128), observe.ErrBadStatus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name+".status")
			if err := os.WriteFile(p, tt.content, 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := observe.ReadStatusFile(p); !errors.Is(err, tt.want) {
				t.Errorf("Go reader: %v, want %v", err, tt.want)
			}
			if _, err := observe.ReadStatusC(p); !errors.Is(err, tt.want) {
				t.Errorf("C reader: %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := observe.ReadStatus(dir, 1<<30); !errors.Is(err, observe.ErrNoStatus) {
		t.Errorf("missing file: %v", err)
	}
	for _, o := range []observe.StatusOption{observe.WithStatusDir(""), observe.WithStatusInterval(0), nil} {
		if w, err := observe.StartStatus(o); err == nil {
			w.Stop()
			t.Errorf("StartStatus accepted a bad option")
		}
	}
	if _, err := observe.StartStatus(observe.WithStatusDir(filepath.Join(dir, "missing"))); err == nil {
		t.Errorf("StartStatus in a missing directory succeeded")
	}
}

func TestStatusLayout(t *testing.T) {
	if got := observe.StatusLayoutSizes(); got[0] != got[1] {
		t.Errorf("C cg_status is %d bytes, Go layout %d", got[0], got[1])
	}
}
