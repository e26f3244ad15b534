package checklist

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// FieldError is a problem with one field of a check's `with` parameters.
// Kinds return it from Validate (several joined with errors.Join) so that
// the loader names the field's own line.
type FieldError struct {
	// Field is the key path inside `with`, such as "exit_code",
	// "serve.ready_seconds" or "json[0].matches".
	Field string
	// Msg says what is wrong, such as "must be from 0 to 255, not 300".
	Msg string

	at string // key path to locate, when not Field (an unknown key)
}

// Error returns "field: message", or "field message" when the message
// starts with "must" (so that it reads "exit_code must be ...").
func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	if strings.HasPrefix(e.Msg, "must ") {
		return e.Field + " " + e.Msg
	}
	return e.Field + ": " + e.Msg
}

// Is makes errors.Is(err, ErrInvalid) hold.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// DecodeWith fills v (a pointer to a struct with yaml tags) from a check's
// `with` map, strictly: every unknown key and every value of the wrong type
// is reported, each as a *FieldError naming its key path, joined with
// errors.Join. Kinds use it in Validate and Run.
func DecodeWith(with map[string]any, v any) error {
	if len(with) == 0 {
		return nil
	}
	var n yaml.Node
	if err := n.Encode(with); err != nil {
		return err
	}
	var errs []error
	w := walker{add: func(_ int, path, at, msg string) {
		errs = append(errs, &FieldError{Field: path, Msg: msg, at: at})
	}}
	w.walk(&n, reflect.TypeOf(v), "")
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := n.Decode(v); err != nil {
		return err
	}
	return nil
}

// fieldErrors returns the FieldErrors in err's tree, and whether anything
// else is in it.
func fieldErrors(err error) (fes []*FieldError, other []error) {
	var walk func(error)
	walk = func(e error) {
		if fe, ok := e.(*FieldError); ok {
			fes = append(fes, fe)
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		other = append(other, e)
	}
	walk(err)
	return fes, other
}

// MustBeIn returns a *FieldError when v is not a finite number in
// [lo, hi]; the message names the range and the value.
func MustBeIn(field string, v, lo, hi float64) error {
	if math.IsNaN(v) || v < lo || v > hi {
		return &FieldError{Field: field, Msg: fmt.Sprintf("must be from %s to %s, not %s", num(lo), num(hi), num(v))}
	}
	return nil
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// walker checks a YAML node tree against a Go type, reporting unknown keys,
// repeated keys and values of the wrong type with their line and key path.
// yaml.v3's own strict mode stops at the first unknown key and reports
// type errors without the field's name; the walker reports every problem
// and names it.
type walker struct {
	// add reports a problem: line is the node's line, path the field the
	// message is about ("" for the top), at the key path where it is.
	add    func(line int, path, at, msg string)
	budget int // nodes left to visit; aliases could otherwise multiply work
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) {
	if n == nil {
		return
	}
	if w.budget == 0 {
		w.budget = 1 << 16
	}
	if w.budget--; w.budget <= 0 {
		w.budget = 1 // stay exhausted
		return
	}
	for n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return
		}
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) > 0 {
			w.walk(n.Content[0], t, path)
		}
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // nothing: the zero value
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			msg := err.Error()
			var te *yaml.TypeError
			if errors.As(err, &te) && len(te.Errors) > 0 {
				msg = te.Errors[0]
			}
			w.add(n.Line, path, path, stripLine(msg))
		}
		return
	}
	switch t.Kind() {
	case reflect.Interface:
		return
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			w.add(n.Line, path, path, "want a mapping, not "+describe(n))
			return
		}
		fields := map[string]reflect.Type{}
		var names []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if tag == "-" || !f.IsExported() {
				continue
			}
			if tag == "" {
				tag = strings.ToLower(f.Name)
			}
			fields[tag] = f.Type
			names = append(names, tag)
		}
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			switch {
			case !ok:
				w.add(k.Line, path, join(path, k.Value), fmt.Sprintf("unknown key %s (known: %s)", quoteKey(k.Value), strings.Join(names, ", ")))
			case seen[k.Value] > 0:
				w.add(k.Line, join(path, k.Value), join(path, k.Value), fmt.Sprintf("repeated (first at line %d)", seen[k.Value]))
			default:
				seen[k.Value] = k.Line
				w.walk(v, ft, join(path, k.Value))
			}
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			w.add(n.Line, path, path, "want a mapping, not "+describe(n))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				w.add(k.Line, path, path, "want a plain key, not "+describe(k))
				continue
			}
			w.walk(v, t.Elem(), join(path, k.Value))
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			w.add(n.Line, path, path, "want a list, not "+describe(n))
			return
		}
		for i, e := range n.Content {
			w.walk(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			w.add(n.Line, path, path, "want a string, not "+describe(n))
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			w.add(n.Line, path, path, "want true or false, not "+describe(n))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var x int64
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&x) != nil || reflect.Zero(t).OverflowInt(x) {
			w.add(n.Line, path, path, "want a whole number, not "+describe(n))
		}
	case reflect.Float32, reflect.Float64:
		var x float64
		if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") || n.Decode(&x) != nil {
			what := "want a number, not "
			if strings.HasSuffix(path, "_seconds") {
				what = "want a number of seconds, not "
			}
			w.add(n.Line, path, path, what+describe(n))
		}
	}
}

// describe names a node's value for a message: `the string "abc"`,
// `the number 5`, `a list`, `a mapping`.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:40] + "..."
	}
	switch n.ShortTag() {
	case "!!int", "!!float":
		return "the number " + v
	case "!!bool":
		return v
	case "!!null":
		return "nothing"
	}
	return "the string " + strconv.Quote(v)
}

// quoteKey shows a key as is when it is a plain word, quoted otherwise.
func quoteKey(k string) string {
	for _, r := range k {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return strconv.Quote(k)
		}
	}
	if k == "" {
		return `""`
	}
	return k
}

func stripLine(msg string) string {
	if sm := yamlLine.FindStringSubmatch(msg); sm != nil {
		return sm[2]
	}
	return msg
}

// nodeLine returns the line of the key at path (as FieldError.Field spells
// it) inside mapping n, or 0.
func nodeLine(n *yaml.Node, path string) int {
	line := 0
	for _, part := range splitPath(path) {
		for n != nil && n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		if n == nil {
			return line
		}
		if idx, err := strconv.Atoi(part); err == nil && n.Kind == yaml.SequenceNode {
			if idx < 0 || idx >= len(n.Content) {
				return line
			}
			n = n.Content[idx]
			line = n.Line
			continue
		}
		if n.Kind != yaml.MappingNode {
			return line
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == part {
				line = n.Content[i].Line
				next = n.Content[i+1]
				break
			}
		}
		if next == nil {
			return line
		}
		n = next
	}
	return line
}

// splitPath splits "serve.ready" and "json[0].matches" into their parts.
func splitPath(path string) []string {
	var parts []string
	for _, p := range strings.Split(path, ".") {
		for {
			i := strings.IndexByte(p, '[')
			if i < 0 {
				break
			}
			if i > 0 {
				parts = append(parts, p[:i])
			}
			j := strings.IndexByte(p[i:], ']')
			if j < 0 {
				break
			}
			parts = append(parts, p[i+1:i+j])
			p = p[i+j+1:]
		}
		if p != "" {
			parts = append(parts, p)
		}
	}
	return parts
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
