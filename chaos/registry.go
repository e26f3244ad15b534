package chaos

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/internal/fault"
)

// EnvVar is the environment variable read at program start: a failpoint
// spec set (without a TTL) when package chaos initialises.
const EnvVar = "CGOGUARD_FAILPOINTS"

// ErrTooMany is returned when a spec would set more failpoints than can be
// active at once (256).
var ErrTooMany = errors.New("cgoguard: too many failpoints")

// ErrInWorker is returned by Set and SetTTL in an isolate worker process:
// failpoints are set in the parent, which decides them for the calls it
// sends to its workers.
var ErrInWorker = errors.New("cgoguard: chaos: failpoints are set in the parent process, not in an isolate worker")

// failpoint is one active failpoint.
type failpoint struct {
	Failpoint
	key   string // Target()
	seq   string // Sequence()
	set   time.Time
	slot  int
	ttl   time.Duration // 0: never expires
	timer *time.Timer

	expires atomic.Int64 // unix nanoseconds; 0: never
	removed atomic.Bool  // set before its gate is released for good

	mu    sync.Mutex // guards state
	state []termState

	calls, fired atomic.Uint64
}

type termState struct{ seen, fired uint64 }

// table is the published view the call path reads: per module, the
// failpoints that name a function first, then the module-wide one.
type table map[string][]*failpoint

var (
	mu        sync.Mutex // serialises changes and module marks
	active    = map[string]*failpoint{}
	slotsUsed [maxSlots]bool
	published atomic.Pointer[table]

	funcNames sync.Map // uintptr -> string, from Name
	symNames  sync.Map // uintptr -> string, ELF symbols

	envErr  error
	initErr error // the C side could not be set up (or no cgo)
)

func init() {
	initErr = initC()
	if fault.InWorker {
		// An isolate worker runs the faults its parent decides (the fault
		// entry is set); it never decides one itself.
		return
	}
	cgoguard.InstallChaosHook(hook{})
	if spec := os.Getenv(EnvVar); spec != "" {
		if err := Set(spec); err != nil {
			envErr = fmt.Errorf("cgoguard: %s: %w", EnvVar, err)
			fmt.Fprintln(os.Stderr, envErr)
		}
	}
}

// EnvError returns why the spec in CGOGUARD_FAILPOINTS was not set at
// start (nil when it was, or when the variable is empty). The error is also
// printed on standard error at start and shown by Handler.
func EnvError() error { return envErr }

// Name registers name for the C function fn: a failpoint target
// module.name then matches calls of fn. A function can also be targeted by
// its symbol name (what crash frames show) without registering it.
func Name(fn unsafe.Pointer, name string) {
	if fn == nil || name == "" {
		return
	}
	funcNames.Store(uintptr(fn), name)
}

// Set sets the failpoints of spec without a TTL (they stay until cleared).
// A failpoint replaces the one set on the same target; setting exactly the
// same sequence again keeps its counters (and renews its TTL, see SetTTL).
// Failpoints on other targets stay. The grammar is in the package
// documentation.
func Set(spec string) error { return SetTTL(spec, 0) }

// SetTTL is Set with a TTL: each failpoint of spec expires ttl from now
// unless renewed by setting it again (0 means never). Expiry releases
// every call the failpoint holds in C (hang, delay).
func SetTTL(spec string, ttl time.Duration) error {
	if ttl < 0 {
		return fmt.Errorf("cgoguard: chaos: negative TTL %v", ttl)
	}
	fps, err := Parse(spec)
	if err != nil {
		return err
	}
	if initErr != nil {
		return initErr
	}
	if fault.InWorker {
		return ErrInWorker
	}
	mu.Lock()
	defer mu.Unlock()
	need := 0
	for _, f := range fps {
		if active[f.Target()] == nil {
			need++
		}
	}
	if len(active)+need > maxSlots {
		return fmt.Errorf("%w: %d set, %d more asked, at most %d", ErrTooMany, len(active), need, maxSlots)
	}
	for _, f := range fps {
		key, seq := f.Target(), f.Sequence()
		if old := active[key]; old != nil {
			if old.seq == seq {
				old.renew(ttl)
				continue
			}
			removeLocked(old)
		}
		fp := &failpoint{Failpoint: f, key: key, seq: seq, set: time.Now(), slot: allocSlot(), state: make([]termState, len(f.Terms))}
		active[key] = fp
		fp.renew(ttl)
	}
	publishLocked()
	return nil
}

