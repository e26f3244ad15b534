//go:build !cgo

package isolate_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/arena"
	"github.com/cgoguard/cgoguard/isolate"
)

func TestWithoutCgo(t *testing.T) {
	if _, err := isolate.New("x"); !errors.Is(err, isolate.ErrNotSupported) {
		t.Fatalf("New: %v", err)
	}
	if _, err := cgoguard.New("x", cgoguard.WithIsolation(isolate.Isolator())); err == nil {
		t.Fatal("cgoguard.New with isolation succeeded without cgo")
	}
	if _, err := cgoguard.New("x", cgoguard.WithIsolation(isolate.WithWorkers(1), isolate.WithCallTimeout(time.Second))); err == nil {
		t.Fatal("cgoguard.New with isolate options succeeded without cgo")
	}
	var p *isolate.Pool
	if _, err := p.Call(context.Background(), "f", arena.Ref{}); !errors.Is(err, isolate.ErrNotSupported) {
		t.Fatalf("Call: %v", err)
	}
	isolate.Main() // not a worker: returns
}
