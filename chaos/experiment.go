package chaos

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Defaults of an experiment, set in one place.
const (
	// DefaultInterval is how often the SLO is polled.
	DefaultInterval = 30 * time.Second
	// DefaultConsecutiveOK is how many healthy polls in a row close a fault.
	DefaultConsecutiveOK = 3
	// DefaultRecoverySLA is the recovery SLA when an experiment names none.
	DefaultRecoverySLA = 5 * time.Minute
	// DefaultFailpointTTL is the TTL of an injected failpoint; the runner
	// renews it every third of it, so a runner that dies leaves a failpoint
	// for at most this long.
	DefaultFailpointTTL = 60 * time.Second
	// DefaultCommandTimeout bounds each inject, revert and remediation
	// command.
	DefaultCommandTimeout = 30 * time.Second
	// DefaultQueryTimeout bounds each evaluation of a condition.
	DefaultQueryTimeout = 10 * time.Second
)

// FaultCommand is the fault type of an experiment whose fault is injected
// and reverted by external commands.
const FaultCommand = "command"

// ErrInvalid is the sentinel of every experiment file error; a
// *ConfigError matches it with errors.Is.
var ErrInvalid = errors.New("cgoguard: invalid experiment file")

// Problem is one error at a line of an experiment file.
type Problem struct {
	Line int    `json:"line,omitempty"`
	Msg  string `json:"message"`
}

// ConfigError lists what is wrong with an experiment file, each problem
// with its line. It matches ErrInvalid.
type ConfigError struct {
	File     string
	Problems []Problem
}

// Error lists the problems, one "file:line: message" a line.
func (e *ConfigError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
		b.WriteString(p.Msg)
	}
	return b.String()
}

// Is reports whether target is ErrInvalid.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalid }

func (e *ConfigError) add(line int, format string, args ...any) {
	e.Problems = append(e.Problems, Problem{Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (e *ConfigError) orNil() error {
	if len(e.Problems) == 0 {
		return nil
	}
	sort.SliceStable(e.Problems, func(i, j int) bool { return e.Problems[i].Line < e.Problems[j].Line })
	return e
}

// Duration is a time.Duration written as a Go duration ("30s", "1m30s")
// or a number of seconds.
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String writes the duration as Go does.
func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalYAML reads "30s" or 30.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := parseDuration(n.Value)
	if err != nil {
		return lineError(n, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes seconds.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).Seconds()) }

// lineError reports a bad value as a *yaml.TypeError, which the decoder
// collects and goes on (any other error stops it), with its line.
func lineError(n *yaml.Node, err error) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
}

func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
		return time.Duration(f * float64(time.Second)), nil
	}
	return 0, fmt.Errorf("%q is not a duration (30s, 1m30s) or a number of seconds", s)
}

// Threshold is a condition's number: a plain number, a percentage ("1%"
// is 0.01) or a duration in seconds ("800ms" is 0.8).
type Threshold struct {
	Value float64
	Text  string // as written
	Set   bool
}

// UnmarshalYAML reads 0.01, "1%" or "800ms".
func (t *Threshold) UnmarshalYAML(n *yaml.Node) error {
	if err := t.parse(strings.TrimSpace(n.Value)); err != nil {
		return lineError(n, err)
	}
	return nil
}

func (t *Threshold) parse(s string) error {
	t.Text, t.Set = s, true
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return fmt.Errorf("threshold %q: bad percentage", s)
		}
		t.Value = f / 100
		return nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		t.Value = f
		return nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		t.Value = d.Seconds()
		return nil
	}
	return fmt.Errorf("threshold %q is not a number, a percentage (1%%) or a duration (800ms)", s)
}

// MarshalJSON writes the number.
func (t Threshold) MarshalJSON() ([]byte, error) { return json.Marshal(t.Value) }

// String writes the threshold as written.
func (t Threshold) String() string {
	if t.Text != "" {
		return t.Text
	}
	return strconv.FormatFloat(t.Value, 'g', -1, 64)
}

