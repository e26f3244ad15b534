package checklist

import (
	"bytes"
	"time"

	"go.yaml.in/yaml/v3"
)

// Source says which reviewed version of a checklist kept by a cgoguard hub
// ran, and whether it came from the hub or from the local cache because
// the hub could not be reached.
type Source struct {
	// Hub is the hub's base URL.
	Hub string `json:"hub"`
	// Name and Version identify the checklist version.
	Name    string `json:"name"`
	Version int    `json:"version"`
	// Digest is the SHA-256 of the checklist's YAML.
	Digest string `json:"digest,omitempty"`
	// Fetched is when the copy that ran was fetched from the hub.
	Fetched time.Time `json:"fetched"`
	// Cached is true when the hub was unreachable and the cached copy ran;
	// Offline says why the hub could not be used.
	Cached  bool   `json:"cached,omitempty"`
	Offline string `json:"offline,omitempty"`
}

// Locate sets the Column of each problem that has a line: the column of
// the first YAML node (key or value) that starts on that line of data,
// else the first character on the line that is not a blank or a list
// dash. Parse reports lines only; callers that show a position in an
// editor (the hub) call Locate with the same data.
func (e *ConfigError) Locate(data []byte) {
	first := map[int]int{}
	var root yaml.Node
	if yaml.Unmarshal(data, &root) == nil {
		var walk func(n *yaml.Node)
		walk = func(n *yaml.Node) {
			if n.Line > 0 && n.Kind != yaml.DocumentNode {
				if c, ok := first[n.Line]; !ok || n.Column < c {
					first[n.Line] = n.Column
				}
			}
			for _, c := range n.Content {
				walk(c)
			}
		}
		walk(&root)
	}
	lines := bytes.Split(data, []byte("\n"))
	for i := range e.Problems {
		p := &e.Problems[i]
		if p.Line <= 0 || p.Column > 0 {
			continue
		}
		if c, ok := first[p.Line]; ok {
			p.Column = c
			continue
		}
		if p.Line <= len(lines) {
			l := lines[p.Line-1]
			col := 1
			for col <= len(l) && (l[col-1] == ' ' || l[col-1] == '\t' || (l[col-1] == '-' && (col == len(l) || l[col] == ' '))) {
				col++
			}
			p.Column = col
		}
	}
}
