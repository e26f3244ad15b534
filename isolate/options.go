package isolate

import (
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/cgoguard/cgoguard"
)

// Option configures a pool (New, Isolator). An Option is also a
// cgoguard.IsolationOption, so the options can go to cgoguard.WithIsolation
// directly, which joins them into one Isolator:
//
//	m, err := cgoguard.New("zlib", cgoguard.WithIsolation(isolate.WithWorkers(2), isolate.WithCallTimeout(time.Second)))
//
// is the same as cgoguard.WithIsolation(isolate.Isolator(isolate.WithWorkers(2), isolate.WithCallTimeout(time.Second))).
type Option func(*options) error

// Isolate starts a pool with this option alone for module m, as
// Isolator(opt) does; cgoguard.New calls it for WithIsolation(opt).
func (opt Option) Isolate(m *cgoguard.Module) (cgoguard.Isolated, error) {
	return Isolator(opt).Isolate(m)
}

// JoinIsolation returns Isolator(opts...) for cgoguard.WithIsolation; every
// element of opts must be a non-nil Option of this package (not an
// Isolator: pass options to Isolator, or the options alone).
func (opt Option) JoinIsolation(opts []cgoguard.IsolationOption) (cgoguard.Isolator, error) {
	all := make([]Option, len(opts))
	for i, o := range opts {
		v, ok := o.(Option)
		if !ok {
			return nil, fmt.Errorf("cgoguard: isolate: WithIsolation: option %d (%T) is not an isolate.Option; an Isolator cannot be combined with isolate options", i, o)
		}
		if v == nil {
			return nil, fmt.Errorf("cgoguard: isolate: WithIsolation: option %d is nil", i)
		}
		all[i] = v
	}
	return Isolator(all...), nil
}

// The options are what cgoguard.WithIsolation joins.
var _ cgoguard.IsolatorJoiner = Option(nil)

type options struct {
	workers      int
	arenaSize    int
	callTimeout  time.Duration
	backoffMin   time.Duration
	backoffMax   time.Duration
	env          []string
	killGrace    time.Duration
	startTimeout time.Duration
	closeTimeout time.Duration
	spin         time.Duration
	spares       int
	module       []cgoguard.Option
}

// Defaults, set in one place.
const (
	// DefaultArenaSize is the default capacity of a pool's arena: 16 MiB
	// (memory is only used as it is touched).
	DefaultArenaSize = 16 << 20
	// DefaultBackoffMin and DefaultBackoffMax bound the delay before a
	// worker is restarted after consecutive failures (see WithRestartBackoff).
	DefaultBackoffMin = 10 * time.Millisecond
	DefaultBackoffMax = 5 * time.Second
	// DefaultKillGrace is how long a timed-out call may still finish
	// before its worker is killed.
	DefaultKillGrace = 100 * time.Millisecond
	// DefaultStartTimeout is how long a worker may take to start.
	DefaultStartTimeout = 10 * time.Second
	// DefaultCloseTimeout is how long Close lets calls in flight finish
	// before it kills their workers.
	DefaultCloseTimeout = 5 * time.Second
	// DefaultSpin is how long each side of the transport polls before it
	// sleeps on the futex: not at all. Polling pays only where both
	// processes have a core to themselves; on a shared machine it takes
	// the CPU from the process it waits for (see BENCHMARKS.md).
	DefaultSpin = 0
	// DefaultSpares is how many workers are kept started and ready to
	// replace one that is lost.
	DefaultSpares = 1
	// MaxWorkers bounds WithWorkers and WithSpares.
	MaxWorkers = 1024
)

// defaultWorkers is the number of CPUs, at most 8.
func defaultWorkers() int { return min(runtime.NumCPU(), 8) }

func defaultOptions() options {
	return options{
		workers:      defaultWorkers(),
		arenaSize:    DefaultArenaSize,
		backoffMin:   DefaultBackoffMin,
		backoffMax:   DefaultBackoffMax,
		killGrace:    DefaultKillGrace,
		startTimeout: DefaultStartTimeout,
		closeTimeout: DefaultCloseTimeout,
		spin:         DefaultSpin,
		spares:       DefaultSpares,
	}
}

