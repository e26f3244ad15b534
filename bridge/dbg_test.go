package bridge_test

import (
	"context"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard/bridge"
	"github.com/cgoguard/cgoguard/bridge/internal/cproducer"
)

func TestDbgSplit(t *testing.T) {
	const n = 1 << 20
	for r := 0; r < 3; r++ {
		br, _ := bridge.New(n, bridge.WithMaxMessageSize(48))
		t0 := time.Now()
		run, _ := cproducer.Start(br.CPtr(), cproducer.Config{Threads: 1, PerThread: n, Mode: cproducer.Flood, Size: 16})
		run.Wait()
		t1 := time.Now()
		var sum uint64
		got := 0
		for got < n {
			k, _ := br.Drain(context.Background(), func(m []byte) { sum += uint64(m[0]) })
			got += k
		}
		t2 := time.Now()
		t.Logf("produce %.1f ns/msg, consume %.1f ns/msg", float64(t1.Sub(t0))/n, float64(t2.Sub(t1))/n)
		br.Close()
	}
}
