package checklist

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
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

// Limits of the numeric fields of a check.
const (
	// MaxTimeoutSeconds bounds timeout_seconds (a day).
	MaxTimeoutSeconds = 86400
	// MaxRetryDelaySeconds bounds retry_on_failure.delay_seconds (an hour).
	MaxRetryDelaySeconds = 3600
	// MaxAttempts bounds retry_on_failure.attempts.
	MaxAttempts = 10
)

// Parse decodes a checklist from data; name is used in error messages.
// Decoding is strict and every problem of the file comes back from one
// call, each with its line, as a *ConfigError: YAML syntax, a second YAML
// document, unknown or repeated keys, values of the wrong type (naming the
// field), numbers out of range, unknown kinds and severities, duplicate or
// dangling ids, dependency cycles, undefined ${VAR}s, and the `with`
// parameters of every check whose kind is registered (import package
// checklist/kinds to register the built-in kinds).
func Parse(name string, data []byte, opts LoadOptions) (*Checklist, error) {
	cerr := &ConfigError{File: name}
	doc, ok := oneDocument(cerr, data)
	if !ok {
		return nil, cerr
	}
	if doc.Kind != yaml.MappingNode {
		cerr.add(doc.Line, "a checklist is a mapping with checklist:, version: and checks:")
		return nil, cerr
	}
	var cl Checklist
	// The walker reports unknown keys and wrong types with their field
	// names; what it accepts decodes cleanly, and a value it rejected is
	// left at its zero value so the other problems are still found.
	checksNode := mapValue(doc, "checks")
	bad := map[string]bool{} // key paths whose values were rejected
	w := walker{add: func(line int, path, at, msg string) {
		bad[at] = true
		cerr.add(line, "%s", topMessage(checksNode, path, msg))
	}}
	w.walk(doc, reflect.TypeOf(cl), "")
	walked := len(cerr.Problems)
	if err := doc.Decode(&cl); err != nil && walked == 0 {
		addYAMLError(cerr, err)
	}
	cl.File = name

	if cl.Name == "" && !bad["checklist"] {
		cerr.add(doc.Line, "checklist: a name is required")
	}
	if checksNode == nil || (checksNode.Kind == yaml.SequenceNode && len(checksNode.Content) == 0) ||
		(checksNode.Kind == yaml.ScalarNode && checksNode.ShortTag() == "!!null") {
		cerr.add(lineOf(checksNode, doc), "checks: at least one check is required")
	}
	var checkNodes []*yaml.Node
	if checksNode != nil && checksNode.Kind == yaml.SequenceNode {
		checkNodes = checksNode.Content
		for i := range cl.Checks {
			if i < len(checkNodes) {
				cl.Checks[i].Line = checkNodes[i].Line
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
	cl.used = map[string]bool{}

	ids := map[string]int{}
	for i := range cl.Checks {
		c := &cl.Checks[i]
		var node *yaml.Node
		if i < len(checkNodes) {
			node = checkNodes[i]
		}
		// rejected says the walker already reported the field's value.
		rejected := func(key string) bool { return bad[fmt.Sprintf("checks[%d].%s", i, key)] }
		at := func(key string) int {
			if l := keyLine(node, key); l > 0 {
				return l
			}
			return c.Line
		}
		who := checkName(i, c.ID)
		switch {
		case c.ID == "":
			if !rejected("id") {
				cerr.add(c.Line, "%s: id is required", who)
			}
		case !idPattern.MatchString(c.ID):
			cerr.add(at("id"), "%s: id must be ASCII letters, digits, '-', '_' or '.', starting with a letter", who)
		default:
			if prev, dup := ids[c.ID]; dup {
				cerr.add(at("id"), "%s: duplicate id (first at line %d)", who, prev)
			} else {
				ids[c.ID] = c.Line
			}
		}
		if strings.TrimSpace(c.Title) == "" && !rejected("title") {
			cerr.add(c.Line, "%s: title is required", who)
		}
		kindOK := false
		switch {
		case c.Kind == "":
			if !rejected("kind") {
				cerr.add(c.Line, "%s: kind is required (one of %s)", who, strings.Join(Kinds, ", "))
			}
		case !knownKind(c.Kind):
			cerr.add(at("kind"), "%s: unknown kind %q (one of %s)", who, c.Kind, strings.Join(Kinds, ", "))
		default:
			kindOK = true
		}
		if !c.Severity.Valid() {
			cerr.add(at("severity"), "%s: unknown severity %q (info, low, medium, high or critical)", who, c.Severity)
		}
		if c.Evidence != "" && c.Evidence != "optional" && c.Evidence != "required" {
			cerr.add(at("evidence"), "%s: evidence must be optional or required, not %q", who, c.Evidence)
		}
		if err := MustBeIn("timeout_seconds", c.TimeoutSeconds, 0, MaxTimeoutSeconds); err != nil {
			cerr.add(at("timeout_seconds"), "%s: %v (0 means the default, %s)", who, err, DefaultTimeout)
		}
		if c.Retry != nil {
			if (c.Retry.Attempts < 1 || c.Retry.Attempts > MaxAttempts) && !rejected("retry_on_failure.attempts") {
				cerr.add(at("retry_on_failure"), "%s: retry_on_failure.attempts must be 1 to %d, not %d", who, MaxAttempts, c.Retry.Attempts)
			}
			if err := MustBeIn("retry_on_failure.delay_seconds", c.Retry.DelaySeconds, 0, MaxRetryDelaySeconds); err != nil {
				cerr.add(at("retry_on_failure"), "%s: %v", who, err)
			}
		}
		if c.Waiver != nil {
			if strings.TrimSpace(c.Waiver.Reason) == "" && !rejected("waiver.reason") {
				cerr.add(at("waiver"), "%s: waiver.reason is required", who)
			}
			if c.Waiver.Expires.IsZero() && !rejected("waiver.expires") {
				cerr.add(at("waiver"), "%s: waiver.expires (YYYY-MM-DD) is required", who)
			}
		}
		if vars != nil && c.With != nil {
			x, err := expand(c.With, vars, cl.used)
			if err != nil {
				cerr.add(at("with"), "%s: with: %v", who, err)
				continue
			}
			c.With = x.(map[string]any)
			if kindOK {
				if k, ok := LookupKind(c.Kind); ok {
					addWithErrors(cerr, mapValue(node, "with"), at("with"), who, k.Validate(c.With))
				}
			}
		} else if vars != nil && kindOK {
			if k, ok := LookupKind(c.Kind); ok {
				addWithErrors(cerr, nil, at("kind"), who, k.Validate(c.With))
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
	if cyc := findCycle(cl.Checks); cyc != nil && len(cyc) > 2 {
		cerr.add(ids[cyc[0]], "depends_on cycle: %s", strings.Join(cyc, " -> "))
	}
	if err := cerr.orNil(); err != nil {
		return nil, err
	}
	return &cl, nil
}

// oneDocument returns the one YAML document of data. A second document with
// content is an error: a YAML decoder reading one value would silently drop
// it and the checks in it would never run.
func oneDocument(cerr *ConfigError, data []byte) (*yaml.Node, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if err == io.EOF {
			break
		}
		if err != nil {
			addYAMLError(cerr, err)
			return nil, false
		}
		if len(n.Content) == 0 || (n.Content[0].Kind == yaml.ScalarNode && n.Content[0].ShortTag() == "!!null") {
			continue // an empty document: a marker with nothing after it
		}
		docs = append(docs, n.Content[0])
	}
	switch len(docs) {
	case 0:
		cerr.add(0, "empty checklist")
		return nil, false
	case 1:
		return docs[0], true
	}
	second := docs[1].Line
	// The document starts at its "---" marker, the line before its content
	// when the marker stands alone.
	if lines := strings.Split(string(data), "\n"); second >= 2 && second-2 < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[second-2]), "---") {
		second--
	}
	cerr.add(second, "a checklist file holds one YAML document; a second document starts at line %d (put it in its own file and pass -f once per file)", second)
	return nil, false
}

func checkName(i int, id string) string {
	if id != "" {
		return "check " + id
	}
	return fmt.Sprintf("check %d", i+1)
}

// topMessage turns a walker problem at path into a message that names the
// check ("checks[2].timeout_seconds" becomes "check B: timeout_seconds").
func topMessage(checks *yaml.Node, path, msg string) string {
	parts := splitPath(path)
	if len(parts) >= 2 && parts[0] == "checks" {
		i, err := strconv.Atoi(parts[1])
		if err == nil {
			id := ""
			if checks != nil && i < len(checks.Content) {
				if v := mapValue(checks.Content[i], "id"); v != nil && v.Kind == yaml.ScalarNode {
					id = v.Value
				}
			}
			rest := strings.TrimPrefix(strings.TrimPrefix(path, fmt.Sprintf("checks[%d]", i)), ".")
			if rest == "" {
				return checkName(i, id) + ": " + msg
			}
			return checkName(i, id) + ": " + rest + ": " + msg
		}
	}
	if path == "" {
		return msg
	}
	return path + ": " + msg
}

// addWithErrors reports a kind's Validate error: each *FieldError at the
// line of its key inside `with`, anything else at the `with` line.
func addWithErrors(cerr *ConfigError, with *yaml.Node, line int, who string, err error) {
	if err == nil {
		return
	}
	fes, other := fieldErrors(err)
	for _, fe := range fes {
		l := line
		at := fe.at
		if at == "" {
			at = fe.Field
		}
		if at != "" {
			if fl := nodeLine(with, at); fl > 0 {
				l = fl
			}
		}
		cerr.add(l, "%s: with: %v", who, fe)
	}
	for _, e := range other {
		cerr.add(line, "%s: with: %v", who, e)
	}
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

// expand replaces ${VAR} in every string of v and records the names it
// used in used.
func expand(v any, vars map[string]string, used map[string]bool) (any, error) {
	switch t := v.(type) {
	case string:
		var missing []string
		out := varPattern.ReplaceAllStringFunc(t, func(m string) string {
			name := m[2 : len(m)-1]
			val, ok := vars[name]
			if !ok {
				missing = append(missing, name)
			}
			used[name] = true
			return val
		})
		if missing != nil {
			return nil, undefinedVar(missing[0])
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			x, err := expand(e, vars, used)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = x
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			x, err := expand(e, vars, used)
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	}
	return v, nil
}

// undefinedVar explains an undefined ${NAME}, with a hint when the name is
// set in the environment (variables never come from there).
func undefinedVar(name string) error {
	if _, inEnv := os.LookupEnv(name); inEnv {
		return fmt.Errorf("undefined variable ${%s}: checklist variables come from vars: and --var, not from the environment; "+
			"declare it under vars:, pass --var %s=VALUE, or write $%s to let the shell of a run: line expand it", name, name, name)
	}
	return fmt.Errorf("undefined variable ${%s} (declare it under vars: or pass --var %s=VALUE)", name, name)
}

// UsedVars returns the names of the variables the checks' `with`
// parameters refer to as ${NAME}, sorted. The check command warns about a
// --var that no check uses.
func (cl *Checklist) UsedVars() []string { return sortedKeys(cl.used) }

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
