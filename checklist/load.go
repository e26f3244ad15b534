package checklist

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ErrInvalid is the sentinel of every checklist configuration error; a
// *ConfigError matches it with errors.Is.
var ErrInvalid = errors.New("cgoguard: invalid checklist")

// Problem is one configuration error at a line of a checklist file.
type Problem struct {
	Line int `json:"line,omitempty"`
	// Column is set by ConfigError.Locate; 0 means unknown.
	Column int    `json:"column,omitempty"`
	Msg    string `json:"message"`
}

// ConfigError lists what is wrong with a checklist file, each problem with
// its line. It matches ErrInvalid.
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
		if e.File != "" {
			b.WriteString(e.File)
			if p.Line > 0 {
				fmt.Fprintf(&b, ":%d", p.Line)
				if p.Column > 0 {
					fmt.Fprintf(&b, ":%d", p.Column)
				}
			}
			b.WriteString(": ")
		}
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

// LoadOptions chooses how variables are expanded. The zero value uses the
// "default" variables only.
type LoadOptions struct {
	// Env names the variable set under `vars:` to use; empty means only
	// "default". Naming an environment the file does not declare is an error.
	Env string
	// Vars are set last and win over the file's variables; the check
	// command sets PACKAGES here (default "./...").
	Vars map[string]string
}

// LoadFile reads and parses a checklist file.
func LoadFile(path string, opts LoadOptions) (*Checklist, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cgoguard: read checklist: %w", err)
	}
	return Parse(path, data, opts)
}