// Remediation is what the runner does after removing a fault that
// breached the SLO: Kind "none", "reset" (Module.Reset of the target module
// through the admin endpoint) or "command" (Command run by sh -c).
type Remediation struct {
	Kind    string `json:"kind"`
	Command string `json:"command,omitempty"`
}

// UnmarshalYAML reads none, reset, or {command: "..."}.
func (r *Remediation) UnmarshalYAML(n *yaml.Node) error {
	if err := r.decode(n); err != nil {
		return lineError(n, err)
	}
	return nil
}

func (r *Remediation) decode(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.Value {
		case "none", "reset", "":
			r.Kind = n.Value
			return nil
		}
		return fmt.Errorf("remediation %q: want none, reset or {command: ...}", n.Value)
	case yaml.MappingNode:
		var m struct {
			Command string `yaml:"command"`
		}
		if len(n.Content) != 2 || n.Content[0].Value != "command" {
			return fmt.Errorf("remediation: a mapping has exactly one key, command")
		}
		if err := n.Decode(&m); err != nil {
			return err
		}
		if strings.TrimSpace(m.Command) == "" {
			return fmt.Errorf("remediation: empty command")
		}
		r.Kind, r.Command = "command", m.Command
		return nil
	}
	return fmt.Errorf("remediation: want none, reset or {command: ...}")
}

// String writes the remediation for reports.
func (r Remediation) String() string {
	switch r.Kind {
	case "command":
		return "command: " + r.Command
	case "":
		return "none"
	}
	return r.Kind
}

// Target is where a failpoint fault is injected: the admin endpoint of the
// process (Handler's mount point, e.g. http://host:8080/debug/cgoguard/failpoints,
// or the process's base URL, http://host:8080, for the endpoint at
// DefaultAdminPath),
// the module and optionally one C function of it (a name given with Name,
// or its symbol).
type Target struct {
	Admin    string `yaml:"admin,omitempty" json:"admin,omitempty"`
	Module   string `yaml:"module,omitempty" json:"module,omitempty"`
	Function string `yaml:"function,omitempty" json:"function,omitempty"`
	// TokenEnv names the environment variable holding the admin token
	// (default CGOGUARD_ADMIN_TOKEN).
	TokenEnv string `yaml:"token_env,omitempty" json:"token_env,omitempty"`
}

// Selector picks series of a scraped metric: its name and label matchers.
// A matcher value is exact, or "~re" (regular expression, fully
// anchored), "!v" (not v), "!~re" (not matching).
type Selector struct {
	Metric string            `yaml:"metric,omitempty" json:"metric,omitempty"`
	Labels map[string]string `yaml:"labels,omitempty" json:"labels,omitempty"`
}

