package report

import (
	"fmt"
	"io"
	"time"

	"github.com/cgoguard/cgoguard/checklist"
)

// writeSource says which hub version of the checklist ran, and whether it
// was the cached copy because the hub could not be reached.
func writeSource(w io.Writer, r *checklist.Result) {
	s := r.Source
	if s == nil {
		return
	}
	fmt.Fprintf(w, "checklist %s version %d from %s", oneLine(s.Name), s.Version, oneLine(s.Hub))
	if s.Cached {
		fmt.Fprintf(w, ": CACHED COPY fetched %s; the hub was unreachable (%s)", s.Fetched.UTC().Format(time.RFC3339), oneLine(s.Offline))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)
}
