package kinds

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/cgoguard/cgoguard/checklist"
)

// decode fills v (a pointer to a params struct with yaml tags) from a
// check's `with` map, strictly: every unknown key and every value of the
// wrong type is a *checklist.FieldError naming its key.
func decode(with map[string]any, v any) error { return checklist.DecodeWith(with, v) }

// fieldErr returns a *checklist.FieldError for the key path field.
func fieldErr(field, format string, args ...any) error {
	return &checklist.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// compile compiles an optional pattern, naming the key on error.
func compile(key, pat string) (*regexp.Regexp, error) {
	if pat == "" {
		return nil, nil
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return nil, fieldErr(key, "%v", err)
	}
	return re, nil
}

// mergeEnv appends KEY=VALUE pairs to base; later entries win.
func mergeEnv(base []string, extra map[string]string) []string {
	out := append([]string{}, base...)
	for k, v := range extra {
		out = append(out, k+"="+v)
	}
	return out
}

// shellQuote quotes argv for display.
func shellQuote(argv []string) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && !strings.ContainsAny(a, " \t\n'\"\\$`|&;<>()*?[]{}!#~") {
			parts[i] = a
			continue
		}
		parts[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(parts, " ")
}

// envPrefix renders extra environment for display, sorted.
func envPrefix(extra map[string]string) string {
	if len(extra) == 0 {
		return ""
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sortStrings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(shellQuote([]string{k + "=" + extra[k]}))
		b.WriteByte(' ')
	}
	return b.String()
}

// sortedMapKeys returns the keys of m, sorted, so that problems come in a
// stable order.
func sortedMapKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}