// Condition is a check on metrics: an expression, an operator and a
// threshold, over a window. The expression is either a PromQL query that
// a Prometheus server evaluates (Prometheus, Query; "$window" in the query
// becomes the window), or a metric scraped straight from a /metrics
// endpoint (Scrape, Metric, Labels) reduced by Func over the window.
type Condition struct {
	// Description names the condition in reports ("error ratio < 1%").
	Description string `yaml:"description,omitempty" json:"description,omitempty"`

	Prometheus string `yaml:"prometheus,omitempty" json:"prometheus,omitempty"`
	Query      string `yaml:"query,omitempty" json:"query,omitempty"`

	Scrape   string            `yaml:"scrape,omitempty" json:"scrape,omitempty"`
	Metric   string            `yaml:"metric,omitempty" json:"metric,omitempty"`
	Labels   map[string]string `yaml:"labels,omitempty" json:"labels,omitempty"`
	Func     string            `yaml:"func,omitempty" json:"func,omitempty"`
	Over     *Selector         `yaml:"over,omitempty" json:"over,omitempty"`
	Quantile float64           `yaml:"quantile,omitempty" json:"quantile,omitempty"`
	// ScrapeInterval is how often the scraped source samples between
	// polls (default: a tenth of the window, between 1s and 15s).
	ScrapeInterval Duration `yaml:"scrape_interval,omitempty" json:"scrape_interval,omitempty"`

	Op        string    `yaml:"op" json:"op"`
	Threshold Threshold `yaml:"threshold" json:"threshold"`
	Window    Duration  `yaml:"window,omitempty" json:"window,omitempty"`
	// NoData says what a poll without data counts as: "breach" (default)
	// or "ok".
	NoData  string   `yaml:"no_data,omitempty" json:"no_data,omitempty"`
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// Scrape functions.
const (
	FuncValue    = "value"    // the sum of the matching series now
	FuncIncrease = "increase" // how much the counters grew over the window
	FuncRate     = "rate"     // increase per second over the window
	FuncRatio    = "ratio"    // increase of the series / increase of Over over the window
	FuncQuantile = "quantile" // Quantile of a histogram's observations over the window
)

var funcs = []string{FuncValue, FuncIncrease, FuncRate, FuncRatio, FuncQuantile}

var opNames = map[string]string{"<": "<", "<=": "<=", "≤": "<=", ">": ">", ">=": ">=", "≥": ">=", "==": "==", "=": "==", "!=": "!="}

// Holds reports whether v satisfies the condition's operator and
// threshold.
func (c *Condition) Holds(v float64) bool {
	t := c.Threshold.Value
	switch opNames[c.Op] {
	case "<":
		return v < t
	case "<=":
		return v <= t
	case ">":
		return v > t
	case ">=":
		return v >= t
	case "==":
		return v == t
	case "!=":
		return v != t
	}
	return false
}

// String describes the condition: its Description, else the expression,
// the operator, the threshold and the window.
func (c *Condition) String() string {
	if c == nil {
		return ""
	}
	if c.Description != "" {
		return c.Description
	}
	var expr string
	if c.Query != "" {
		expr = strings.Join(strings.Fields(c.expandedQuery()), " ")
	} else {
		f := c.Func
		if f == "" {
			f = FuncValue
		}
		expr = f + "(" + selectorString(c.Metric, c.Labels) + ")"
		if f == FuncQuantile {
			expr = fmt.Sprintf("quantile(%g, %s)", c.Quantile, selectorString(c.Metric, c.Labels))
		}
		if f == FuncRatio && c.Over != nil {
			expr += " / " + selectorString(c.overMetric(), c.Over.Labels)
		}
	}
	s := expr + " " + opNames[c.Op] + " " + c.Threshold.String()
	if c.Window > 0 && (c.Query == "" || strings.Contains(c.Query, "$window")) {
		s += " over " + c.Window.String()
	}
	return s
}

func (c *Condition) overMetric() string {
	if c.Over != nil && c.Over.Metric != "" {
		return c.Over.Metric
	}
	return c.Metric
}

// expandedQuery puts the window into the query's "$window".
func (c *Condition) expandedQuery() string {
	return strings.ReplaceAll(c.Query, "$window", promDuration(c.Window.D()))
}

// promDuration writes d as PromQL wants it (1m30s → 90s, 500ms).
func promDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "1m"
	case d%time.Second != 0:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}

func selectorString(metric string, labels map[string]string) string {
	if len(labels) == 0 {
		return metric
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		v := labels[k]
		op := "="
		switch {
		case strings.HasPrefix(v, "!~"):
			op, v = "!~", v[2:]
		case strings.HasPrefix(v, "~"):
			op, v = "=~", v[1:]
		case strings.HasPrefix(v, "!"):
			op, v = "!=", v[1:]
		}
		parts[i] = k + op + strconv.Quote(v)
	}
	return metric + "{" + strings.Join(parts, ",") + "}"
}

