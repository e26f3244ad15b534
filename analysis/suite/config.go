package suite

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ConfigName is the name of the configuration file both drivers read: the
// first one found in the current directory or a parent, up to the
// directory that holds go.mod.
const ConfigName = ".cgoguard.yaml"

// Config is the "vet" section of a .cgoguard.yaml file:
//
//	vet:
//	  advisory: true          # report advisory rules (default false)
//	  advisory-max: 3         # advisory findings per function and rule (default 1, -1 all)
//	  advisory-package-max: 5 # advisory findings per package and rule (default 1, -1 all)
//	  tests: true             # analyse _test.go files (default false)
//	  disable: [CG031]        # rules not to report
//	  flags:                  # analyzer flags, as cgoguard-vet spells them
//	    memory.owns: mylib_take_buffer
//	    cerrors.funcs: "+mylib_*"
//
// Command-line flags override it. Fields left out keep their defaults;
// unknown keys are errors.
type Config struct {
	// Advisory is the default of -advisory, nil when not set.
	Advisory *bool `yaml:"advisory"`
	// AdvisoryMax is the default of -advisory-max, nil when not set.
	AdvisoryMax *int `yaml:"advisory-max"`
	// AdvisoryPackageMax is the default of -advisory-package-max, nil when
	// not set.
	AdvisoryPackageMax *int `yaml:"advisory-package-max"`
	// Tests is the default of -tests, nil when not set.
	Tests *bool `yaml:"tests"`
	// Disable lists rules never reported.
	Disable []string `yaml:"disable"`
	// Flags sets analyzer flags, keyed "analyzer.flag".
	Flags map[string]string `yaml:"flags"`
	// Path is the file the configuration was read from, "" when none.
	Path string `yaml:"-"`
}

// ErrConfig is wrapped by every error about a configuration file.
var ErrConfig = errors.New("cgoguard: bad configuration")

// FindConfig looks for ConfigName in dir and its parents, stopping after
// the first directory holding go.mod, and loads it. With no file it
// returns an empty Config and no error.
func FindConfig(dir string) (*Config, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	for {
		name := filepath.Join(dir, ConfigName)
		if _, err := os.Stat(name); err == nil {
			return LoadConfig(name)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %v", ErrConfig, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return &Config{}, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return &Config{}, nil
		}
		dir = parent
	}
}

// LoadConfig reads the vet section of a configuration file. Other
// top-level sections are left to their own readers.
func LoadConfig(name string) (*Config, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	var top struct {
		Vet yaml.Node `yaml:"vet"`
	}
	if err := yaml.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrConfig, name, err)
	}
	cfg := &Config{Path: name}
	if top.Vet.Kind == 0 {
		return cfg, nil
	}
	if top.Vet.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%w: %s:%d: vet: want a mapping of settings", ErrConfig, name, top.Vet.Line)
	}
	known := configKeys()
	for i := 0; i+1 < len(top.Vet.Content); i += 2 {
		k := top.Vet.Content[i]
		if !slices.Contains(known, k.Value) {
			return nil, fmt.Errorf("%w: %s:%d: vet: unknown key %q (known: %s)", ErrConfig, name, k.Line, k.Value, strings.Join(known, ", "))
		}
	}
	if err := top.Vet.Decode(cfg); err != nil {
		return nil, fmt.Errorf("%w: %s: vet: %v", ErrConfig, name, strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n  "))
	}
	cfg.Path = name
	if _, err := ParseRules(strings.Join(cfg.Disable, ",")); err != nil {
		return nil, fmt.Errorf("%w: %s: vet.disable: %v", ErrConfig, name, err)
	}
	for k, m := range map[string]*int{"advisory-max": cfg.AdvisoryMax, "advisory-package-max": cfg.AdvisoryPackageMax} {
		if m != nil && (*m < -1 || *m == 0) {
			return nil, fmt.Errorf("%w: %s: vet.%s: %d is out of range (-1 for all, or 1 or more)", ErrConfig, name, k, *m)
		}
	}
	for _, k := range cfg.flagNames() {
		if analyzerFlag(k) == nil {
			return nil, fmt.Errorf("%w: %s: vet.flags: unknown analyzer flag %q (known: %s)", ErrConfig, name, k, strings.Join(knownFlags(), ", "))
		}
	}
	return cfg, nil
}

// configKeys returns the keys of the vet section, from Config's tags.
func configKeys() []string {
	var out []string
	t := reflect.TypeOf(Config{})
	for i := range t.NumField() {
		if k, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); k != "" && k != "-" {
			out = append(out, k)
		}
	}
	return out
}

func (c *Config) flagNames() []string {
	names := make([]string, 0, len(c.Flags))
	for k := range c.Flags {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// ApplyFlags sets the analyzer flags the configuration names. Call it
// before analysis starts and before the command line is parsed, so that
// command-line flags win.
func (c *Config) ApplyFlags() error {
	for _, k := range c.flagNames() {
		f := analyzerFlag(k)
		if f == nil {
			return fmt.Errorf("%w: %s: vet.flags: unknown analyzer flag %q", ErrConfig, c.Path, k)
		}
		if err := f.Value.Set(c.Flags[k]); err != nil {
			return fmt.Errorf("%w: %s: vet.flags: %s: %v", ErrConfig, c.Path, k, err)
		}
	}
	return nil
}

// analyzerFlag returns the flag "analyzer.name" of a theme analyzer (the
// drivers set the suppression check's own flag).
func analyzerFlag(key string) *flag.Flag {
	an, name, ok := strings.Cut(key, ".")
	if !ok {
		return nil
	}
	for _, a := range Analyzers {
		if a.Name != an {
			continue
		}
		if f := a.Flags.Lookup(name); f != nil {
			return f
		}
	}
	return nil
}

func knownFlags() []string {
	var out []string
	for _, a := range Analyzers {
		a.Flags.VisitAll(func(f *flag.Flag) { out = append(out, a.Name+"."+f.Name) })
	}
	sort.Strings(out)
	return out
}