var (
	idPattern  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]*$`)
	varPattern = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
	yamlLine   = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
)

// Parse decodes a checklist from data; name is used in error messages.
// Decoding is strict: unknown keys, wrong types, unknown kinds, duplicate
// or dangling ids, dependency cycles and unknown ${VAR}s are errors, each
// reported with its line as a *ConfigError.
func Parse(name string, data []byte, opts LoadOptions) (*Checklist, error) {
	cerr := &ConfigError{File: name}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		addYAMLError(cerr, err)
		return nil, cerr
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		cerr.add(0, "empty checklist")
		return nil, cerr
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		cerr.add(doc.Line, "a checklist is a mapping with checklist:, version: and checks:")
		return nil, cerr
	}
	var cl Checklist
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cl); err != nil && err != io.EOF {
		addYAMLError(cerr, err)
		// Unknown keys aside, decode leniently to report the other
		// problems of the file in the same pass.
		cl = Checklist{}
		if yaml.Unmarshal(data, &cl) != nil {
			return nil, cerr.orNil()
		}
	}
	cl.File = name

	checksNode := mapValue(doc, "checks")
	if cl.Name == "" {
		cerr.add(doc.Line, "checklist: a name is required")
	}
	if checksNode == nil || len(cl.Checks) == 0 {
		cerr.add(lineOf(checksNode, doc), "checks: at least one check is required")
	}
	if checksNode != nil && checksNode.Kind == yaml.SequenceNode {
		for i := range cl.Checks {
			if i < len(checksNode.Content) {
				cl.Checks[i].Line = checksNode.Content[i].Line
			}
		}
	}
	for i, p := range cl.Redact {
		if _, err := regexp.Compile(p); err != nil {
			cerr.add(keyLine(doc, "redact"), "redact[%d]: %v", i, err)
		}
	}
	vars, err := resolveVars(&cl, opts)
	if err != nil {
		cerr.add(keyLine(doc, "vars"), "%v", err)
	}

	ids := map[string]int{}
	for i := range cl.Checks {
		c := &cl.Checks[i]
		var node *yaml.Node
		if checksNode != nil && i < len(checksNode.Content) {
			node = checksNode.Content[i]
		}
		at := func(key string) int {
			if l := keyLine(node, key); l > 0 {
				return l
			}
			return c.Line
		}
		who := fmt.Sprintf("check %d", i+1)
		if c.ID != "" {
			who = "check " + c.ID
		}
		switch {
		case c.ID == "":
			cerr.add(c.Line, "%s: id is required", who)
		case !idPattern.MatchString(c.ID):
			cerr.add(at("id"), "%s: id must be letters, digits, '-', '_' or '.', starting with a letter", who)
		default:
			if prev, dup := ids[c.ID]; dup {
				cerr.add(at("id"), "%s: duplicate id (first at line %d)", who, prev)
			} else {
				ids[c.ID] = c.Line
			}
		}
		if strings.TrimSpace(c.Title) == "" {
			cerr.add(c.Line, "%s: title is required", who)
		}
		if c.Kind == "" {
			cerr.add(c.Line, "%s: kind is required (one of %s)", who, strings.Join(Kinds, ", "))
		} else if !knownKind(c.Kind) {
			cerr.add(at("kind"), "%s: unknown kind %q (one of %s)", who, c.Kind, strings.Join(Kinds, ", "))
		}
		if !c.Severity.Valid() {
			cerr.add(at("severity"), "%s: unknown severity %q (info, low, medium, high or critical)", who, c.Severity)
		}
		if c.Evidence != "" && c.Evidence != "optional" && c.Evidence != "required" {
			cerr.add(at("evidence"), "%s: evidence must be optional or required, not %q", who, c.Evidence)
		}
		if c.TimeoutSeconds < 0 {
			cerr.add(at("timeout_seconds"), "%s: timeout_seconds must not be negative", who)
		}
		if c.Retry != nil {
			if c.Retry.Attempts < 1 || c.Retry.Attempts > 10 {
				cerr.add(at("retry_on_failure"), "%s: retry_on_failure.attempts must be 1 to 10, not %d", who, c.Retry.Attempts)
			}
			if c.Retry.DelaySeconds < 0 {
				cerr.add(at("retry_on_failure"), "%s: retry_on_failure.delay_seconds must not be negative", who)
			}
		}
		if c.Waiver != nil {
			if strings.TrimSpace(c.Waiver.Reason) == "" {
				cerr.add(at("waiver"), "%s: waiver.reason is required", who)
			}
			if c.Waiver.Expires.IsZero() {
				cerr.add(at("waiver"), "%s: waiver.expires (YYYY-MM-DD) is required", who)
			}
		}
		if vars != nil && c.With != nil {
			w, err := expand(c.With, vars)
			if err != nil {
				cerr.add(at("with"), "%s: with: %v", who, err)
			} else {
				c.With = w.(map[string]any)
			}
		}
	}
	for i := range cl.Checks {
		c := &cl.Checks[i]
		for _, d := range c.DependsOn {
			switch {
			case d == c.ID:
				cerr.add(c.Line, "check %s: depends_on names itself", c.ID)
			case ids[d] == 0:
				cerr.add(c.Line, "check %s: depends_on names unknown check %q", c.ID, d)
			}
		}
	}
	if len(cerr.Problems) == 0 {
		if cyc := findCycle(cl.Checks); cyc != nil {
			cerr.add(ids[cyc[0]], "depends_on cycle: %s", strings.Join(cyc, " -> "))
		}
	}
	if err := cerr.orNil(); err != nil {
		return nil, err
	}
	return &cl, nil
}

func knownKind(k string) bool {
	for _, n := range Kinds {
		if n == k {
			return true
		}
	}
	return false
}

// addYAMLError turns a yaml.v3 error into problems with lines.
func addYAMLError(cerr *ConfigError, err error) {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	for _, m := range msgs {
		m = strings.TrimPrefix(m, "yaml: unmarshal errors:\n")
		for _, part := range strings.Split(m, "\n") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			if sm := yamlLine.FindStringSubmatch(part); sm != nil {
				n, _ := strconv.Atoi(sm[1])
				cerr.add(n, "%s", cleanYAMLMsg(sm[2]))
				continue
			}
			cerr.add(0, "%s", cleanYAMLMsg(strings.TrimPrefix(part, "yaml: ")))
		}
	}
}

func cleanYAMLMsg(m string) string {
	m = strings.ReplaceAll(m, "checklist.Checklist", "checklist")
	m = strings.ReplaceAll(m, "checklist.Check", "check")
	m = strings.ReplaceAll(m, "checklist.Retry", "retry_on_failure")
	m = strings.ReplaceAll(m, "checklist.Waiver", "waiver")
	return m
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func keyLine(m *yaml.Node, key string) int {
	if m == nil || m.Kind != yaml.MappingNode {
		return 0
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i].Line
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

// resolveVars merges default vars, the chosen environment and overrides.
func resolveVars(cl *Checklist, opts LoadOptions) (map[string]string, error) {
	// PACKAGES is always defined: the check command sets it to the
	// packages it was given.
	vars := map[string]string{"PACKAGES": "./..."}
	for k, v := range cl.Vars["default"] {
		vars[k] = v
	}
	if opts.Env != "" && opts.Env != "default" {
		env, ok := cl.Vars[opts.Env]
		if !ok {
			names := make([]string, 0, len(cl.Vars))
			for n := range cl.Vars {
				names = append(names, n)
			}
			sort.Strings(names)
			return nil, fmt.Errorf("environment %q is not declared under vars (declared: %s)", opts.Env, strings.Join(names, ", "))
		}
		for k, v := range env {
			vars[k] = v
		}
	}
	for k, v := range opts.Vars {
		vars[k] = v
	}
	return vars, nil
}

// expand replaces ${VAR} in every string of v.
func expand(v any, vars map[string]string) (any, error) {
	switch t := v.(type) {
	case string:
		var missing []string
		out := varPattern.ReplaceAllStringFunc(t, func(m string) string {
			name := m[2 : len(m)-1]
			val, ok := vars[name]
			if !ok {
				missing = append(missing, name)
			}
			return val
		})
		if missing != nil {
			return nil, fmt.Errorf("undefined variable ${%s}", missing[0])
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			x, err := expand(e, vars)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = x
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			x, err := expand(e, vars)
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	}
	return v, nil
}

// findCycle returns the ids of one depends_on cycle, first id repeated at
// the end, or nil.
func findCycle(checks []Check) []string {
	deps := map[string][]string{}
	for _, c := range checks {
		deps[c.ID] = c.DependsOn
	}
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var found []string
	var visit func(id string) bool
	visit = func(id string) bool {
		color[id] = grey
		stack = append(stack, id)
		for _, d := range deps[id] {
			switch color[d] {
			case grey:
				for i, s := range stack {
					if s == d {
						found = append(append([]string{}, stack[i:]...), d)
					}
				}
				return true
			case white:
				if visit(d) {
					return true
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[id] = black
		return false
	}
	for _, c := range checks {
		if color[c.ID] == white && visit(c.ID) {
			return found
		}
	}
	return nil
}