// Experiment is one row of the red-blue table: a fault, where it goes, how
// long it stays, the SLO watched, the recovery SLA and what repairs the
// damage.
type Experiment struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// FaultType is a failpoint action (segv, bus, fpe, abort, delay, hang,
	// errno, error) or "command".
	FaultType string `yaml:"fault_type" json:"fault_type"`
	// Failpoint is the failpoint sequence injected (the right-hand side of
	// a spec, e.g. "20%segv" or "delay(200ms)"); default: FaultType alone.
	Failpoint string `yaml:"failpoint,omitempty" json:"failpoint,omitempty"`
	Target    Target `yaml:"target,omitempty" json:"target"`

	// Inject and Revert are shell commands (sh -c) of a command fault.
	// Capture is a regular expression applied to Inject's standard
	// output: its first group (or whole match) is the fault's id, given to
	// Revert as $CHAOS_ID. Without Capture the id is the last line of the
	// output.
	Inject         string   `yaml:"inject,omitempty" json:"inject,omitempty"`
	Revert         string   `yaml:"revert,omitempty" json:"revert,omitempty"`
	Capture        string   `yaml:"capture,omitempty" json:"capture,omitempty"`
	CommandTimeout Duration `yaml:"command_timeout,omitempty" json:"command_timeout,omitempty"`

	Duration    Duration    `yaml:"duration" json:"duration"`
	SteadyState *Condition  `yaml:"steady_state,omitempty" json:"steady_state,omitempty"`
	SLOTarget   *Condition  `yaml:"slo_target" json:"slo_target"`
	RecoverySLA Duration    `yaml:"recovery_sla,omitempty" json:"recovery_sla"`
	Remediation Remediation `yaml:"remediation,omitempty" json:"remediation"`
	// Interval is the poll interval (default 30s); ConsecutiveOK the
	// healthy polls in a row that close the fault (default 3).
	Interval      Duration `yaml:"interval,omitempty" json:"interval"`
	ConsecutiveOK int      `yaml:"consecutive_ok,omitempty" json:"consecutive_ok"`
	// TTL is the failpoint's TTL, renewed by the runner (default 60s).
	TTL Duration `yaml:"ttl,omitempty" json:"ttl,omitempty"`

	File string `yaml:"-" json:"file,omitempty"`
	Line int    `yaml:"-" json:"line,omitempty"`
}

// Spec returns the failpoint spec the experiment sets (target=sequence).
func (e *Experiment) Spec() string {
	f := Failpoint{Module: e.Target.Module, Function: e.Target.Function}
	seq := e.Failpoint
	if seq == "" {
		seq = e.FaultType
	}
	return f.Target() + "=" + seq
}

// IsCommand reports whether the fault is injected by commands.
func (e *Experiment) IsCommand() bool { return e.FaultType == FaultCommand }

// File is an experiment file: variables, defaults every experiment
// inherits, and the experiments, in order.
type File struct {
	// Vars are the file's values of ${NAME} (see ParseFile for the order in
	// which values are looked up).
	Vars        map[string]string `yaml:"vars,omitempty" json:"vars,omitempty"`
	Defaults    *Experiment       `yaml:"defaults,omitempty" json:"-"`
	Experiments []Experiment      `yaml:"experiments" json:"experiments"`
	Name        string            `yaml:"-" json:"name"`
}

// LoadFile reads and parses an experiment file.
func LoadFile(path string, vars map[string]string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cgoguard: read experiments: %w", err)
	}
	return ParseFile(path, data, vars)
}

var (
	namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	varPattern  = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)
	yamlLine    = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
)

// RuntimeVars are left in place by ParseFile for the runner to fill: CHAOS_ID
// is the id a command fault's inject printed.
var RuntimeVars = []string{"CHAOS_ID"}

