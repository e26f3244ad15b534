//go:build !cgo

package observe_test

import (
	"errors"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/observe"
)

func TestWithoutCgo(t *testing.T) {
	if _, err := cgoguard.New("x", observe.Tracing(nil)); err == nil {
		t.Errorf("New succeeded without cgo")
	}
	reg := prometheus.NewRegistry()
	if err := observe.Register(reg); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	observe.HealthHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 200 {
		t.Errorf("/readyz without modules: %d %s", rec.Code, rec.Body)
	}
	// The status file is plain Go: it works without cgo.
	dir := t.TempDir()
	w, err := observe.StartStatus(observe.WithStatusDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	s, err := observe.ReadStatus(dir, os.Getpid())
	if err != nil || s.Stale || len(s.Modules) != 0 {
		t.Errorf("ReadStatus: %+v, %v", s, err)
	}
	if _, err := observe.ReadStatusC(""); !errors.Is(err, observe.ErrNotSupported) {
		t.Errorf("C reader without cgo: %v", err)
	}
	if err := w.Stop(); err != nil {
		t.Fatal(err)
	}
}
