package report

import (
	"encoding/json"
	"io"

	"github.com/cgoguard/cgoguard/checklist"
)

func writeJSON(w io.Writer, r *checklist.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}
