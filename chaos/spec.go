package chaos

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrSpec is the sentinel of every failpoint spec error; a *SpecError
// matches it with errors.Is.
var ErrSpec = errors.New("cgoguard: invalid failpoint spec")

// SpecError says where a failpoint spec is wrong: Pos is the byte offset
// in Spec where the parser stopped.
type SpecError struct {
	Spec string
	Pos  int
	Msg  string
}

// Error quotes the spec and points at the offending byte.
func (e *SpecError) Error() string {
	return fmt.Sprintf("cgoguard: failpoint spec %q: at byte %d: %s", e.Spec, e.Pos, e.Msg)
}

// Is makes errors.Is(err, ErrSpec) hold.
func (e *SpecError) Is(target error) bool { return target == ErrSpec }

// Kind is what a failpoint does to a call.
type Kind string

// The kinds of action. Off does nothing (the call runs normally); the
// signal kinds raise a real signal in C on the calling thread; Delay
// sleeps in C before calling the function; Hang blocks in C until the
// failpoint is cleared or expires; Errno returns -errno without calling
// the function; Error fails the call as cg_set_error does.
const (
	Off   Kind = "off"
	Segv  Kind = "segv"
	Bus   Kind = "bus"
	FPE   Kind = "fpe"
	Abort Kind = "abort"
	Delay Kind = "delay"
	Hang  Kind = "hang"
	Errno Kind = "errno"
	Error Kind = "error"
)

// Kinds lists every action kind but Off, in the order of the reports.
var Kinds = []Kind{Segv, Bus, FPE, Abort, Delay, Hang, Errno, Error}

// Valid reports whether k is a known kind (Off included).
func (k Kind) Valid() bool {
	if k == Off {
		return true
	}
	for _, x := range Kinds {
		if k == x {
			return true
		}
	}
	return false
}

// Action is one action with its parameters.
type Action struct {
	Kind Kind
	// Delay is the sleep of a Delay action.
	Delay time.Duration
	// Errno is the errno of an Errno action, and the optional errno an
	// Error action records.
	Errno syscall.Errno
	// Code and Message are what an Error action reports (cg_set_error).
	Code    int
	Message string
}

// String writes the action in spec syntax.
func (a Action) String() string {
	switch a.Kind {
	case Delay:
		return "delay(" + a.Delay.String() + ")"
	case Errno:
		return "errno(" + errnoString(a.Errno) + ")"
	case Error:
		s := "error(" + strconv.Itoa(a.Code) + "," + strconv.Quote(a.Message)
		if a.Errno != 0 {
			s += "," + errnoString(a.Errno)
		}
		return s + ")"
	}
	return string(a.Kind)
}

// Term is one step of a failpoint's sequence: an action and when it fires.
// With no trigger it fires on every call that reaches it.
type Term struct {
	// Count > 0 uses the term up after it fired Count times ("3*").
	Count int
	// Percent in (0,100] fires with that probability ("5%").
	Percent float64
	// Every > 0 fires on every Every-th call that reaches the term ("%10").
	Every  int
	Action Action
}

// String writes the term in spec syntax.
func (t Term) String() string {
	var b strings.Builder
	if t.Count > 0 {
		b.WriteString(strconv.Itoa(t.Count))
		b.WriteByte('*')
	}
	if t.Percent > 0 {
		b.WriteString(strconv.FormatFloat(t.Percent, 'g', -1, 64))
		b.WriteByte('%')
	}
	if t.Every > 0 {
		b.WriteByte('%')
		b.WriteString(strconv.Itoa(t.Every))
	}
	b.WriteString(t.Action.String())
	return b.String()
}

// Failpoint is one parsed entry of a spec: a target (a module, optionally
// one C function of it) and the sequence of terms tried on each call.
type Failpoint struct {
	Module   string
	Function string // "" for every function of the module
	Terms    []Term
}

// Target writes module[.function], quoting names outside the bare-name
// alphabet.
func (f Failpoint) Target() string {
	s := quoteName(f.Module)
	if f.Function != "" {
		s += "." + quoteName(f.Function)
	}
	return s
}

// Sequence writes the terms joined by "->".
func (f Failpoint) Sequence() string {
	parts := make([]string, len(f.Terms))
	for i, t := range f.Terms {
		parts[i] = t.String()
	}
	return strings.Join(parts, "->")
}

// String writes the failpoint in spec syntax, target=sequence; Parse reads
// it back to an equal Failpoint.
func (f Failpoint) String() string { return f.Target() + "=" + f.Sequence() }

// Kinds returns the kinds of the failpoint's actions, Off left out.
func (f Failpoint) Kinds() []Kind {
	var ks []Kind
	for _, t := range f.Terms {
		if t.Action.Kind != Off {
			ks = append(ks, t.Action.Kind)
		}
	}
	return ks
}

// FormatSpec joins failpoints into one spec line.
func FormatSpec(fps []Failpoint) string {
	parts := make([]string, len(fps))
	for i, f := range fps {
		parts[i] = f.String()
	}
	return strings.Join(parts, ";")
}

