//go:build cgo

package cgoguard_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/internal/cfixture"
)

// A crash in C becomes an error, and the module is quarantined until Reset.
func Example() {
	m, err := cgoguard.New("example-codec")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()

	// cfixture.Segv is a C function int fn(void *arg) that writes through
	// arg: with NULL it dereferences NULL.
	_, err = m.Call(context.Background(), cfixture.Segv, nil)
	var crash *cgoguard.CrashError
	if errors.As(err, &crash) {
		fmt.Println(cgoguard.SignalName(crash.Signal), cgoguard.CodeName(crash.Signal, crash.Code), crash.Frames[0].Function)
	}
	fmt.Println(m.State())
	_, err = m.Call(context.Background(), cfixture.Empty, nil)
	fmt.Println(errors.Is(err, cgoguard.ErrQuarantined))
	fmt.Println(m.Reset(), m.State())
	// Output:
	// SIGSEGV SEGV_MAPERR fx_segv
	// quarantined
	// true
	// <nil> serving
}

// A negative return value is a *CError that errors.Is understands.
func ExampleCError() {
	m, _ := cgoguard.New("example-files")
	defer m.Close()
	// cfixture.Errno returns -ENOENT when arg is NULL.
	rc, err := m.Call(context.Background(), cfixture.Errno, nil)
	fmt.Println(rc, errors.Is(err, fs.ErrNotExist))
	// Output: -2 true
}

// Cleanup frees a C resource exactly once: Close, the GC or shutdown.
func ExampleNewCleanup() {
	type buffer struct{ cl *cgoguard.Cleanup }
	b := &buffer{}
	p := cfixture.Int(0) // C memory owned by b
	b.cl = cgoguard.NewCleanup(b, func() { cfixture.Free(p) })
	fmt.Println(b.cl.Run(), b.cl.Run())
	// Output: true false
}
