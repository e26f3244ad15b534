package observe

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sort"
	"time"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/arena"
	"github.com/cgoguard/cgoguard/bridge"
	"github.com/cgoguard/cgoguard/cmem"
)

// Snapshot is the state of every cgoguard part of the process, as
// /debug/cgoguard serves it.
type Snapshot struct {
	Time    time.Time        `json:"time"`
	PID     int              `json:"pid"`
	Ready   bool             `json:"ready"`
	Signals SignalHealth     `json:"signals"`
	Modules []ModuleSnapshot `json:"modules"`
	// C holds the key/values of C snapshot callbacks registered for names
	// that are not open modules.
	C      map[string]map[string]string `json:"c,omitempty"`
	Memory MemorySnapshot               `json:"memory"`
}

// SignalHealth says whether cgoguard's signal handlers are still installed.
type SignalHealth struct {
	Healthy bool   `json:"healthy"`
	Error   string `json:"error,omitempty"`
}

// ModuleSnapshot is one module in a Snapshot.
type ModuleSnapshot struct {
	Name      string            `json:"name"`
	State     string            `json:"state"`
	Reason    string            `json:"reason,omitempty"`
	Calls     map[string]uint64 `json:"calls"`
	Crashes   map[string]uint64 `json:"crashes_by_signal"`
	InFlight  int64             `json:"inflight"`
	Abandoned int64             `json:"abandoned"`
	Durations *DurationSummary  `json:"durations,omitempty"`
	Recent    []CrashSnapshot   `json:"recent_crashes"`
	LastError string            `json:"last_error,omitempty"`
	Created   time.Time         `json:"created"`
	Resets    int               `json:"resets"`
	// C holds what the module's C snapshot callbacks reported.
	C map[string]string `json:"c,omitempty"`
	// CTruncated is set when the callbacks reported more than
	// CG_SNAPSHOT_MAX_KEYS pairs.
	CTruncated bool `json:"c_truncated,omitempty"`
}

// DurationSummary is the count and sum of a module's duration histogram.
type DurationSummary struct {
	Count      uint64  `json:"count"`
	SumSeconds float64 `json:"sum_seconds"`
}

// CrashSnapshot is a recent crash.
type CrashSnapshot struct {
	Time   time.Time `json:"time"`
	Signal string    `json:"signal"`
	Code   string    `json:"code"`
	Addr   string    `json:"addr"`
	PC     string    `json:"pc"`
	Frames []string  `json:"frames"`
}

// MemorySnapshot is the C memory that cgoguard's packages track.
type MemorySnapshot struct {
	CmemLiveBytes       int64         `json:"cmem_live_bytes"`
	CmemLiveAllocations int64         `json:"cmem_live_allocations"`
	Arenas              []arena.Info  `json:"arenas"`
	Bridges             []bridgeState `json:"bridges"`
}

type bridgeState struct {
	Name      string `json:"name"`
	Capacity  int    `json:"capacity"`
	Delivered uint64 `json:"delivered"`
	Dropped   uint64 `json:"dropped"`
	Pushed    uint64 `json:"pushed"`
}

// NotReady is one reason /readyz fails.
type NotReady struct {
	Module string `json:"module,omitempty"`
	State  string `json:"state,omitempty"`
	Reason string `json:"reason"`
}

// Readiness is the /readyz body.
type Readiness struct {
	Ready bool `json:"ready"`
	// Modules maps every open module to its state, ready or not:
	// "serving" (healthy), "breaker_open", "breaker_half_open" or
	// "quarantined" (cgoguard.State's String).
	Modules  map[string]string `json:"modules"`
	NotReady []NotReady        `json:"not_ready,omitempty"`
}