// ParseFile decodes an experiment file; name is used in messages. ${NAME} and
// ${NAME:-default} in values are replaced by, in order: vars (the
// command line's --var), the file's vars:, the environment, the default;
// an unknown name is an error. Decoding is strict: unknown keys, wrong
// types and invalid experiments are errors with their lines.
func ParseFile(name string, data []byte, vars map[string]string) (*File, error) {
	cerr := &ConfigError{File: name}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		addYAMLError(cerr, err)
		return nil, cerr
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		cerr.add(0, "empty experiment file")
		return nil, cerr
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		cerr.add(doc.Line, "an experiment file is a mapping with experiments: (and optionally vars:, defaults:)")
		return nil, cerr
	}
	checkKeys(cerr, doc, reflect.TypeOf(File{}), "file")
	fileVars := map[string]string{}
	if v := mapValue(doc, "vars"); v != nil {
		if err := v.Decode(&fileVars); err != nil {
			cerr.add(v.Line, "vars: %v", err)
		}
	}
	lookup := func(k string) (string, bool) {
		if v, ok := vars[k]; ok {
			return v, true
		}
		if v, ok := fileVars[k]; ok {
			return v, true
		}
		return os.LookupEnv(k)
	}
	for _, key := range []string{"defaults", "experiments"} {
		if n := mapValue(doc, key); n != nil {
			expandNode(cerr, n, lookup)
		}
	}
	var f File
	decodeLines := map[int]bool{}
	if err := doc.Decode(&f); err != nil {
		// Values that did not decode are reported; the rest of the file
		// is still checked, so one pass shows every problem.
		n := len(cerr.Problems)
		addYAMLError(cerr, err)
		for _, p := range cerr.Problems[n:] {
			decodeLines[p.Line] = true
		}
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, cerr.orNil()
		}
	}
	f.Name = name
	f.Vars = fileVars
	expNode := mapValue(doc, "experiments")
	if expNode == nil || len(f.Experiments) == 0 {
		cerr.add(lineOf(expNode, doc), "experiments: at least one experiment is required")
	}
	var defNode *yaml.Node
	if f.Defaults != nil {
		defNode = mapValue(doc, "defaults")
		if f.Defaults.Name != "" {
			cerr.add(keyLine(defNode, "name"), "defaults: name is per experiment")
		}
	}
	seen := map[string]int{}
	for i := range f.Experiments {
		e := &f.Experiments[i]
		var node *yaml.Node
		if expNode != nil && i < len(expNode.Content) {
			node = expNode.Content[i]
			e.Line = node.Line
		}
		e.File = name
		if f.Defaults != nil {
			inherit(e, f.Defaults, node)
		}
		applyDefaults(e)
		if prev, dup := seen[e.Name]; dup && e.Name != "" {
			cerr.add(keyLine(node, "name"), "experiment %s: duplicate name (first at line %d)", e.Name, prev)
		}
		seen[e.Name] = e.Line
		n := len(cerr.Problems)
		validate(cerr, e, node, i)
		// A value that did not decode is reported once, not again as
		// missing.
		kept := cerr.Problems[:n]
		for _, p := range cerr.Problems[n:] {
			if !decodeLines[p.Line] {
				kept = append(kept, p)
			}
		}
		cerr.Problems = kept
	}
	if err := cerr.orNil(); err != nil {
		return nil, err
	}
	return &f, nil
}

// inherit copies the defaults into the fields e leaves unset.
func inherit(e, d *Experiment, node *yaml.Node) {
	set := func(key string) bool { return mapValue(node, key) != nil }
	if !set("fault_type") {
		e.FaultType = d.FaultType
	}
	if !set("failpoint") {
		e.Failpoint = d.Failpoint
	}
	if tn := mapValue(node, "target"); tn == nil {
		e.Target = d.Target
	} else {
		if mapValue(tn, "admin") == nil {
			e.Target.Admin = d.Target.Admin
		}
		if mapValue(tn, "module") == nil {
			e.Target.Module = d.Target.Module
		}
		if mapValue(tn, "function") == nil {
			e.Target.Function = d.Target.Function
		}
		if mapValue(tn, "token_env") == nil {
			e.Target.TokenEnv = d.Target.TokenEnv
		}
	}
	strs := []struct {
		key      string
		dst, src *string
	}{{"inject", &e.Inject, &d.Inject}, {"revert", &e.Revert, &d.Revert}, {"capture", &e.Capture, &d.Capture}, {"description", &e.Description, &d.Description}}
	for _, s := range strs {
		if !set(s.key) {
			*s.dst = *s.src
		}
	}
	durs := []struct {
		key      string
		dst, src *Duration
	}{{"duration", &e.Duration, &d.Duration}, {"recovery_sla", &e.RecoverySLA, &d.RecoverySLA},
		{"interval", &e.Interval, &d.Interval}, {"ttl", &e.TTL, &d.TTL}, {"command_timeout", &e.CommandTimeout, &d.CommandTimeout}}
	for _, s := range durs {
		if !set(s.key) {
			*s.dst = *s.src
		}
	}
	if !set("steady_state") && d.SteadyState != nil {
		c := *d.SteadyState
		e.SteadyState = &c
	}
	if !set("slo_target") && d.SLOTarget != nil {
		c := *d.SLOTarget
		e.SLOTarget = &c
	}
	if !set("remediation") {
		e.Remediation = d.Remediation
	}
	if !set("consecutive_ok") {
		e.ConsecutiveOK = d.ConsecutiveOK
	}
}

