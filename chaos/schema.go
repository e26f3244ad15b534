package chaos

import _ "embed"

// Schema is the JSON Schema (draft 2020-12) of experiment files, for
// editors and CI linting. ParseFile checks more than it does (failpoint
// syntax, regular expressions, variables).
//
//go:embed schema.json
var Schema []byte
