//go:build cgo

package probe

import (
	"os"
	"testing"

	"github.com/cgoguard/cgoguard/internal/cfixture"
)

// BenchmarkProbedCall is the cost a probe adds to each call of a probed
// function: the same loop of cgo calls to an empty C function (fx_empty),
// unprobed, probed (uprobe + uretprobe counting into the BPF maps), and
// probed with trace events (one ring-buffer record per call). Run the
// three in one process, several counts, and compare the ratios:
//
//	go test ./probe -run '^$' -bench ProbedCall -count 5
func BenchmarkProbedCall(b *testing.B) {
	b.Run("unprobed", func(b *testing.B) {
		for b.Loop() {
			cfixture.RawEmpty()
		}
	})
	b.Run("probed", func(b *testing.B) { benchProbed(b) })
	b.Run("probed-trace", func(b *testing.B) { benchProbed(b, WithTrace()) })
}

func benchProbed(b *testing.B, opts ...Option) {
	p, err := Open(os.Getpid(), append(opts, WithFunctions("fx_empty"))...)
	if err != nil {
		skipIfCannotProbe(b, err)
		b.Fatal(err)
	}
	defer p.Close()
	if p.ring != nil {
		go func() {
			for {
				if _, err := p.ReadEvent(); err != nil {
					return
				}
			}
		}()
	}
	for b.Loop() {
		cfixture.RawEmpty()
	}
	b.StopTimer()
	s, err := p.Snapshot()
	if err != nil {
		b.Fatal(err)
	}
	if len(s.Functions) == 0 || s.Functions[0].Calls == 0 {
		b.Fatalf("the probe counted no call: %+v", s.Functions)
	}
}