func applyDefaults(e *Experiment) {
	if e.Interval == 0 {
		e.Interval = Duration(DefaultInterval)
	}
	if e.ConsecutiveOK == 0 {
		e.ConsecutiveOK = DefaultConsecutiveOK
	}
	if e.RecoverySLA == 0 {
		e.RecoverySLA = Duration(DefaultRecoverySLA)
	}
	if e.TTL == 0 {
		e.TTL = Duration(DefaultFailpointTTL)
	}
	if e.CommandTimeout == 0 {
		e.CommandTimeout = Duration(DefaultCommandTimeout)
	}
	if e.Remediation.Kind == "" {
		e.Remediation.Kind = "none"
	}
	if e.Target.TokenEnv == "" {
		e.Target.TokenEnv = TokenEnvVar
	}
	if e.Target.Admin != "" {
		e.Target.Admin = adminURL(e.Target.Admin) // the process's base URL: the endpoint at DefaultAdminPath
	}
	for _, c := range []*Condition{e.SteadyState, e.SLOTarget} {
		if c == nil {
			continue
		}
		if c.NoData == "" {
			c.NoData = "breach"
		}
		if op, ok := opNames[c.Op]; ok {
			c.Op = op
		}
		if c.Timeout == 0 {
			c.Timeout = Duration(DefaultQueryTimeout)
		}
		if c.Scrape != "" && c.Func == "" {
			c.Func = FuncValue
		}
	}
}

func validate(cerr *ConfigError, e *Experiment, node *yaml.Node, i int) {
	who := fmt.Sprintf("experiment %d", i+1)
	if e.Name != "" {
		who = "experiment " + e.Name
	}
	at := func(key string) int {
		if l := keyLine(node, key); l > 0 {
			return l
		}
		return e.Line
	}
	switch {
	case e.Name == "":
		cerr.add(e.Line, "%s: name is required", who)
	case !namePattern.MatchString(e.Name):
		cerr.add(at("name"), "%s: name must be letters, digits, '.', '_' or '-'", who)
	}
	ft := e.FaultType
	switch {
	case ft == "":
		cerr.add(at("fault_type"), "%s: fault_type is required (%s or command)", who, kindList())
	case ft == FaultCommand:
		if strings.TrimSpace(e.Inject) == "" {
			cerr.add(at("inject"), "%s: a command fault needs inject:", who)
		}
		if strings.TrimSpace(e.Revert) == "" {
			cerr.add(at("revert"), "%s: a command fault needs revert: (a fault must never outlive the run)", who)
		}
		if e.Capture != "" {
			if _, err := regexp.Compile(e.Capture); err != nil {
				cerr.add(at("capture"), "%s: capture: %v", who, err)
			}
		}
		if e.Failpoint != "" {
			cerr.add(at("failpoint"), "%s: failpoint: is for failpoint faults, not command", who)
		}
	case !Kind(ft).Valid() || Kind(ft) == Off:
		cerr.add(at("fault_type"), "%s: unknown fault_type %q (%s or command)", who, ft, kindList())
	default:
		if e.Target.Module == "" {
			cerr.add(at("target"), "%s: target.module is required for a failpoint fault", who)
		}
		checkURL(cerr, at("target"), who, "target.admin", e.Target.Admin)
		if e.Inject != "" || e.Revert != "" {
			cerr.add(at("inject"), "%s: inject:/revert: are for fault_type command", who)
		}
		if e.Failpoint == "" && (Kind(ft) == Delay || Kind(ft) == Errno || Kind(ft) == Error) {
			cerr.add(at("fault_type"), "%s: fault_type %s needs failpoint: with its argument, e.g. %s", who, ft, example(Kind(ft)))
		} else if e.Target.Module != "" {
			fps, err := Parse(e.Spec())
			switch {
			case err != nil:
				cerr.add(at("failpoint"), "%s: failpoint: %v", who, err)
			case len(fps) == 1 && !containsKind(fps[0].Kinds(), Kind(ft)):
				cerr.add(at("failpoint"), "%s: failpoint %q has no %s action (fault_type)", who, e.Failpoint, ft)
			}
		}
	}
	if e.Duration <= 0 {
		cerr.add(at("duration"), "%s: duration is required and positive", who)
	}
	if e.Interval <= 0 {
		cerr.add(at("interval"), "%s: interval must be positive", who)
	}
	if e.RecoverySLA <= 0 {
		cerr.add(at("recovery_sla"), "%s: recovery_sla must be positive", who)
	}
	if e.ConsecutiveOK < 1 {
		cerr.add(at("consecutive_ok"), "%s: consecutive_ok must be at least 1", who)
	}
	if e.TTL <= 0 {
		cerr.add(at("ttl"), "%s: ttl must be positive", who)
	}
	if e.CommandTimeout <= 0 {
		cerr.add(at("command_timeout"), "%s: command_timeout must be positive", who)
	}
	if e.Remediation.Kind == "reset" {
		if e.Target.Module == "" {
			cerr.add(at("remediation"), "%s: remediation reset needs target.module", who)
		}
		checkURL(cerr, at("remediation"), who, "target.admin (for remediation reset)", e.Target.Admin)
	}
	if e.SLOTarget == nil {
		cerr.add(at("slo_target"), "%s: slo_target is required", who)
	} else {
		validateCondition(cerr, at("slo_target"), who+": slo_target", e.SLOTarget)
	}
	if e.SteadyState != nil {
		validateCondition(cerr, at("steady_state"), who+": steady_state", e.SteadyState)
	}
}

