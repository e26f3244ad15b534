package kinds

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decode fills v (a pointer to a params struct with yaml tags) from a
// check's `with` map, strictly: unknown keys and wrong types are errors.
func decode(with map[string]any, v any) error {
	if len(with) == 0 {
		return nil
	}
	data, err := yaml.Marshal(with)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && err != io.EOF {
		return fmt.Errorf("%s", cleanErr(err))
	}
	return nil
}

var lineRef = regexp.MustCompile(`line \d+: `)

// cleanErr drops the line numbers of the re-encoded `with` (they are not
// the file's) and Go type names.
func cleanErr(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n")
	s = lineRef.ReplaceAllString(s, "")
	s = strings.Join(strings.Fields(s), " ")
	s = regexp.MustCompile(`in type kinds\.\w+`).ReplaceAllString(s, "")
	return strings.TrimSpace(s)
}

// compile compiles an optional pattern, naming the key on error.
func compile(key, pat string) (*regexp.Regexp, error) {
	if pat == "" {
		return nil, nil
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", key, err)
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
