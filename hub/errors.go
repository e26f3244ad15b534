package hub

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors shared by the store, the server and the client.
var (
	// ErrInvalid is matched by every *InvalidError: an upload or a query
	// that cannot be accepted as it is.
	ErrInvalid = errors.New("cgoguard: invalid hub input")
	// ErrUnknownFormat is returned for an upload whose format_version this
	// hub does not read. It also matches ErrInvalid.
	ErrUnknownFormat = errors.New("cgoguard: unknown upload format version")
	// ErrConflict is returned when a run id is reused with different
	// content: the first upload stays, the second is refused.
	ErrConflict = errors.New("cgoguard: run id already stored with different content")
	// ErrNotFound is returned for a run, check or token that does not exist.
	ErrNotFound = errors.New("cgoguard: not found")
	// ErrUnauthorized is returned for a missing, malformed, unknown or
	// revoked token.
	ErrUnauthorized = errors.New("cgoguard: invalid or revoked token")
	// ErrForbidden is returned when a valid token's role may not do what
	// was asked.
	ErrForbidden = errors.New("cgoguard: role not allowed")
)

// InvalidError lists what is wrong with an upload or a query, each
// problem naming its field. It matches ErrInvalid, and ErrUnknownFormat
// when the format version was the problem.
type InvalidError struct {
	// What names what was invalid ("upload", "token", "query"); empty
	// means "input".
	What string
	// Problems are "field: what is wrong" lines.
	Problems []string
	// Format is set when the format version is unknown.
	Format bool
}

// Error joins the problems.
func (e *InvalidError) Error() string {
	what := e.What
	if what == "" {
		what = "input"
	}
	switch len(e.Problems) {
	case 0:
		return "cgoguard: invalid " + what
	case 1:
		return "cgoguard: invalid " + what + ": " + e.Problems[0]
	}
	const most = 10
	p := e.Problems
	more := ""
	if len(p) > most {
		more = fmt.Sprintf("; and %d more", len(p)-most)
		p = p[:most]
	}
	return "cgoguard: invalid " + what + ": " + strings.Join(p, "; ") + more
}

// Is reports whether target is ErrInvalid, or ErrUnknownFormat for a
// format problem.
func (e *InvalidError) Is(target error) bool {
	return target == ErrInvalid || (e.Format && target == ErrUnknownFormat)
}

func (e *InvalidError) add(format string, args ...any) {
	e.Problems = append(e.Problems, fmt.Sprintf(format, args...))
}

func (e *InvalidError) orNil() error {
	if len(e.Problems) == 0 {
		return nil
	}
	return e
}