func containsKind(ks []Kind, k Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

func kindList() string {
	s := make([]string, len(Kinds))
	for i, k := range Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

func checkURL(cerr *ConfigError, line int, who, what, s string) {
	if s == "" {
		cerr.add(line, "%s: %s is required", who, what)
		return
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		cerr.add(line, "%s: %s %q is not an http(s) URL", who, what, s)
	}
}

func validateCondition(cerr *ConfigError, line int, who string, c *Condition) {
	switch {
	case c.Prometheus != "" && c.Scrape != "":
		cerr.add(line, "%s: give prometheus: (a PromQL query) or scrape: (a /metrics URL), not both", who)
	case c.Prometheus != "":
		checkURL(cerr, line, who, "prometheus", c.Prometheus)
		if strings.TrimSpace(c.Query) == "" {
			cerr.add(line, "%s: prometheus: needs query:", who)
		}
		if c.Metric != "" || c.Func != "" || c.Over != nil || len(c.Labels) > 0 {
			cerr.add(line, "%s: metric:, labels:, func:, over: are for scrape:, not prometheus:", who)
		}
		if strings.Contains(c.Query, "$window") && c.Window <= 0 {
			cerr.add(line, "%s: the query uses $window: set window:", who)
		}
	case c.Scrape != "":
		checkURL(cerr, line, who, "scrape", c.Scrape)
		if c.Query != "" {
			cerr.add(line, "%s: query: is for prometheus:, not scrape:", who)
		}
		if c.Metric == "" {
			cerr.add(line, "%s: scrape: needs metric:", who)
		}
		known := false
		for _, f := range funcs {
			known = known || c.Func == f
		}
		if !known {
			cerr.add(line, "%s: unknown func %q (%s)", who, c.Func, strings.Join(funcs, ", "))
		}
		if c.Func != FuncValue && c.Window <= 0 {
			cerr.add(line, "%s: func %s needs window:", who, c.Func)
		}
		if c.Func == FuncQuantile && (c.Quantile <= 0 || c.Quantile >= 1) {
			cerr.add(line, "%s: func quantile needs quantile: between 0 and 1 (e.g. 0.99)", who)
		}
		if c.Func != FuncRatio && c.Over != nil {
			cerr.add(line, "%s: over: is for func ratio", who)
		}
		if c.Func == FuncRatio && c.Over == nil {
			cerr.add(line, "%s: func ratio needs over: (the denominator's labels)", who)
		}
		for _, sel := range []map[string]string{c.Labels, overLabels(c)} {
			for k, v := range sel {
				if _, err := newMatcher(k, v); err != nil {
					cerr.add(line, "%s: labels: %v", who, err)
				}
			}
		}
	default:
		cerr.add(line, "%s: give prometheus: and query:, or scrape: and metric:", who)
	}
	if _, ok := opNames[c.Op]; !ok {
		cerr.add(line, "%s: op %q: want <, <=, >, >=, == or !=", who, c.Op)
	}
	if !c.Threshold.Set {
		cerr.add(line, "%s: threshold is required", who)
	}
	if c.NoData != "breach" && c.NoData != "ok" {
		cerr.add(line, "%s: no_data must be breach or ok, not %q", who, c.NoData)
	}
	if c.Window < 0 || c.Timeout <= 0 || c.ScrapeInterval < 0 {
		cerr.add(line, "%s: window, timeout and scrape_interval must be positive", who)
	}
}

func overLabels(c *Condition) map[string]string {
	if c.Over == nil {
		return nil
	}
	return c.Over.Labels
}

// expandNode replaces ${NAME} in every scalar value under n.
func expandNode(cerr *ConfigError, n *yaml.Node, lookup func(string) (string, bool)) {
	switch n.Kind {
	case yaml.ScalarNode:
		n.Value = varPattern.ReplaceAllStringFunc(n.Value, func(m string) string {
			sub := varPattern.FindStringSubmatch(m)
			for _, rv := range RuntimeVars {
				if sub[1] == rv {
					return m
				}
			}
			if v, ok := lookup(sub[1]); ok {
				return v
			}
			if sub[2] != "" {
				return sub[3]
			}
			cerr.add(n.Line, "unknown variable ${%s} (set it under vars:, with --var %s=VALUE or in the environment)", sub[1], sub[1])
			return m
		})
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			expandNode(cerr, n.Content[i], lookup)
		}
	case yaml.SequenceNode, yaml.DocumentNode:
		for _, c := range n.Content {
			expandNode(cerr, c, lookup)
		}
	}
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

// checkKeys reports keys of mapping nodes that t has no field for, at
// their lines (yaml.Node.Decode has no strict mode).
func checkKeys(cerr *ConfigError, n *yaml.Node, t reflect.Type, where string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n == nil || reflect.PointerTo(t).Implements(unmarshalerType) {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return
		}
		fields := map[string]reflect.Type{}
		var names []string
		for i := 0; i < t.NumField(); i++ {
			tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
			if tag == "" || tag == "-" {
				continue
			}
			fields[tag] = t.Field(i).Type
			names = append(names, tag)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			ft, ok := fields[k]
			if !ok {
				cerr.add(n.Content[i].Line, "%s: unknown key %q (known: %s)", where, k, strings.Join(names, ", "))
				continue
			}
			checkKeys(cerr, n.Content[i+1], ft, k)
		}
	case reflect.Slice:
		if n.Kind == yaml.SequenceNode {
			for _, c := range n.Content {
				checkKeys(cerr, c, t.Elem(), strings.TrimSuffix(where, "s"))
			}
		}
	}
}

func addYAMLError(cerr *ConfigError, err error) {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		for _, e := range te.Errors {
			addYAMLLine(cerr, e)
		}
		return
	}
	addYAMLLine(cerr, err.Error())
}

func addYAMLLine(cerr *ConfigError, s string) {
	if m := yamlLine.FindStringSubmatch(s); m != nil {
		l, _ := strconv.Atoi(m[1])
		cerr.add(l, "%s", m[2])
		return
	}
	cerr.add(0, "%s", strings.TrimPrefix(s, "yaml: "))
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func keyLine(n *yaml.Node, key string) int {
	if n == nil || n.Kind != yaml.MappingNode {
		return 0
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i].Line
		}
	}
	return 0
}

func lineOf(n, fallback *yaml.Node) int {
	if n != nil {
		return n.Line
	}
	return fallback.Line
}