// renew sets the failpoint's TTL from now. mu held.
func (fp *failpoint) renew(ttl time.Duration) {
	fp.ttl = ttl
	if ttl == 0 {
		fp.expires.Store(0)
		if fp.timer != nil {
			fp.timer.Stop()
		}
		slotExpiry(fp.slot, 0)
		return
	}
	fp.expires.Store(time.Now().Add(ttl).UnixNano())
	slotExpiry(fp.slot, ttl)
	if fp.timer == nil {
		fp.timer = time.AfterFunc(ttl, func() { expire(fp) })
	} else {
		fp.timer.Reset(ttl)
	}
}

// expire removes fp when its TTL has passed and no one renewed it.
func expire(fp *failpoint) {
	mu.Lock()
	defer mu.Unlock()
	if active[fp.key] != fp {
		return
	}
	exp := fp.expires.Load()
	if exp == 0 {
		return
	}
	if left := time.Until(time.Unix(0, exp)); left > 0 {
		fp.timer.Reset(left)
		return
	}
	removeLocked(fp)
	publishLocked()
}

// Clear removes every failpoint and releases the calls they hold in C.
func Clear() {
	mu.Lock()
	defer mu.Unlock()
	for _, fp := range active {
		removeLocked(fp)
	}
	publishLocked()
}

// ClearTarget removes the failpoint set on target (module or
// module.function); it reports whether there was one.
func ClearTarget(target string) (bool, error) {
	m, f, err := ParseTarget(target)
	if err != nil {
		return false, err
	}
	key := Failpoint{Module: m, Function: f}.Target()
	mu.Lock()
	defer mu.Unlock()
	fp := active[key]
	if fp == nil {
		return false, nil
	}
	removeLocked(fp)
	publishLocked()
	return true, nil
}

// removeLocked drops fp and releases its slot. mu held.
func removeLocked(fp *failpoint) {
	fp.removed.Store(true) // before the release: see Intercept
	delete(active, fp.key)
	if fp.timer != nil {
		fp.timer.Stop()
	}
	slotRelease(fp.slot)
	slotsUsed[fp.slot] = false
}

func allocSlot() int {
	for i := range slotsUsed {
		if !slotsUsed[i] {
			slotsUsed[i] = true
			return i
		}
	}
	panic("cgoguard: chaos: no free slot after the capacity check")
}

// publishLocked makes the active set visible to the call path and marks
// exactly the open modules that failpoints target. mu held.
func publishLocked() {
	t := table{}
	for _, fp := range active {
		t[fp.Module] = append(t[fp.Module], fp)
	}
	for _, fps := range t {
		sort.Slice(fps, func(i, j int) bool {
			if (fps[i].Function == "") != (fps[j].Function == "") {
				return fps[i].Function != ""
			}
			return fps[i].key < fps[j].key
		})
	}
	published.Store(&t)
	for _, m := range cgoguard.Modules() {
		m.ArmChaos(len(t[m.Name()]) > 0 && reachable(m))
	}
	activeGauge.Store(int64(len(active)))
}

// reachable reports whether failpoints can act on m's calls: calls that
// run in this process, or in the worker processes of a runner that carries
// faults to them (package isolate's pools). Another cgoguard.Isolated
// runner gets its calls unchanged.
func reachable(m *cgoguard.Module) bool {
	iso := m.Isolation()
	return iso == nil || fault.Carries(iso)
}

// hook is what the root package calls.
type hook struct{}

// Arm marks m when failpoints target it and can reach its calls.
func (hook) Arm(m *cgoguard.Module) {
	mu.Lock()
	defer mu.Unlock()
	t := published.Load()
	m.ArmChaos(t != nil && len((*t)[m.Name()]) > 0 && reachable(m))
}

// Intercept picks the first failpoint of m that fires on this call. The
// triggers are evaluated here, once per call, in this process; for an
// isolated module the ticket it returns is carried to the worker with the
// call (package isolate), which runs the action there.
func (hook) Intercept(m *cgoguard.Module, fn, arg unsafe.Pointer) (unsafe.Pointer, unsafe.Pointer) {
	t := published.Load()
	if t == nil {
		return fn, arg
	}
	fps := (*t)[m.Name()]
	if len(fps) == 0 {
		return fn, arg
	}
	isolated := m.Isolation() != nil
	if isolated && !fault.Carries(m.Isolation()) {
		return fn, arg
	}
	now := time.Now().UnixNano()
	for _, fp := range fps {
		if fp.Function != "" && !funcMatches(fp.Function, fn) {
			continue
		}
		if exp := fp.expires.Load(); exp != 0 && now >= exp {
			continue // expired; its timer removes it
		}
		a, ok := fp.next()
		if !ok {
			continue
		}
		// The gate's generation, then whether fp is still set: a failpoint
		// removed before the generation was read is marked removed, so a
		// ticket never waits at a gate that was opened for good already.
		gen := slotGen(fp.slot)
		if fp.removed.Load() {
			continue
		}
		countFired(m.Name(), a.Kind)
		return ticket(a, fp.slot, gen, fn, arg, isolated)
	}
	return fn, arg
}