func buildOptions(opts []Option) (options, error) {
	o := defaultOptions()
	for i, opt := range opts {
		if opt == nil {
			return o, fmt.Errorf("cgoguard: isolate: option %d is nil", i)
		}
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	return o, nil
}

// WithWorkers sets the number of worker processes, 1 to MaxWorkers; each
// runs one call at a time. Default: the number of CPUs, at most 8.
func WithWorkers(n int) Option {
	return func(o *options) error {
		if n < 1 || n > MaxWorkers {
			return fmt.Errorf("cgoguard: isolate: WithWorkers(%d): want 1 to %d", n, MaxWorkers)
		}
		o.workers = n
		return nil
	}
}

// WithArenaSize sets the capacity in bytes of the pool's arena, where call
// arguments live (Pool.Arena). Default DefaultArenaSize (16 MiB).
func WithArenaSize(bytes int) Option {
	return func(o *options) error {
		if bytes <= 0 {
			return fmt.Errorf("cgoguard: isolate: WithArenaSize(%d): size must be positive", bytes)
		}
		o.arenaSize = bytes
		return nil
	}
}

// WithCallTimeout bounds every call to d (a context deadline that comes
// sooner wins). At the deadline the call returns ErrTimeout; its worker
// gets WithKillGrace to finish, then is killed and replaced. Default: no
// timeout.
func WithCallTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("cgoguard: isolate: WithCallTimeout(%v): negative duration", d)
		}
		o.callTimeout = d
		return nil
	}
}

// WithRestartBackoff bounds the delay before a worker is started again. A
// worker that crashed or was killed after serving calls successfully is
// replaced at once; each further failure in a row (a crash on the first
// call, a worker that dies while starting) doubles the delay from min up
// to max, so a library that crashes on everything, or a worker that cannot
// start, never restarts in a hot loop. 0 < min <= max. Default
// DefaultBackoffMin (10ms) and DefaultBackoffMax (5s).
func WithRestartBackoff(min, max time.Duration) Option {
	return func(o *options) error {
		if min <= 0 || max < min {
			return fmt.Errorf("cgoguard: isolate: WithRestartBackoff(%v, %v): want 0 < min <= max", min, max)
		}
		o.backoffMin, o.backoffMax = min, max
		return nil
	}
}

// WithEnv adds environment variables ("KEY=value") to the workers', which
// otherwise inherit this process's environment. Default: none added.
func WithEnv(kv ...string) Option {
	return func(o *options) error {
		for _, e := range kv {
			k, _, ok := strings.Cut(e, "=")
			if !ok || k == "" || strings.ContainsRune(e, 0) {
				return fmt.Errorf("cgoguard: isolate: WithEnv(%q): want KEY=value", e)
			}
			if k == envWorker {
				return fmt.Errorf("cgoguard: isolate: WithEnv: %s is reserved", envWorker)
			}
		}
		o.env = append(o.env, kv...)
		return nil
	}
}

// WithKillGrace sets how long a timed-out or cancelled call may still
// finish before its worker is killed (SIGKILL) and replaced; a call that
// finishes within it leaves its worker serving. Default DefaultKillGrace
// (100ms).
func WithKillGrace(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("cgoguard: isolate: WithKillGrace(%v): negative duration", d)
		}
		o.killGrace = d
		return nil
	}
}

// WithStartTimeout sets how long a worker may take from exec to ready
// before it is killed and counted as a failed start. Default
// DefaultStartTimeout (10s).
func WithStartTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("cgoguard: isolate: WithStartTimeout(%v): must be positive", d)
		}
		o.startTimeout = d
		return nil
	}
}

// WithCloseTimeout sets how long Close lets calls in flight finish before
// it kills their workers (a Shutdown context that ends sooner wins).
// Default DefaultCloseTimeout (5s).
func WithCloseTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("cgoguard: isolate: WithCloseTimeout(%v): negative duration", d)
		}
		o.closeTimeout = d
		return nil
	}
}

// WithSpin sets how long the caller polls for the result, and an idle
// worker for the next request, before sleeping on the futex; 0 sleeps at
// once. Polling saves the wake-up latency of short calls when both
// processes have a core of their own, burns CPU for at most d per call,
// and slows every call down on a machine with more runnable threads than
// cores. Default DefaultSpin (0).
func WithSpin(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 || d > time.Second {
			return fmt.Errorf("cgoguard: isolate: WithSpin(%v): want 0 to 1s", d)
		}
		o.spin = d
		return nil
	}
}

// WithSpares keeps n workers started and ready, beyond WithWorkers, to
// take the place of a worker that crashed, timed out or exited: the next
// call runs at once instead of waiting for a process to start, and a new
// spare starts in the background. 0 starts replacements only when needed.
// Default DefaultSpares (1).
func WithSpares(n int) Option {
	return func(o *options) error {
		if n < 0 || n > MaxWorkers {
			return fmt.Errorf("cgoguard: isolate: WithSpares(%d): want 0 to %d", n, MaxWorkers)
		}
		o.spares = n
		return nil
	}
}

// WithModule adds options of the module New creates for the pool (its
// breaker, bulkhead, observer, crash handler, ...). An Isolator (and
// cgoguard.WithIsolation) refuses it with an error: there the module's
// options go to cgoguard.New beside WithIsolation. Default: none.
func WithModule(opts ...cgoguard.Option) Option {
	return func(o *options) error {
		o.module = append(o.module, opts...)
		return nil
	}
}
