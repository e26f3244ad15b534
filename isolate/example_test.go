//go:build cgo && linux

package isolate_test

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unsafe"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/arena"
	"github.com/cgoguard/cgoguard/isolate"
	"github.com/cgoguard/cgoguard/isolate/internal/fixture"
)

// A pool runs registered C functions in worker processes; the argument is
// a block of the pool's arena that the worker reads and writes in place.
// A crash kills one worker, which is replaced.
func ExampleNew() {
	p, err := isolate.New("example", isolate.WithWorkers(2))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()

	ref, buf, _ := p.Arena().Alloc(fixture.AddArgSize, 8)
	arg := (*fixture.AddArg)(unsafe.Pointer(&buf[0]))
	arg.A, arg.B = 40, 2
	rc, err := p.Call(context.Background(), fixture.Add, ref) // int fx_add(void *arg)
	fmt.Println(rc, arg.Sum, err)

	_, err = p.Call(context.Background(), fixture.Segv, arena.Ref{})
	var crash *cgoguard.CrashError
	if errors.As(err, &crash) {
		fmt.Println(cgoguard.SignalName(crash.Signal), crash.Frames[0].Function)
	}
	rc, err = p.Call(context.Background(), fixture.Add, ref)
	fmt.Println(rc, err)
	// Output:
	// 42 42 <nil>
	// SIGSEGV fx_segv
	// 42 <nil>
}

// Moving a module out of process: one option to cgoguard.New; the callers
// keep calling Module.Call with C function pointers.
func ExampleIsolator() {
	m, err := cgoguard.New("example-module",
		cgoguard.WithIsolation(isolate.Isolator(isolate.WithWorkers(1))),
		cgoguard.WithBreaker(cgoguard.BreakerConfig{ConsecutiveFailures: 3}))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	p, _ := isolate.PoolOf(m)
	_, buf, _ := p.Arena().Alloc(fixture.AddArgSize, 8)
	arg := (*fixture.AddArg)(unsafe.Pointer(&buf[0]))
	arg.A, arg.B = 1, 2
	rc, err := m.Call(context.Background(), fixture.AddFn, unsafe.Pointer(arg))
	fmt.Println(rc, err)
	// Output: 3 <nil>
}

// The options of a pool go to cgoguard.WithIsolation directly: moving a
// module out of process is one option to cgoguard.New, and the callers
// keep calling Module.Call.
func Example_withIsolation() {
	m, err := cgoguard.New("example-options",
		cgoguard.WithIsolation(isolate.WithWorkers(2), isolate.WithCallTimeout(time.Second)))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	p, _ := isolate.PoolOf(m)
	_, buf, _ := p.Arena().Alloc(fixture.AddArgSize, 8)
	arg := (*fixture.AddArg)(unsafe.Pointer(&buf[0]))
	arg.A, arg.B = 40, 2
	rc, err := m.Call(context.Background(), fixture.AddFn, unsafe.Pointer(arg))
	fmt.Println(rc, err, p.Stats().Workers)

	// An Isolator and isolate options do not mix.
	_, err = cgoguard.New("example-mixed",
		cgoguard.WithIsolation(isolate.Isolator(isolate.WithWorkers(2)), isolate.WithCallTimeout(time.Second)))
	fmt.Println(err != nil)
	// Output:
	// 42 <nil> 2
	// true
}
