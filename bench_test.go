//go:build cgo

package cgoguard_test

import (
	"context"
	"testing"
	"time"
	"unsafe"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/internal/cfixture"
)

func BenchmarkRawCgoCall(b *testing.B) {
	for i := 0; i < b.N; i++ {
		cfixture.RawEmpty()
	}
}

// BenchmarkRawCgoCallArg is the same raw call passing its void* argument
// from a variable, as code calling C functions normally does (cgo checks
// the pointer).
func BenchmarkRawCgoCallArg(b *testing.B) {
	var arg unsafe.Pointer
	for i := 0; i < b.N; i++ {
		cfixture.RawEmptyArg(arg)
	}
}

func benchCall(b *testing.B, opts ...cgoguard.Option) {
	m, err := cgoguard.New(b.Name(), opts...)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Call(ctx, cfixture.Empty, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCall(b *testing.B)           { benchCall(b) }
func BenchmarkCallMetricsOff(b *testing.B) { benchCall(b, cgoguard.WithMetrics(cgoguard.MetricsOff)) }
func BenchmarkCallHistogram(b *testing.B) {
	benchCall(b, cgoguard.WithMetrics(cgoguard.MetricsHistogram))
}

// BenchmarkCaughtCrash measures one caught SIGSEGV end to end: the fault,
// the handler's unwinding, the jump back, the CrashError with symbolised
// frames (cached per PC) and the Go stack.
func BenchmarkCaughtCrash(b *testing.B) {
	m, err := cgoguard.New(b.Name(), cgoguard.WithCrashPolicy(cgoguard.Restart))
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Call(ctx, cfixture.Segv, nil); err == nil {
			b.Fatal("no crash")
		}
	}
}

// BenchmarkCallWithTimeout is a call with a deadline: it runs on a worker
// goroutine so the caller can return at the deadline.
func BenchmarkCallWithTimeout(b *testing.B) {
	benchCall(b, cgoguard.WithTimeout(time.Second))
}

func BenchmarkCallParallel(b *testing.B) {
	m, err := cgoguard.New(b.Name())
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			m.Call(ctx, cfixture.Empty, nil)
		}
	})
}

func BenchmarkRawCgoCallParallel(b *testing.B) {
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			cfixture.RawEmpty()
		}
	})
}