// next tries the terms in order and returns the action of the first that
// fires; ok is false when none does or it is Off.
func (fp *failpoint) next() (Action, bool) {
	fp.calls.Add(1)
	fp.mu.Lock()
	defer fp.mu.Unlock()
	for i := range fp.Terms {
		t := &fp.Terms[i]
		st := &fp.state[i]
		if t.Count > 0 && st.fired >= uint64(t.Count) {
			continue // used up
		}
		st.seen++
		fire := true
		if t.Percent > 0 && t.Percent < 100 {
			fire = rand.Float64()*100 < t.Percent
		}
		if t.Every > 0 {
			fire = fire && st.seen%uint64(t.Every) == 0
		}
		if !fire {
			continue
		}
		st.fired++
		if t.Action.Kind == Off {
			return Action{}, false
		}
		fp.fired.Add(1)
		return t.Action, true
	}
	return Action{}, false
}

// funcMatches reports whether name names the C function fn: a name given
// with Name, the name fn is registered under with isolate.Register, or its
// symbol.
func funcMatches(name string, fn unsafe.Pointer) bool {
	if v, ok := funcNames.Load(uintptr(fn)); ok && v.(string) == name {
		return true
	}
	if v, ok := fault.FuncName(uintptr(fn)); ok && v == name {
		return true
	}
	v, ok := symNames.Load(uintptr(fn))
	if !ok {
		v, _ = symNames.LoadOrStore(uintptr(fn), cgoguard.FuncName(fn))
	}
	return v.(string) == name
}

// Info describes one active failpoint.
type Info struct {
	// Target is module or module.function; Spec is target=sequence.
	Target   string `json:"target"`
	Module   string `json:"module"`
	Function string `json:"function,omitempty"`
	Sequence string `json:"sequence"`
	Spec     string `json:"spec"`
	// Set is when it was set; Expires when it expires unless renewed
	// (nil: never), TTLSeconds the TTL it was last set with.
	Set        time.Time  `json:"set"`
	Expires    *time.Time `json:"expires,omitempty"`
	TTLSeconds float64    `json:"ttl_seconds,omitempty"`
	// Calls is how many calls it saw; Fired how many it acted on.
	Calls uint64 `json:"calls"`
	Fired uint64 `json:"fired"`
	// ModuleOpen says a module of that name is open now.
	ModuleOpen bool `json:"module_open"`
	// ModuleIsolated says that module runs its calls in worker processes
	// (cgoguard.WithIsolation). The failpoint acts there too: its triggers
	// are evaluated in this process and the action runs in the worker, on
	// the thread serving the call.
	ModuleIsolated bool `json:"module_isolated,omitempty"`
	// Unreachable says that module's calls run where failpoints cannot act:
	// in worker processes of a cgoguard.Isolated runner other than package
	// isolate's pools. Its calls are left alone.
	Unreachable bool `json:"unreachable,omitempty"`
}

// List returns the active failpoints sorted by target.
func List() []Info {
	mu.Lock()
	defer mu.Unlock()
	fps := make([]*failpoint, 0, len(active))
	for _, fp := range active {
		fps = append(fps, fp)
	}
	sort.Slice(fps, func(i, j int) bool { return fps[i].key < fps[j].key })
	out := make([]Info, 0, len(fps))
	for _, fp := range fps {
		in := Info{
			Target: fp.key, Module: fp.Module, Function: fp.Function, Sequence: fp.seq,
			Spec: fp.key + "=" + fp.seq, Set: fp.set, TTLSeconds: fp.ttl.Seconds(),
			Calls: fp.calls.Load(), Fired: fp.fired.Load(),
		}
		if m := cgoguard.Lookup(fp.Module); m != nil {
			in.ModuleOpen, in.ModuleIsolated = true, m.Isolation() != nil
			in.Unreachable = !reachable(m)
		}
		if exp := fp.expires.Load(); exp != 0 {
			t := time.Unix(0, exp)
			in.Expires = &t
		}
		out = append(out, in)
	}
	return out
}
