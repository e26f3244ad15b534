package probe

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// Defaults of the options, in one place.
const (
	// DefaultMaxFunctions bounds how many functions one Probe attaches to.
	DefaultMaxFunctions = 512
	// DefaultEventBuffer is the size of the ring buffer that carries trace
	// events (WithTrace), in bytes.
	DefaultEventBuffer = 8 << 20
	// DefaultStatusDir is where the target's status file is looked for ("":
	// observe.DefaultStatusDir, /dev/shm).
	DefaultStatusDir = ""
)

// Option configures Open.
type Option func(*config) error

type config struct {
	funcs      []pattern
	modules    []modulePatterns
	guarded    bool // probe the functions guarded calls run, as they are seen
	guardedSet bool
	trace      bool
	maxFuncs   int
	eventBuf   int
	statusDir  string
	perfLinks  bool // one perf-event link per probe even where uprobe_multi exists (tests)
	noGuard    bool
}

func defaultConfig() config {
	return config{maxFuncs: DefaultMaxFunctions, eventBuf: DefaultEventBuffer, statusDir: DefaultStatusDir}
}

// pattern selects functions: a glob over the symbol name, and optionally
// one over the base name of the ELF object ("libz.so*:inflate*").
type pattern struct {
	object string // "" for any
	symbol string
	text   string
}

func parsePattern(s string) (pattern, error) {
	if strings.TrimSpace(s) == "" {
		return pattern{}, errors.New("empty function pattern")
	}
	p := pattern{symbol: s, text: s}
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		p.object, p.symbol = s[:i], s[i+1:]
		if p.object == "" || p.symbol == "" {
			return pattern{}, fmt.Errorf("function pattern %q: want GLOB or OBJECT:GLOB", s)
		}
		if _, err := path.Match(p.object, ""); err != nil {
			return pattern{}, fmt.Errorf("function pattern %q: object glob: %w", s, err)
		}
	}
	if _, err := path.Match(p.symbol, ""); err != nil {
		return pattern{}, fmt.Errorf("function pattern %q: %w", s, err)
	}
	return p, nil
}

// match reports whether the pattern selects symbol name of the object whose
// base name is object.
func (p pattern) match(object, name string) bool {
	if p.object != "" {
		if ok, _ := path.Match(p.object, object); !ok {
			return false
		}
	}
	ok, _ := path.Match(p.symbol, name)
	return ok
}

type modulePatterns struct {
	name     string
	patterns []pattern
}

// WithFunctions probes the C functions whose ELF symbol matches one of the
// globs (path.Match syntax: *, ?, [a-z]). A glob may name the object too,
// as OBJECT:GLOB with a glob over the object's base name
// ("libz.so*:inflate*"). Calls are labelled with the module of the guarded
// call they run in (see the package documentation), or with no module.
// Default: none.
func WithFunctions(globs ...string) Option {
	return func(c *config) error {
		for _, g := range globs {
			p, err := parsePattern(g)
			if err != nil {
				return fmt.Errorf("cgoguard: probe.WithFunctions: %w", err)
			}
			c.funcs = append(c.funcs, p)
		}
		return nil
	}
}

// WithModule probes the C functions matching the globs (as WithFunctions)
// and labels every call of them with module name, whatever guarded call
// they run in. Use it where the symbols do not tell the module: functions
// the guarded calls reach indirectly, or a process without cgoguard.
// Given several times, the first module whose glob matches wins.
func WithModule(name string, globs ...string) Option {
	return func(c *config) error {
		if name == "" {
			return errors.New("cgoguard: probe.WithModule: empty module name")
		}
		if len(globs) == 0 {
			return fmt.Errorf("cgoguard: probe.WithModule(%q): no function glob", name)
		}
		mp := modulePatterns{name: name}
		for _, g := range globs {
			p, err := parsePattern(g)
			if err != nil {
				return fmt.Errorf("cgoguard: probe.WithModule(%q): %w", name, err)
			}
			mp.patterns = append(mp.patterns, p)
		}
		c.modules = append(c.modules, mp)
		return nil
	}
}

// ParseModule parses the command-line form NAME=GLOB[,GLOB...] into the
// arguments of WithModule.
func ParseModule(s string) (name string, globs []string, err error) {
	name, list, ok := strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return "", nil, fmt.Errorf("cgoguard: probe: module %q: want NAME=GLOB[,GLOB]", s)
	}
	for _, g := range strings.Split(list, ",") {
		if g = strings.TrimSpace(g); g != "" {
			globs = append(globs, g)
		}
	}
	if len(globs) == 0 {
		return "", nil, fmt.Errorf("cgoguard: probe: module %q: no function glob after '='", s)
	}
	return name, globs, nil
}

// WithGuardedFunctions(true) also probes every function the target's
// guarded calls run (the fn of Module.Call), attaching to each when the
// trampoline is first seen calling it; calls before that are not counted.
// Default: on when neither WithFunctions nor WithModule is given, else off.
func WithGuardedFunctions(on bool) Option {
	return func(c *config) error {
		c.guarded, c.guardedSet = on, true
		return nil
	}
}

// WithoutGuardProbes leaves the trampoline unprobed. Every guarded call of
// the target then runs at full speed (a probed trampoline costs each guarded
// call about what a probed function costs), but calls are labelled only by
// WithModule, and WithGuardedFunctions finds nothing. Default: the
// trampoline is probed when the target has one.
func WithoutGuardProbes() Option {
	return func(c *config) error {
		c.noGuard = true
		return nil
	}
}

// WithTrace makes the probe report every call as an Event (read with
// ReadEvent), and, when the target runs guarded calls with tracing on, every
// traced guarded call. Without it (the default) nothing but the counts
// crosses to user space.
func WithTrace() Option {
	return func(c *config) error {
		c.trace = true
		return nil
	}
}

// WithMaxFunctions bounds how many functions are attached (n >= 1). Default
// DefaultMaxFunctions (512).
func WithMaxFunctions(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("cgoguard: probe.WithMaxFunctions: %d is below 1", n)
		}
		c.maxFuncs = n
		return nil
	}
}

// WithEventBuffer sets the size in bytes of the ring buffer of trace events,
// rounded up to a power of two of at least 64 KiB. Default
// DefaultEventBuffer (8 MiB). Events that find it full are counted in
// Snapshot.Dropped.
func WithEventBuffer(bytes int) Option {
	return func(c *config) error {
		if bytes <= 0 {
			return fmt.Errorf("cgoguard: probe.WithEventBuffer: %d bytes", bytes)
		}
		n := 64 << 10
		for n < bytes {
			n <<= 1
			if n > 1<<30 {
				return fmt.Errorf("cgoguard: probe.WithEventBuffer: %d bytes is over 1 GiB", bytes)
			}
		}
		c.eventBuf = n
		return nil
	}
}

// WithStatusDir sets the directory of the target's cgoguard status file,
// which names the modules of guarded calls. Default DefaultStatusDir
// (observe's default, /dev/shm).
func WithStatusDir(dir string) Option {
	return func(c *config) error {
		if dir == "" {
			return errors.New("cgoguard: probe.WithStatusDir: empty directory")
		}
		c.statusDir = dir
		return nil
	}
}

// CheckOptions applies opts as Open would and returns the first error, so
// that a bad glob is reported before anything is attached.
func CheckOptions(opts ...Option) error {
	cfg := defaultConfig()
	for i, o := range opts {
		if o == nil {
			return fmt.Errorf("cgoguard: probe: option %d is nil", i)
		}
		if err := o(&cfg); err != nil {
			return err
		}
	}
	return nil
}
