package isolate

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/cgoguard/cgoguard/internal/fault"
)

// envWorker marks a process started as a worker; its value is the spec.
const envWorker = fault.WorkerEnv

// Descriptors a worker inherits.
const (
	fdArena   = 3
	fdControl = 4
	fdFaults  = 5 // the failpoint gates, when the parent has them (spec.faults)
)

// Exit codes of a worker that cannot serve.
const (
	exitBadSpec  = 78 // EX_CONFIG: the spec or the function table does not match
	exitNoParent = 75 // the parent died
	exitCrashed  = 70 // a call crashed and the parent did not kill the worker
)

// Main turns the process into a worker when it was started as one by a
// pool, and returns at once otherwise. Call it first in main (and in
// TestMain, for tests whose pools re-execute the test binary), after the
// init functions have registered the C entry points:
//
//	func main() {
//		isolate.Main()
//		// the program itself
//	}
//
// In a worker Main never returns: it serves calls until the pool closes or
// kills it, then exits the process. Elsewhere it ends registration.
func Main() {
	spec, ok := os.LookupEnv(envWorker)
	if !ok {
		freeze()
		return
	}
	// The worker's own children (if the C library starts any) are not
	// workers.
	os.Unsetenv(envWorker)
	os.Exit(serveWorker(spec))
}

// IsWorker reports whether this process was started as a worker (Main has
// not taken it over yet, or is serving in it).
func IsWorker() bool { return inWorker }

var inWorker = os.Getenv(envWorker) != ""

// spec is what a worker learns from its parent.
type spec struct {
	index     int
	ppid      int
	arenaAddr uintptr
	nfn       int
	hash      uint64
	faults    int // 1: the failpoint gates are inherited as fdFaults
	module    string
}

func (s spec) String() string {
	return fmt.Sprintf("2:%d:%d:%x:%d:%x:%d:%s", s.index, s.ppid, s.arenaAddr, s.nfn, s.hash, s.faults, s.module)
}

func parseSpec(v string) (spec, error) {
	f := strings.SplitN(v, ":", 8)
	if len(f) != 8 || f[0] != "2" {
		return spec{}, fmt.Errorf("cgoguard: isolate worker: bad %s %q (a different cgoguard version started this binary?)", envWorker, v)
	}
	var s spec
	var err error
	nums := []struct {
		dst  any
		text string
		base int
	}{{&s.index, f[1], 10}, {&s.ppid, f[2], 10}, {&s.arenaAddr, f[3], 16}, {&s.nfn, f[4], 10}, {&s.hash, f[5], 16}, {&s.faults, f[6], 10}}
	for _, n := range nums {
		var u uint64
		u, err = strconv.ParseUint(n.text, n.base, 64)
		if err != nil {
			return spec{}, fmt.Errorf("cgoguard: isolate worker: bad %s %q: %v", envWorker, v, err)
		}
		switch d := n.dst.(type) {
		case *int:
			*d = int(u)
		case *uintptr:
			*d = uintptr(u)
		case *uint64:
			*d = u
		}
	}
	s.module = f[7]
	return s, nil
}
