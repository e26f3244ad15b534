package include

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	paths, err := Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 4 || filepath.Base(paths[0]) != "cgoguard.h" {
		t.Fatalf("paths %v", paths)
	}
	for _, p := range paths {
		got, _ := os.ReadFile(p)
		want, err := File(filepath.Base(p))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s differs from the embedded header", p)
		}
	}
	main, _ := File("cgoguard.h")
	for _, sym := range []string{"cg_set_error", "cg_callback_begin", "cg_trace_id"} {
		if !bytes.Contains(main, []byte(sym)) {
			t.Errorf("cgoguard.h lacks %s", sym)
		}
	}
	if _, err := Write(filepath.Join(dir, "missing")); err == nil {
		t.Error("Write into a missing directory succeeded")
	}
	if _, err := File("nope.h"); err == nil {
		t.Error("File of an unknown header succeeded")
	}
}