// maxSpecLen bounds a spec, so an admin request cannot make the parser
// allocate without limit.
const maxSpecLen = 64 << 10

// Parse reads a failpoint spec: entries target=sequence separated by ";".
// The grammar is in the package documentation. An empty spec (or only
// spaces) is no failpoint. A target may appear once.
func Parse(spec string) ([]Failpoint, error) {
	if len(spec) > maxSpecLen {
		return nil, &SpecError{Spec: spec[:64] + "...", Pos: maxSpecLen, Msg: fmt.Sprintf("longer than %d bytes", maxSpecLen)}
	}
	p := &parser{s: spec}
	var out []Failpoint
	seen := map[string]bool{}
	for {
		p.space()
		if p.eof() {
			break
		}
		start := p.i
		f, err := p.entry()
		if err != nil {
			return nil, err
		}
		if seen[f.Target()] {
			return nil, p.errAt(start, "target %s appears twice", f.Target())
		}
		seen[f.Target()] = true
		out = append(out, f)
		p.space()
		if p.eof() {
			break
		}
		if !p.lit(";") {
			return nil, p.err("want ';' between failpoints, found %q", p.rest(8))
		}
	}
	return out, nil
}

// ParseTarget reads a target alone: module[.function].
func ParseTarget(target string) (module, function string, err error) {
	p := &parser{s: target}
	p.space()
	f, err := p.target()
	if err != nil {
		return "", "", err
	}
	p.space()
	if !p.eof() {
		return "", "", p.err("unexpected %q after the target", p.rest(8))
	}
	return f.Module, f.Function, nil
}

type parser struct {
	s string
	i int
}

func (p *parser) eof() bool { return p.i >= len(p.s) }

func (p *parser) rest(n int) string {
	r := p.s[p.i:]
	if len(r) > n {
		r = r[:n] + "..."
	}
	return r
}

func (p *parser) err(format string, args ...any) error { return p.errAt(p.i, format, args...) }

func (p *parser) errAt(pos int, format string, args ...any) error {
	return &SpecError{Spec: p.s, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

// lit consumes s if it comes next.
func (p *parser) lit(s string) bool {
	if strings.HasPrefix(p.s[p.i:], s) {
		p.i += len(s)
		return true
	}
	return false
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '-' || c == '/' || c == '@' || c == ':' || c == '+'
}

func quoteName(s string) string {
	if s == "" {
		return `""`
	}
	for i := 0; i < len(s); i++ {
		if !isNameByte(s[i]) {
			return strconv.Quote(s)
		}
	}
	return s
}

// name reads a bare name or a Go-quoted string.
func (p *parser) name(what string) (string, error) {
	if p.eof() {
		return "", p.err("want a %s name, found the end", what)
	}
	if p.s[p.i] == '"' {
		return p.quoted(what)
	}
	start := p.i
	for p.i < len(p.s) && isNameByte(p.s[p.i]) {
		p.i++
	}
	if p.i == start {
		return "", p.err("want a %s name (letters, digits, _-/@:+ or a quoted string), found %q", what, p.rest(8))
	}
	return p.s[start:p.i], nil
}

// quoted reads a Go double-quoted string naming what (a module or
// function name, which may not be empty).
func (p *parser) quoted(what string) (string, error) {
	start := p.i
	v, err := p.quotedString(what)
	if err == nil && v == "" {
		return "", p.errAt(start, "empty %s name", what)
	}
	return v, err
}

func (p *parser) quotedString(what string) (string, error) {
	start := p.i
	p.i++ // opening quote
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case '\\':
			p.i += 2
			continue
		case '"':
			p.i++
			v, err := strconv.Unquote(p.s[start:p.i])
			if err != nil {
				return "", p.errAt(start, "bad quoted %s: %v", what, err)
			}
			return v, nil
		}
		p.i++
	}
	return "", p.errAt(start, "unterminated quoted %s", what)
}

func (p *parser) target() (Failpoint, error) {
	var f Failpoint
	m, err := p.name("module")
	if err != nil {
		return f, err
	}
	f.Module = m
	if p.lit(".") {
		fn, err := p.name("function")
		if err != nil {
			return f, err
		}
		f.Function = fn
	}
	return f, nil
}

func (p *parser) entry() (Failpoint, error) {
	f, err := p.target()
	if err != nil {
		return f, err
	}
	p.space()
	if !p.lit("=") {
		return f, p.err("want '=' after the target %s, found %q", f.Target(), p.rest(8))
	}
	for {
		p.space()
		t, err := p.term()
		if err != nil {
			return f, err
		}
		f.Terms = append(f.Terms, t)
		p.space()
		if !p.lit("->") {
			break
		}
	}
	return f, nil
}

