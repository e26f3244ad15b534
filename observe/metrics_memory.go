package observe

// The metrics of the memory and bridge packages: cmem's tracked C heap,
// the arenas and the C-to-Go bridges of this process.

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cgoguard/cgoguard/arena"
	"github.com/cgoguard/cgoguard/bridge"
	"github.com/cgoguard/cgoguard/cmem"
)

var (
	descCmemBytes = prometheus.NewDesc("cgoguard_cmem_live_bytes",
		"Bytes of C memory allocated through package cmem and not yet freed.", nil, nil)
	descCmemAllocs = prometheus.NewDesc("cgoguard_cmem_live_allocations",
		"C allocations made through package cmem and not yet freed.", nil, nil)
	descArenaUsed = prometheus.NewDesc("cgoguard_arena_used_bytes",
		"Bytes allocated in the current generation of each open arena (padding included).",
		[]string{"arena"}, nil)
	descBridgeMessages = prometheus.NewDesc("cgoguard_bridge_messages_total",
		"Messages through each open C-to-Go bridge by result (delivered, dropped).",
		[]string{"bridge", "result"}, nil)
)

func describeMemory(ch chan<- *prometheus.Desc) {
	ch <- descCmemBytes
	ch <- descCmemAllocs
	ch <- descArenaUsed
	ch <- descBridgeMessages
}

func collectMemory(ch chan<- prometheus.Metric) {
	allocs, bytes := cmem.Live()
	send(ch, descCmemBytes, prometheus.GaugeValue, float64(bytes))
	send(ch, descCmemAllocs, prometheus.GaugeValue, float64(allocs))
	// Arenas or bridges opened under one name are summed into one series.
	used := map[string]int64{}
	var arenas []string
	for _, a := range arena.Snapshot() {
		if _, ok := used[a.Name]; !ok {
			arenas = append(arenas, a.Name)
		}
		used[a.Name] += a.Stats.Used
	}
	for _, n := range arenas {
		send(ch, descArenaUsed, prometheus.GaugeValue, float64(used[n]), n)
	}
	type counts struct{ delivered, dropped uint64 }
	msgs := map[string]*counts{}
	var bridges []string
	for _, b := range bridge.Snapshot() {
		c := msgs[b.Name]
		if c == nil {
			c = &counts{}
			msgs[b.Name] = c
			bridges = append(bridges, b.Name)
		}
		c.delivered += b.Stats.Delivered
		c.dropped += b.Stats.Dropped
	}
	for _, n := range bridges {
		send(ch, descBridgeMessages, prometheus.CounterValue, float64(msgs[n].delivered), n, "delivered")
		send(ch, descBridgeMessages, prometheus.CounterValue, float64(msgs[n].dropped), n, "dropped")
	}
}
