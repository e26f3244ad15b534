// Package checklists holds the checklists shipped with cgoguard and the
// JSON Schema of the checklist format, embedded so the cgoguard binary
// carries them.
//
//   - cgo-reliability.yaml: 32 executable checks for Go programs that embed
//     C (memory, pointers, crashes, threads, errors, cleanup,
//     observability, build). `cgoguard check` runs it when no -f is given.
//   - schema.json: JSON Schema (draft 2020-12) of a checklist file, for
//     editors and CI linting.
//
// Example:
//
//	cl, err := checklist.Parse(checklists.DefaultName, checklists.Default, checklist.LoadOptions{})
//
// The variables are read-only; they are safe for concurrent use.
package checklists

import _ "embed"

// DefaultName is the path of the shipped checklist in the repository,
// used in messages and report locations.
const DefaultName = "checklists/cgo-reliability.yaml"

// Default is the shipped cgo reliability checklist.
//
//go:embed cgo-reliability.yaml
var Default []byte

// Schema is the JSON Schema of checklist files.
//
//go:embed schema.json
var Schema []byte