// CheckReady reports whether every open module serves (none quarantined or
// with its breaker open, no isolated module whose workers all fail to
// start) and cgoguard's signal handlers are in place, and why not.
func CheckReady() Readiness {
	r := Readiness{Ready: true, Modules: map[string]string{}}
	if err := cgoguard.SignalsHealthy(); err != nil && !errors.Is(err, cgoguard.ErrNotSupported) {
		r.NotReady = append(r.NotReady, NotReady{Reason: err.Error()})
	}
	for _, m := range cgoguard.Modules() {
		st := m.State()
		r.Modules[m.Name()] = st.String()
		switch st {
		case cgoguard.Quarantined, cgoguard.Open:
			r.NotReady = append(r.NotReady, NotReady{Module: m.Name(), State: st.String(), Reason: m.Stats().Reason})
		}
	}
	r.NotReady = append(r.NotReady, poolsNotReady()...)
	r.Ready = len(r.NotReady) == 0
	return r
}

// TakeSnapshot gathers a Snapshot, running the C snapshot callbacks.
func TakeSnapshot() Snapshot {
	s := Snapshot{Time: time.Now(), PID: os.Getpid(), Signals: SignalHealth{Healthy: true}, Modules: []ModuleSnapshot{}}
	s.Ready = CheckReady().Ready
	if err := cgoguard.SignalsHealthy(); err != nil && !errors.Is(err, cgoguard.ErrNotSupported) {
		s.Signals = SignalHealth{Error: err.Error()}
	}
	open := map[string]bool{}
	for _, m := range cgoguard.Modules() {
		st := m.Stats()
		open[st.Name] = true
		ms := ModuleSnapshot{
			Name: st.Name, State: st.State.String(), Reason: st.Reason,
			Calls: map[string]uint64{}, Crashes: st.CrashesBySignal,
			InFlight: st.InFlight, Abandoned: st.Abandoned, LastError: st.LastError,
			Created: st.Created, Resets: st.Resets, Recent: []CrashSnapshot{},
		}
		for o, n := range st.Calls() {
			ms.Calls[string(o)] = n
		}
		if len(st.Durations.Buckets) > 0 {
			ms.Durations = &DurationSummary{Count: st.Durations.Count, SumSeconds: st.Durations.Sum}
		}
		for _, c := range st.RecentCrashes {
			ms.Recent = append(ms.Recent, CrashSnapshot{
				Time: c.Time, Signal: c.Signal, Code: c.Code,
				Addr: fmt.Sprintf("%#x", c.Addr), PC: fmt.Sprintf("%#x", c.PC), Frames: c.Frames,
			})
		}
		ms.C, ms.CTruncated = cSnapshot(st.Name)
		s.Modules = append(s.Modules, ms)
	}
	for _, name := range cSnapshotModules() {
		if open[name] {
			continue
		}
		if kv, _ := cSnapshot(name); kv != nil {
			if s.C == nil {
				s.C = map[string]map[string]string{}
			}
			s.C[name] = kv
		}
	}
	s.Memory.CmemLiveAllocations, s.Memory.CmemLiveBytes = cmem.Live()
	s.Memory.Arenas = arena.Snapshot()
	s.Memory.Bridges = []bridgeState{}
	for _, b := range bridge.Snapshot() {
		s.Memory.Bridges = append(s.Memory.Bridges, bridgeState{
			Name: b.Name, Capacity: b.Capacity, Delivered: b.Stats.Delivered,
			Dropped: b.Stats.Dropped, Pushed: b.Stats.Pushed,
		})
	}
	sort.Slice(s.Modules, func(i, j int) bool { return s.Modules[i].Name < s.Modules[j].Name })
	return s
}

// HealthHandler returns the handler of the health endpoints, to mount at
// the server's root (or under a prefix with http.StripPrefix):
//
//   - GET /healthz: 200 {"status":"alive"} while the process serves HTTP.
//   - GET /readyz: 200 when ready, 503 when a module is quarantined or its
//     breaker is open, or a signal handler was taken; the JSON body
//     (Readiness) says which and why.
//   - GET /debug/cgoguard: the JSON Snapshot.
//
// Other paths get 404, other methods than GET and HEAD 405.
func HealthHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "alive"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		rd := CheckReady()
		code := http.StatusOK
		if !rd.Ready {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, rd)
	})
	mux.HandleFunc("GET /debug/cgoguard", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, TakeSnapshot())
	})
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