// number reads digits with an optional fraction; ok false when none.
func (p *parser) number() (string, bool) {
	start := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	if p.i == start {
		return "", false
	}
	if p.i+1 < len(p.s) && p.s[p.i] == '.' && p.s[p.i+1] >= '0' && p.s[p.i+1] <= '9' {
		p.i++
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
	}
	return p.s[start:p.i], true
}

func (p *parser) term() (Term, error) {
	var t Term
	start := p.i
	if n, ok := p.number(); ok {
		switch {
		case p.lit("*"):
			c, err := strconv.Atoi(n)
			if err != nil || c < 1 {
				return t, p.errAt(start, "count %q must be a whole number from 1", n)
			}
			t.Count = c
			if n2, ok := p.number(); ok {
				if !p.lit("%") {
					return t, p.err("want '%%' after %s (a probability) or an action", n2)
				}
				if err := t.setPercent(n2); err != nil {
					return t, p.errAt(start, "%v", err)
				}
			}
		case p.lit("%"):
			if err := t.setPercent(n); err != nil {
				return t, p.errAt(start, "%v", err)
			}
		default:
			return t, p.err("want '*' (a count) or '%%' (a probability) after %s", n)
		}
	}
	if t.Percent == 0 && p.lit("%") {
		at := p.i
		n, ok := p.number()
		if !ok {
			return t, p.err("want a number after '%%' (every Nth call)")
		}
		e, err := strconv.Atoi(n)
		if err != nil || e < 1 {
			return t, p.errAt(at, "every-Nth %q must be a whole number from 1", n)
		}
		t.Every = e
	}
	a, err := p.action()
	if err != nil {
		return t, err
	}
	t.Action = a
	return t, nil
}

func (t *Term) setPercent(n string) error {
	v, err := strconv.ParseFloat(n, 64)
	if err != nil || v <= 0 || v > 100 {
		return fmt.Errorf("probability %s%% must be above 0 and at most 100", n)
	}
	t.Percent = v
	return nil
}

func (p *parser) word() string {
	start := p.i
	for p.i < len(p.s) && (p.s[p.i] >= 'a' && p.s[p.i] <= 'z' || p.s[p.i] >= 'A' && p.s[p.i] <= 'Z') {
		p.i++
	}
	return p.s[start:p.i]
}

func (p *parser) action() (Action, error) {
	start := p.i
	w := p.word()
	var a Action
	if w == "" {
		return a, p.err("want an action (off, segv, bus, fpe, abort, hang, delay(D), errno(E), error(C,M)), found %q", p.rest(8))
	}
	a.Kind = Kind(strings.ToLower(w))
	switch a.Kind {
	case Off, Segv, Bus, FPE, Abort, Hang:
		return a, nil
	case Delay, Errno, Error:
	default:
		return a, p.errAt(start, "unknown action %q (off, segv, bus, fpe, abort, hang, delay(D), errno(E), error(C,M))", w)
	}
	p.space()
	if !p.lit("(") {
		return a, p.err("%s needs arguments in parentheses, e.g. %s", a.Kind, example(a.Kind))
	}
	p.space()
	switch a.Kind {
	case Delay:
		s := p.until(")")
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil || d <= 0 {
			return a, p.errAt(p.i-len(s), "delay(%s): want a positive duration such as 200ms", strings.TrimSpace(s))
		}
		a.Delay = d
	case Errno:
		s := strings.TrimSpace(p.until(")"))
		e, err := parseErrno(s)
		if err != nil {
			return a, p.errAt(p.i-len(s), "errno(%s): %v", s, err)
		}
		a.Errno = e
	case Error:
		s := strings.TrimSpace(p.until(",)"))
		c, err := strconv.Atoi(s)
		if err != nil {
			return a, p.errAt(p.i-len(s), "error(%s,...): the code must be an integer", s)
		}
		a.Code = c
		if !p.lit(",") {
			return a, p.err("error(CODE,MESSAGE) needs a message")
		}
		p.space()
		if !p.eof() && p.s[p.i] == '"' {
			m, err := p.quotedString("message")
			if err != nil {
				return a, err
			}
			a.Message = m
		} else {
			a.Message = strings.TrimSpace(p.until(",);"))
		}
		p.space()
		if p.lit(",") {
			p.space()
			s := strings.TrimSpace(p.until(")"))
			e, err := parseErrno(s)
			if err != nil {
				return a, p.errAt(p.i-len(s), "error(...,%s): %v", s, err)
			}
			a.Errno = e
		}
	}
	p.space()
	if !p.lit(")") {
		return a, p.err("want ')' to close %s(", a.Kind)
	}
	return a, nil
}

// until reads up to (not including) the first byte of stops.
func (p *parser) until(stops string) string {
	start := p.i
	for p.i < len(p.s) && !strings.ContainsRune(stops, rune(p.s[p.i])) {
		p.i++
	}
	return p.s[start:p.i]
}

func example(k Kind) string {
	switch k {
	case Delay:
		return "delay(200ms)"
	case Errno:
		return "errno(EIO)"
	case Error:
		return `error(7,"bad header")`
	}
	return string(k)
}
