//go:build cgo && linux

package chaos_test

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/chaos"
	"github.com/cgoguard/cgoguard/internal/cfixture"
	"github.com/cgoguard/cgoguard/isolate"
)

// BenchmarkIsolatedFailpoints interleaves, in every iteration, batches of
// calls of the empty C function of isolated modules (one worker each):
//
//	linked    package chaos linked, no failpoint set
//	unhooked  the same module with the hook removed: the call path of a
//	          program that does not link package chaos
//	armed     a module whose failpoint never fires ("off"): the slow
//	          path's lookup, the call as usual
//	errno     a module whose failpoint fires on every call (errno(EIO)):
//	          the ticket, the fault in the request, the action in the
//	          worker instead of the function
//	cerror    the linked module calling a C function that fails by itself
//	          (returns -ENOENT): the same failure accounting without a
//	          failpoint, the baseline of errno
//
// and reports the median ns per call of each and the median per-iteration
// ratios.
func BenchmarkIsolatedFailpoints(b *testing.B) {
	const batch = 200
	mk := func(name string) *cgoguard.Module {
		m, err := cgoguard.New(b.Name()+"-"+name, cgoguard.WithIsolation(isolate.Isolator(isolate.WithWorkers(1), isolate.WithSpares(0))))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { m.Close() })
		return m
	}
	linked, armed, errno := mk("linked"), mk("armed"), mk("errno")
	if err := chaos.Set(`"` + armed.Name() + `"=off;"` + errno.Name() + `"=errno(EIO)`); err != nil {
		b.Fatal(err)
	}
	defer chaos.Clear()
	ctx := context.Background()
	hook := chaos.Hook()
	samples := map[string][]float64{}
	ratios := map[string][]float64{}
	run := func(name string, m *cgoguard.Module, want error) float64 {
		fn := cfixture.Empty
		if want == syscall.ENOENT {
			fn = cfixture.Errno
		}
		start := time.Now()
		for j := 0; j < batch; j++ {
			if _, err := m.Call(ctx, fn, nil); !errors.Is(err, want) {
				b.Fatalf("%s: %v", name, err)
			}
		}
		ns := float64(time.Since(start).Nanoseconds()) / batch
		samples[name] = append(samples[name], ns)
		return ns
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l := run("linked", linked, nil)
		cgoguard.InstallChaosHook(nil)
		u := run("unhooked", linked, nil)
		cgoguard.InstallChaosHook(hook)
		a := run("armed", armed, nil)
		e := run("errno", errno, syscall.EIO)
		c := run("cerror", linked, syscall.ENOENT)
		ratios["linked/unhooked"] = append(ratios["linked/unhooked"], l/u)
		ratios["armed/linked"] = append(ratios["armed/linked"], a/l)
		ratios["errno/linked"] = append(ratios["errno/linked"], e/l)
		ratios["errno/cerror"] = append(ratios["errno/cerror"], e/c)
	}
	b.StopTimer()
	for name, s := range samples {
		b.ReportMetric(median(s), name+"-ns/call")
	}
	for name, r := range ratios {
		b.ReportMetric(median(r), name)
	}
}
