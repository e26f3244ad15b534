package isolate

import "sync/atomic"

// Reasons a worker is replaced: the label values of
// cgoguard_worker_restarts_total.
const (
	ReasonCrash   = "crash"        // it crashed (a caught fault, or a signal killed it during a call)
	ReasonTimeout = "timeout"      // a call outlived its deadline and the grace period
	ReasonExit    = "exit"         // it ended on its own or was killed from outside
	ReasonStart   = "start_failed" // it died or hung while starting
)

// Reasons lists every restart reason.
var Reasons = []string{ReasonCrash, ReasonTimeout, ReasonExit, ReasonStart}

const numReasons = 4 // len(Reasons)

func reasonIndex(r string) int {
	for i, x := range Reasons {
		if x == r {
			return i
		}
	}
	return len(Reasons) - 1
}

type atomicCounter struct{ v atomic.Uint64 }

func (c *atomicCounter) add(n uint64) { c.v.Add(n) }
func (c *atomicCounter) load() uint64 { return c.v.Load() }

// Stats is a snapshot of a pool's workers.
type Stats struct {
	Module  string
	Workers int // configured
	Idle    int // running and waiting for a call
	Busy    int // running a call (or finishing one whose caller gave up)
	// Starting counts workers being started or waiting to be restarted.
	Starting int
	// Failing counts workers whose last start failed.
	Failing int
	// Spares counts workers started and ready to replace a lost one.
	Spares int
	// Restarts counts replacements by how the worker replaced ended
	// (Reasons), counted when it is taken out of service (a crashed
	// call's replacement before the call returns).
	Restarts map[string]uint64
	// LastStartError is the text of the last failed start ("" if none).
	LastStartError string
	// PIDs are the process ids of the workers in service and the spares.
	PIDs []int
}
